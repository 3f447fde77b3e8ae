#!/usr/bin/env bash
# make demo: starts the local stack (moto as AWS, the Kubernetes emulator as the EKS clusters),
# applies the example Jenkins-on-EKS stack through real Terraform (the pinned 1.15 from the
# project venv, or DEMO_TERRAFORM; the provider from the debug build, installed by `terraform init`
# from a filesystem mirror), prints what was created,
# then shows that a second plan is empty. The stack stops on exit unless KEEP_STACK=1.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${TFPJ_VENV:-$root/.venv}"
target="${CARGO_TARGET_DIR:-$root/target}"
stack="${DEMO_STACK_DIR:-$root/.stack}"
work="${DEMO_WORK_DIR:-$root/.demo}"
tf="${DEMO_TERRAFORM:-$venv/bin/terraform}"

echo "==> Local stack"
"$venv/bin/python" "$root/acceptance-tests/stack/stack.py" down --dir "$stack" >/dev/null 2>&1 || true
"$venv/bin/python" "$root/acceptance-tests/stack/stack.py" up --dir "$stack" --emulator "$target/debug/kube-emulator"
if [ "${KEEP_STACK:-0}" = "1" ]; then
  echo "    (kept running: source .stack/env; make stack-down when done)"
else
  trap '"$venv/bin/python" "$root/acceptance-tests/stack/stack.py" down --dir "$stack" >/dev/null 2>&1 || true' EXIT
fi
# shellcheck disable=SC1091
source "$stack/env"

# What the platform team already has: two EKS clusters and Jenkins' namespace from the Helm chart.
for cluster in controller remote; do
  "$venv/bin/aws" eks create-cluster --name "$cluster" --role-arn "arn:aws:iam::123456789012:role/eks" \
    --resources-vpc-config subnetIds=subnet-1 >/dev/null
done
# `helm install jenkins jenkins/jenkins` into namespace jenkins, as the local stack stands for it: the
# chart's objects (controller StatefulSet with its config-reload containers, service account, the
# default JCasC ConfigMap, RBAC, Services), a Jenkins stand-in serving the configuration-as-code
# endpoints, and the chart's real reload sidecar (kiwigrid/k8s-sidecar from ../shared/third_party)
# watching ConfigMaps as the controller's service account.
# It stops with this script unless KEEP_STACK=1 (then `stack.py jenkins-down --dir .stack/jenkins`).
watch_parent=(--parent-pid $$)
[ "${KEEP_STACK:-0}" = "1" ] && watch_parent=()
"$venv/bin/python" "$root/acceptance-tests/stack/stack.py" jenkins-up --stack-dir "$stack" --dir "$stack/jenkins" \
  --namespace jenkins --release jenkins "${watch_parent[@]}" > "$stack/jenkins.json"
# Only the provider's own `terraform` runs read these: Jenkins' URL and an API token (never in state).
JENKINS_URL="$("$venv/bin/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$stack/jenkins.json")"
JENKINS_USER=admin
JENKINS_API_TOKEN="$("$venv/bin/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["users"]["admin"]["token"])' "$stack/jenkins.json")"
export JENKINS_URL JENKINS_USER JENKINS_API_TOKEN
echo "    EKS clusters controller and remote registered; the Helm chart's Jenkins runs at $JENKINS_URL"
echo "    with its reload sidecar watching label jenkins-jenkins-config in namespace jenkins"

# The stack, in dependency order: each file is also a registry example that the tests apply.
parts=(
  examples/provider/provider.tf
  examples/resources/jenkins_pod_template/resource.tf
  examples/resources/jenkins_agent_cloud/resource.tf
  examples/demo/stack.tf
)
rm -rf "$work"
mkdir -p "$work"
for p in "${parts[@]}"; do
  printf '# --- %s\n' "$p" >> "$work/main.tf"
  cat "$root/$p" >> "$work/main.tf"
  printf '\n' >> "$work/main.tf"
done

# The provider as users install it: the debug build packed as a release is (release/pack.py, as
# `make release` does) into a filesystem mirror that `terraform init` installs from, writing the
# lock file. No dev_overrides, so no development-overrides warning.
"$venv/bin/python" "$root/release/pack.py" pack --compress-level 1 --binary "$target/debug/terraform-provider-jenkins" \
  --out "$work/dist" >/dev/null
cat > "$work/mirror.tfrc" <<RC
provider_installation {
  filesystem_mirror {
    path    = "$work/dist/mirror"
    include = ["registry.terraform.io/jenkins-eks/jenkins"]
  }
  direct {
    exclude = ["registry.terraform.io/jenkins-eks/jenkins"]
  }
}
RC
export TF_CLI_CONFIG_FILE="$work/mirror.tfrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
cd "$work"
"$tf" init -input=false -no-color > "$work/init.txt" 2>&1 || { cat "$work/init.txt" >&2; exit 1; }
echo
echo "==> terraform init: $(grep -E '^- Installed' "$work/init.txt" | sed 's/^- //'), locked in .terraform.lock.hcl"

echo
echo "==> terraform plan of the whole stack ($("$tf" version | head -1)): each effective pod is dry-run in its own cluster as the plugin's identity"
"$tf" plan -input=false -no-color -out="$work/stack.tfplan" > "$work/plan.txt" 2>&1 || { cat "$work/plan.txt" >&2; exit 1; }
# What this apply creates first (the chain's ConfigMap, the IRSA service account, the remote access)
# and what is known only during apply is checked when the apply plans each cloud again.
awk '/^Warning: /{print "    " $0; getline; getline; print "      " $0}' "$work/plan.txt"
# A cloud with `Agent Pods Not Checked` at plan had a check deferred to the apply; the others passed.
"$tf" show -json "$work/stack.tfplan" | "$venv/bin/python" -c '
import json, re, sys
text = open(sys.argv[1]).read()
deferred = set(re.findall(r"^Warning: Agent Pods Not Checked\n\n  with (jenkins_agent_cloud\.[\w-]+),", text, re.M))
for rc in json.load(sys.stdin)["resource_changes"]:
    if rc["type"] == "jenkins_agent_cloud" and "create" in rc["change"]["actions"]:
        after, name = rc["change"]["after"], rc["change"]["after"]["name"]
        if rc["address"] in deferred or not after.get("template_ids"):
            print(f"    preflight of {name}: not all of it could run at plan; it runs when the apply plans the cloud again")
            continue
        where = after.get("server_url") or "the controller cluster"
        for t in sorted(after["template_ids"]):
            print(f"    preflight passed at plan: {name}/{t} in {where} (dry run, references, IRSA trust; what this apply creates is checked again during apply)")
' "$work/plan.txt"

echo
echo "==> terraform apply of that plan (one apply for the whole stack)"
"$tf" apply -input=false -no-color "$work/stack.tfplan" > "$work/apply.txt" 2>&1 || { cat "$work/apply.txt" >&2; exit 1; }
grep -E '^(jenkins_|Apply complete)' "$work/apply.txt"
# During the apply every input is known: a check that still could not run means the demo proves nothing.
if grep -q '^Warning: Agent Pods Not Checked' "$work/apply.txt"; then
  awk '/^Warning: Agent Pods Not Checked/{w=1;n=0} w{print "    " $0; if ($0 == "" && ++n == 3) w=0}' "$work/apply.txt"
  echo "some agent pods were not checked during the apply" >&2
  exit 1
fi
# Each cloud was planned again during the apply, after what it needs existed, and every preflight
# passed then (an error there fails the apply before the cloud's ConfigMap is written).
"$tf" show -json | "$venv/bin/python" -c '
import json, sys
for r in json.load(sys.stdin)["values"]["root_module"]["resources"]:
    if r["type"] == "jenkins_agent_cloud":
        v = r["values"]
        name, where = v["name"], v.get("server_url") or "the controller cluster"
        for t in sorted(v["template_ids"]):
            print(f"    preflight passed during apply: {name}/{t} in {where}")
'

echo
echo "==> Created"
"$tf" state list | sed 's/^/    /'
"$tf" show -json | "$venv/bin/python" "$root/examples/demo/show.py"

echo "==> A second opinion: every effective pod dry-run again with kubectl as the plugin's identity"
"$tf" show -json | "$venv/bin/python" "$root/examples/demo/preflight.py"
echo

echo "==> What Jenkins runs (its configuration-as-code export, after the sidecar's reload)"
"$venv/bin/python" "$root/examples/demo/live_clouds.py"
echo "    sidecar files: $(cd "$stack/jenkins/casc_configs" && find . -name '*.yaml' | sort | tr '\n' ' ')"
echo

echo "==> In the controller cluster (kubectl)"
kubectl --context controller -n jenkins get configmaps -l jenkins-jenkins-config=true
kubectl --context controller -n jenkins get secrets -l jenkins.io/credentials-type
kubectl --context controller -n jenkins get serviceaccount jenkins-serviceaccount \
  -o jsonpath='{.metadata.name}: {.metadata.annotations.eks\.amazonaws\.com/role-arn}{"\n"}'
echo
echo "==> In the remote cluster (kubectl)"
kubectl --context remote -n jenkins-agents get serviceaccounts,roles,rolebindings
echo
echo "==> In AWS (moto)"
"$venv/bin/aws" iam get-role --role-name jenkins-ci-role --query 'Role.Arn' --output text

echo
echo "==> Second plan (must be empty)"
set +e
"$tf" plan -detailed-exitcode -input=false -no-color > "$work/plan.txt" 2>&1
code=$?
grep -E "^(No changes|Plan:)" "$work/plan.txt" | sed 's/^/    /'
set -e
if [ "$code" -ne 0 ]; then
  echo "second plan is not empty (exit $code)" >&2
  exit 1
fi
echo "==> Clean: no changes on the second plan."
