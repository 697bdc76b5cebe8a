#!/usr/bin/env bash
# Start-up time of `stackctl --help` (target: under 20 ms), side by side with the AWS CLI's
# `aws --version`, the cheapest command of the peer most tutorials use. Uses hyperfine
# (Debian package `hyperfine`) when present, else /usr/bin/time over a loop.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv="${STACKCTL_VENV:-$PWD/.venv}"
scripts/install-dev-tools.sh
[[ -x "$venv/bin/aws" ]] || "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "awscli==1.46.3"
cargo build --locked --release --quiet
bin="${CARGO_TARGET_DIR:-target}/release/stackctl"

if command -v hyperfine >/dev/null; then
  hyperfine --warmup 3 --runs 30 -N "$bin --help" "$venv/bin/aws --version"
else
  for cmd in "$bin --help" "$venv/bin/aws --version"; do
    echo "== $cmd (30 runs)"
    /usr/bin/time -f "%e s total" bash -c "for i in \$(seq 30); do $cmd >/dev/null 2>&1; done"
  done
fi
