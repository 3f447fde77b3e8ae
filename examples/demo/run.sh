#!/usr/bin/env bash
# make demo: applies the example Jenkins-on-EKS stack through real Terraform (the pinned 1.15 from
# the project venv, the provider from the debug build via dev_overrides), prints what was created,
# then shows that a second plan is empty.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${TFPJ_VENV:-$root/.venv}"
target="${CARGO_TARGET_DIR:-$root/target}"
work="$root/.demo"
tf="$venv/bin/terraform"
mkdir -p "$work"

# The stack, in dependency order: each file is also a registry example that the tests apply.
parts=(
  examples/provider/provider.tf
  examples/resources/jenkins_pod_template/resource.tf
)
: > "$work/main.tf"
for p in "${parts[@]}"; do
  printf '# --- %s\n' "$p" >> "$work/main.tf"
  cat "$root/$p" >> "$work/main.tf"
  printf '\n' >> "$work/main.tf"
done

cat > "$work/dev.tfrc" <<RC
provider_installation {
  dev_overrides {
    "registry.terraform.io/jenkins-eks/jenkins" = "$target/debug"
  }
  direct {}
}
RC
export TF_CLI_CONFIG_FILE="$work/dev.tfrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
cd "$work"

echo "==> terraform apply ($("$tf" version | head -1))"
"$tf" apply -auto-approve -input=false -no-color | grep -v '^$'

echo
echo "==> Created"
"$tf" state list
echo
"$tf" show -json | "$venv/bin/python" -c '
import json, sys
state = json.load(sys.stdin)
for r in state["values"]["root_module"]["resources"]:
    if r["type"] == "jenkins_pod_template":
        v = r["values"]
        print(f"--- {r[\"address\"]}: id {v[\"id\"]}, JCasC template definition:")
        print(v["definition"])
'

echo "==> Second plan (must be empty)"
set +e
"$tf" plan -detailed-exitcode -input=false -no-color | tail -n 3
code=${PIPESTATUS[0]}
set -e
if [ "$code" -ne 0 ]; then
  echo "second plan is not empty (exit $code)" >&2
  exit 1
fi
echo "==> Clean: no changes on the second plan."
