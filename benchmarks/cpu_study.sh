#!/usr/bin/env bash
# The CPU figures of the benchmark suite (benchmarks/README.md, "CPU"):
#   1. how fit time grows with the number of images: one epoch of each training stage on
#      MNIST subsets of 2,500 / 5,000 / 10,000 / 20,000 images, every method;
#   2. seconds per epoch and accuracy with the default settings on scikit-learn's digits,
#      seeds 0-2.
# Usage: bash benchmarks/cpu_study.sh [DATA_DIR] [METHOD ...]
# One torch thread by default (OMP_NUM_THREADS), so that figures from a shared machine
# stay comparable; the JSON lines record wall and process CPU seconds.
set -euo pipefail
DATA=${1:-../shared/datasets}
shift || true
METHODS=${*:-icae ganim dccs variational}
OUT=benchmarks/results/cpu
mkdir -p "$OUT"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

for method in $METHODS; do
  if [ "$method" = ganim ]; then
    epochs=(--param gan_epochs=1 --param max_epochs=2)  # one GAN and one classifier epoch
  else
    epochs=(--param max_epochs=1)
  fi
  for n in 2500 5000 10000 20000; do
    python benchmarks/run.py --method "$method" --dataset mnist --subset "$n" \
      "${epochs[@]}" --no-baseline --data-dir "$DATA" --out "$OUT/scaling.jsonl"
  done
done
for method in $METHODS; do
  python benchmarks/run.py --method "$method" --dataset digits --seeds 0 1 2 \
    --out "$OUT/digits.jsonl"
done
