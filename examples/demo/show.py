"""Prints what `make demo` created, from `terraform show -json` on stdin (the effective pods from
the stack's `effective_pods` output, which the provider's `effective_pod` function renders)."""

import json
import sys

import yaml

state = json.load(sys.stdin)
pods = state["values"].get("outputs", {}).get("effective_pods", {}).get("value", {})
for resource in state["values"]["root_module"]["resources"]:
    address, kind, values = resource["address"], resource["type"], resource["values"]
    if kind == "jenkins_pod_template":
        print(f"\n--- {address}: template id {values['id']}, JCasC definition:")
        print(values["definition"])
    elif kind == "jenkins_irsa_role":
        print(f"\n--- {address}: {values['arn']}, trust policy:")
        print(values["trust_policy"])
    elif kind == "jenkins_cross_account_chain":
        print(f"\n--- {address}: the shared AWS config every build pod mounts:")
        print(values["config_ini"])
        print("container env:", ", ".join(f"{k}={v}" for k, v in sorted(values["container_env"].items())))
    elif kind == "jenkins_remote_cluster_access":
        print(f"\n--- {address}: {values['server_url']}, credential {values['credentials_id']!r},"
              f" token sha256 {values['token_sha256'][:12]}... (the token itself is not in state)")
    elif kind == "jenkins_agent_cloud":
        print(f"\n--- {address}: ConfigMap {values['configmap_name']}, key {values['data_key']},"
              f" file sha256 {values['casc_sha256'][:12]}...")
        for name, pod in pods.get(values["name"], {}).items():
            if name != "base":
                print(f"\n--- effective pod of template {name!r} (inheritance and YAML merge applied):")
                print(yaml.safe_dump(pod, sort_keys=False), end="")
