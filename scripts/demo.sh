#!/usr/bin/env bash
# The main job end to end with the embedded default stack, on this machine, without an AWS
# account: validate the stack file, plan, render the template and lint it with cfn-lint.
# (Deploying it, `stackctl up`, arrives with the deploy engine.)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install-dev-tools.sh
venv="${STACKCTL_VENV:-$PWD/.venv}"
cargo build --locked --quiet
bin="${CARGO_TARGET_DIR:-target}/debug/stackctl"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

set -x
"$bin" validate
"$bin" plan
"$bin" render --out "$work/template.yaml"
"$venv/bin/cfn-lint" "$work/template.yaml"
set +x
echo "demo: the default stack validates, plans, renders and passes cfn-lint"
