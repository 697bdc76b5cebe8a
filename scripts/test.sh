#!/usr/bin/env bash
# Runs every test of stackctl: formatting, clippy, unit tests and the integration tests
# (local AWS emulator, cfn-lint on every rendered template, checkov on the default), then the
# wire-model check: every request the integration tests sent, validated against botocore's
# service models (scripts/wire-check.py). Installs the pinned dev tools first, so it works on a
# fresh machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install-dev-tools.sh
venv="${STACKCTL_VENV:-$PWD/.venv}"

# The integration tests append every request they send to the emulator here; a fresh log per
# run, so the check sees exactly this run's requests.
target="${CARGO_TARGET_DIR:-target}"
[[ "$target" = /* ]] || target="$PWD/$target"
export STACKCTL_WIRE_LOG="$target/wire-log"
rm -rf "$STACKCTL_WIRE_LOG"

cargo fmt --all --check
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked --all-targets

"$venv/bin/python" scripts/wire-check.py --self-test
"$venv/bin/python" scripts/wire-check.py "$STACKCTL_WIRE_LOG"
