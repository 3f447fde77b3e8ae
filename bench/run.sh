#!/usr/bin/env bash
# make bench: release-build figures against Terraform's built-in terraform_data as the floor.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${TFPJ_VENV:-$root/.venv}"
exec "$venv/bin/python" "$root/bench/bench.py" \
  --provider "${CARGO_TARGET_DIR:-$root/target}/release/terraform-provider-jenkins" \
  --terraform "$venv/bin/terraform" --out "$root/bench/out" --clouds --plan-sizes "$@"
