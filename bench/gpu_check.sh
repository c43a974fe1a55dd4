#!/usr/bin/env bash
# Issue 5's GPU benchmark as one prepared run for a lent H100/H200 machine (the device
# tool runs it from the repository root; nothing to install there):
#
#   run(command="bash bench/gpu_check.sh", timeout_s=540)
#
# Needs python3 with jax (CUDA), flax and optax only. Prints, and writes to
# $OUT/gpu_bench.txt: the card, the library versions, then bench/train_step.py --gpu
# (ViT-B/16 224 px bf16, Lion vs AdamW at the largest batch that fits: MFU against
# 989 TFLOP/s and peak memory). Extra arguments go to train_step.py; a CPU smoke test:
#   PYTHON=.venv/bin/python bash bench/gpu_check.sh --gpu-variant Ti/16 --gpu-batches 4 --gpu-steps 2
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-$(mktemp -d)}"
PY="${PYTHON:-python3}"
export PYTHONUNBUFFERED=1
{
  date -u
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 \
    || echo "no nvidia-smi"
  "$PY" -c "import jax, flax, optax; print('jax', jax.__version__, '| flax', flax.__version__,
'| optax', optax.__version__, '|', jax.devices())"
  timeout 480 "$PY" bench/train_step.py --gpu "$@"
  echo "exit status $?"
} 2>&1 | tee "$OUT/gpu_bench.txt"
