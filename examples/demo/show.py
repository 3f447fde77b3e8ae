"""Prints what `make demo` created, from `terraform show -json` on stdin."""

import json
import sys

state = json.load(sys.stdin)
for resource in state["values"]["root_module"]["resources"]:
    address, kind, values = resource["address"], resource["type"], resource["values"]
    if kind == "jenkins_pod_template":
        print(f"\n--- {address}: template id {values['id']}, JCasC definition:")
        print(values["definition"])
    elif kind == "jenkins_agent_cloud":
        print(f"\n--- {address}: ConfigMap {values['configmap_name']}, key {values['data_key']}")
        for name, pod in values["effective_pods"].items():
            if name != "base":
                print(f"\n--- effective pod of template {name!r} (inheritance and YAML merge applied):")
                print(pod)
