#!/bin/bash
# Entrypoint (PID 1) of the stackctl training images; replaces the deep learning container's
# start_with_right_hostname.sh, which has two faults for these images:
# - it reads and writes changehostname.c relative to the working directory, so any WORKDIR
#   but / silently leaves gethostname() at the container's own name instead of algo-N (MPI
#   and NCCL then see every host as the same one);
# - it runs `train` as a child, so the SIGTERM of StopTrainingJob or a spot interruption
#   stops at PID 1 and the training is killed (SIGKILL) without saving.
# Here the paths are absolute and the command is exec'd: the training's own handler gets
# SIGTERM. SAGEMAKER_BASE_DIR and STACKCTL_CHANGEHOSTNAME_C exist for tests.
set -euo pipefail

config="${SAGEMAKER_BASE_DIR:-/opt/ml}/input/config/resourceconfig.json"
source_c="${STACKCTL_CHANGEHOSTNAME_C:-/changehostname.c}"

if [[ "${1:-}" == train && -f "$config" && -f "$source_c" ]]; then
  # jq prints the name with its quotes: the C file expects a string literal.
  host="$(jq .current_host "$config")"
  build="$(mktemp -d)"
  sed "s/PLACEHOLDER_HOSTNAME/${host}/g" "$source_c" >"$build/changehostname.c"
  gcc -o "$build/changehostname.o" -c -fPIC -Wall "$build/changehostname.c"
  gcc -o "$build/libchangehostname.so" -shared -export-dynamic "$build/changehostname.o" -ldl
  export LD_PRELOAD="$build/libchangehostname.so${LD_PRELOAD:+:$LD_PRELOAD}"
fi
exec "$@"
