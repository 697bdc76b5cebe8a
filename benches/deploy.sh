#!/usr/bin/env bash
# Deploy and delete the default stack on the local emulator, side by side in one run:
#   A: stackctl up --yes && stackctl down --yes
#   B: aws cloudformation deploy + delete-stack + wait stack-delete-complete (AWS CLI, PyPI)
# with the same rendered template, and count the API requests each makes (from the emulator's
# request log). Uses hyperfine (Debian package `hyperfine`) when present.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv="${STACKCTL_VENV:-$PWD/.venv}"
scripts/install-dev-tools.sh
[[ -x "$venv/bin/aws" ]] || "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "awscli==1.46.3"
cargo build --locked --release --quiet
bin="${CARGO_TARGET_DIR:-$PWD/target}/release/stackctl"
work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$venv/bin/python" scripts/moto-server.py -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto=$!
trap 'kill "$moto" 2>/dev/null || true; rm -rf "$work"' EXIT
sleep 2
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
"$bin" render --out "$work/template.yaml"

cat >"$work/stackctl.sh" <<EOS
"$bin" up --yes -q >/dev/null && "$bin" down --yes -q >/dev/null
EOS
cat >"$work/awscli.sh" <<EOS
"$venv/bin/aws" cloudformation deploy --template-file "$work/template.yaml" --stack-name mask-rcnn --capabilities CAPABILITY_IAM >/dev/null
"$venv/bin/aws" cloudformation delete-stack --stack-name mask-rcnn >/dev/null 2>&1 || true
"$venv/bin/aws" cloudformation wait stack-delete-complete --stack-name mask-rcnn
EOS

requests() { grep -c '"POST \|"GET ' "$work/moto.log" || true; }
for tool in stackctl awscli; do
  before=$(requests); bash "$work/$tool.sh"; after=$(requests)
  echo "$tool: $((after - before)) API requests for one deploy + delete"
done

if command -v hyperfine >/dev/null; then
  hyperfine --warmup 1 --runs 10 "bash $work/stackctl.sh" "bash $work/awscli.sh"
else
  for tool in stackctl awscli; do
    /usr/bin/time -f "$tool: %e s for 10 runs" bash -c "for i in \$(seq 10); do bash $work/$tool.sh; done"
  done
fi
