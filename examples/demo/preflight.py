"""A second opinion on the provider's preflight, for `make demo`: dry-runs every effective pod of
every `jenkins_agent_cloud` in its own cluster with kubectl, as the identity the Kubernetes plugin
uses there, and looks up the ConfigMaps, Secrets and PVCs it names. Reads `terraform show -json`
on stdin (the pods from the stack's `effective_pods` output); exits 1 when a pod would not start.

Independent of the provider's Rust code on purpose: only the placeholder convention of the
effective pods (`(runtime)`, `(plugin default)`) is shared.
"""

import json
import subprocess
import sys


JENKINS_NAMESPACE = "jenkins"


def fill(value):
    """The pod as the plugin would send it: placeholders replaced by plausible values."""
    if isinstance(value, dict):
        return {k: fill(v) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v) for v in value]
    if isinstance(value, str):
        return value.replace("(runtime)", "preflight").replace("(plugin default)", "latest")
    return value


def references(pod):
    """(kind, name) of every non-optional ConfigMap, Secret and PVC the pod names."""
    spec = pod.get("spec", {})
    found = set()
    for v in spec.get("volumes", []):
        if "configMap" in v and not v["configMap"].get("optional"):
            found.add(("configmap", v["configMap"]["name"]))
        if "secret" in v and not v["secret"].get("optional"):
            found.add(("secret", v["secret"]["secretName"]))
        if "persistentVolumeClaim" in v:
            found.add(("persistentvolumeclaim", v["persistentVolumeClaim"]["claimName"]))
    for c in spec.get("initContainers", []) + spec.get("containers", []):
        for f in c.get("envFrom", []):
            for key, kind in (("configMapRef", "configmap"), ("secretRef", "secret")):
                if key in f and not f[key].get("optional"):
                    found.add((kind, f[key]["name"]))
        for e in c.get("env", []):
            for key, kind in (("configMapKeyRef", "configmap"), ("secretKeyRef", "secret")):
                ref = e.get("valueFrom", {}).get(key)
                if ref and not ref.get("optional"):
                    found.add((kind, ref["name"]))
    for s in spec.get("imagePullSecrets", []):
        found.add(("secret", s["name"]))
    return sorted(found)


def kubectl(context, args, stdin=None):
    out = subprocess.run(["kubectl", "--context", context] + args, input=stdin, capture_output=True, text=True)
    return out.returncode == 0, (out.stdout + out.stderr).strip()


def controller_service_account():
    """The service account of the chart's controller StatefulSet: who the plugin is in its own cluster."""
    ok, out = kubectl("controller", ["-n", JENKINS_NAMESPACE, "get", "statefulsets", "-l",
                                     "app.kubernetes.io/component=jenkins-controller", "-o",
                                     "jsonpath={.items[0].spec.template.spec.serviceAccountName}"])
    if not ok or not out:
        sys.exit(f"no controller StatefulSet in namespace {JENKINS_NAMESPACE}: {out}")
    return out


def main():
    state = json.load(sys.stdin)
    resources = state["values"]["root_module"]["resources"]
    pods = state["values"]["outputs"]["effective_pods"]["value"]
    accesses = [r["values"] for r in resources if r["type"] == "jenkins_remote_cluster_access"]
    failed = False
    for cloud in (r["values"] for r in resources if r["type"] == "jenkins_agent_cloud"):
        if cloud.get("server_url"):
            access = next(a for a in accesses if a["server_url"] == cloud["server_url"])
            context, where = "remote", f"remote cluster {cloud['server_url']}"
            user = f"system:serviceaccount:{access['namespace']}:{access['service_account']}"
        else:
            context, where = "controller", "controller cluster"
            user = f"system:serviceaccount:{JENKINS_NAMESPACE}:{controller_service_account()}"
        for template, rendered in sorted(pods[cloud["name"]].items()):
            pod = fill(rendered)
            pod["metadata"]["name"] = f"{template}-preflight-demo"
            ns = pod["metadata"].get("namespace") or cloud.get("namespace") or JENKINS_NAMESPACE
            pod["metadata"]["namespace"] = ns
            ok, out = kubectl(context, ["create", "--dry-run=server", "--as", user, "-o", "name", "-f", "-"],
                              json.dumps(pod))
            missing = [f"{k} {n}" for k, n in references(pod) if not kubectl(context, ["-n", ns, "get", k, n])[0]]
            if ok and not missing:
                print(f"    PASS {cloud['name']}/{template}: dry run in the {where}, namespace {ns}, as {user};"
                      f" {len(references(pod))} references present")
            else:
                failed = True
                why = out if not ok else "missing " + ", ".join(missing)
                print(f"    FAIL {cloud['name']}/{template} in the {where}, namespace {ns}: {why}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
