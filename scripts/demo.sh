#!/usr/bin/env bash
# The main job end to end with the embedded default stack, on this machine, without an AWS
# account: validate and plan the stack, render and lint the template, deploy it to the local
# AWS emulator (moto_server), read its outputs and status, stage a small COCO-shaped data set
# (twice: the second run sends nothing) and show it, push the images (with a stand-in for
# docker), submit both Mask R-CNN images, Detectron2 (dry run) and object detection, render an EKS MPIJob, list
# them, show one's summary, logs and metrics, delete the stack again, list the data it kept
# and delete that too. (The emulator
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
"$venv/bin/python" scripts/moto-server.py -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto=$!
trap 'kill "$moto" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1
export AWS_ENDPOINT_URL="http://127.0.0.1:$port"

# A small COCO-shaped tree (the real one is 19 GB: `data stage --download coco2017` fetches it).
python3 - "$work/coco" <<'PY'
import os, sys
root = sys.argv[1]
for d in ["train2017", "val2017", "annotations", "pretrained-models"]:
    os.makedirs(os.path.join(root, d))
for split, n in [("train2017", 40), ("val2017", 10)]:
    for i in range(n):
        with open(os.path.join(root, split, f"{i:012d}.jpg"), "wb") as f:
            f.write(os.urandom(4096))
for split in ["train2017", "val2017"]:
    with open(os.path.join(root, "annotations", f"instances_{split}.json"), "w") as f:
        f.write('{"images": [], "annotations": [], "categories": []}')
with open(os.path.join(root, "pretrained-models", "ImageNet-R50-AlignPadding.npz"), "wb") as f:
    f.write(os.urandom(9 * 1024 * 1024))
# Detectron2 reads coco/ under its own prefix; object detection two RecordIO folders.
for rel in ["coco/annotations/instances_train2017.json", "coco/annotations/instances_val2017.json",
            "coco/train2017/000000000009.jpg", "coco/val2017/000000000139.jpg"]:
    os.makedirs(os.path.dirname(os.path.join(root + "-detectron2", rel)), exist_ok=True)
    with open(os.path.join(root + "-detectron2", rel), "w") as f:
        f.write("{}")
for rel in ["train/train.rec", "validation/val.rec"]:
    os.makedirs(os.path.dirname(os.path.join(root + "-voc", rel)), exist_ok=True)
    with open(os.path.join(root + "-voc", rel), "wb") as f:
        f.write(os.urandom(4096))
PY

# A stand-in for docker, so `image push` runs end to end without a Docker engine: login reads
# the token from stdin, build does nothing, and push registers an empty image manifest with the
# emulator's ECR (what a real push leaves behind for `job submit` to find).
cat >"$work/docker" <<SH
#!/bin/sh
case "\$1" in
  login) cat >/dev/null ;;
  push) "$venv/bin/python" - "\$2" "\${3:-}" <<'PY'
import json, sys, boto3
registry, _, rest = sys.argv[1].partition("/")  # argv[2]: --create-repository (demo only)
repository, _, tag = rest.rpartition(":")
manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2,
                       "digest": "sha256:" + "0" * 64}, "layers": []}
# stackctl runs docker without the AWS environment, so the emulator is named here.
ecr = boto3.client("ecr", region_name="$AWS_REGION", endpoint_url="$AWS_ENDPOINT_URL",
                   aws_access_key_id="demo", aws_secret_access_key="demo")
if "--create-repository" in sys.argv:
    ecr.create_repository(repositoryName=repository)
ecr.put_image(repositoryName=repository, imageTag=tag, imageManifest=json.dumps(manifest))
print(f"pushed {sys.argv[1]} (stand-in: an empty manifest)")
PY
  ;;
esac
SH
chmod +x "$work/docker"

set -x
"$bin" validate
"$bin" plan
"$bin" render --out "$work/template.yaml"
"$venv/bin/cfn-lint" "$work/template.yaml"
"$bin" up --yes
"$bin" up
"$bin" doctor
"$bin" outputs --format env
"$bin" status
"$bin" data stage --from "$work/coco"
"$bin" data stage --from "$work/coco"
"$bin" data status
"$bin" data stage --model detectron2 --from "$work/coco-detectron2"
"$bin" data stage --model object-detection --from "$work/coco-voc"
"$bin" image push --model tensorpack --dry-run
"$bin" image push --model tensorpack --docker "$work/docker" --context "$work/image-tensorpack"
"$bin" image push --model aws-samples --docker "$work/docker" --context "$work/image-aws-samples"
# Detectron2's image is built from aws-samples/amazon-sagemaker-detectron2, not by stackctl.
"$work/docker" push 123456789012.dkr.ecr.us-east-1.amazonaws.com/detectron2-sagemaker:latest --create-repository
"$bin" job submit --model tensorpack --data efs --name demo-tensorpack
"$bin" job submit --model aws-samples --spot --name demo-aws-samples
"$bin" job submit --model detectron2 -p "opts=SOLVER.MAX_ITER 20000" --name demo-detectron2 --dry-run
"$bin" job submit --model object-detection --name demo-object-detection
"$bin" job render --target mpijob --model tensorpack --out "$work/mpijob.yaml" \
  --image "123456789012.dkr.ecr.us-east-1.amazonaws.com/mask-rcnn-tensorpack:latest"
"$bin" job list
"$bin" job wait demo-tensorpack
# The emulator runs no container and writes no logs: feed it a recorded-format sample of what
# the tensorpack image prints on two hosts (scripts/demo/tensorpack-logs.py says so too).
set +x
echo "demo: the next log lines are a recorded-format SAMPLE of the tensorpack image's output, not a training run"
set -x
"$venv/bin/python" scripts/demo/tensorpack-logs.py demo-tensorpack "$AWS_REGION" "$AWS_ENDPOINT_URL"
"$bin" job logs demo-tensorpack
"$bin" job metrics demo-tensorpack --plot "$work/metrics.svg"
set +x
if command -v rsvg-convert >/dev/null; then
  rsvg-convert -o "$work/metrics.png" "$work/metrics.svg" && echo "demo: plot converted to $work/metrics.png"
elif convert -version 2>/dev/null | grep -q ImageMagick; then
  convert "$work/metrics.svg" "$work/metrics.png" && echo "demo: plot converted to $work/metrics.png"
else
  echo "demo: no SVG converter (rsvg-convert, ImageMagick) installed; the plot stays SVG"
fi
# The work directory goes at exit; STACKCTL_DEMO_OUT=DIR keeps the plot.
if [[ -n "${STACKCTL_DEMO_OUT:-}" ]]; then
  mkdir -p "$STACKCTL_DEMO_OUT" && cp "$work"/metrics.* "$STACKCTL_DEMO_OUT"/
fi
set -x
"$bin" down --yes
"$bin" down --yes
# The kept bucket and file system are found by their tags, then deleted on request.
"$bin" status
"$bin" down --yes --delete-data
set +x
echo "demo: the default stack was validated, linted, deployed to the emulator and deleted again, and its kept data deleted on request"
