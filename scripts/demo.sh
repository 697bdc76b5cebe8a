#!/usr/bin/env bash
# The main job end to end with the embedded default stack, on this machine, without an AWS
# account: validate and plan the stack, render and lint the template, deploy it to the local
# AWS emulator (moto_server), read its outputs and status, submit both Mask R-CNN images, list
# them, show one's summary, logs and metrics, and delete the stack again. (The emulator
# completes jobs at once and writes no logs, so logs and metrics are empty there.)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install-dev-tools.sh
venv="${STACKCTL_VENV:-$PWD/.venv}"
cargo build --locked --quiet
bin="$PWD/${CARGO_TARGET_DIR:-target}/debug/stackctl"
[[ "${CARGO_TARGET_DIR:-}" == /* ]] && bin="$CARGO_TARGET_DIR/debug/stackctl"
work="$(mktemp -d)"

# The emulator on 127.0.0.1 and a free port; fake credentials that only it accepts.
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto=$!
trap 'kill "$moto" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1
export AWS_ENDPOINT_URL="http://127.0.0.1:$port"

set -x
"$bin" validate
"$bin" plan
"$bin" render --out "$work/template.yaml"
"$venv/bin/cfn-lint" "$work/template.yaml"
"$bin" up --yes
"$bin" up
"$bin" outputs --format env
"$bin" status
"$bin" job submit --model tensorpack --data efs --name demo-tensorpack
"$bin" job submit --model aws-samples --spot --name demo-aws-samples
"$bin" job list
"$bin" job wait demo-tensorpack
"$bin" job logs demo-tensorpack
"$bin" job metrics demo-tensorpack --plot "$work/metrics.svg"
"$bin" down --yes
"$bin" down --yes
set +x
echo "demo: the default stack was validated, linted, deployed to the emulator and deleted again"
