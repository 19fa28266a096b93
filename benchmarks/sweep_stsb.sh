#!/usr/bin/env bash
# What was tried on the way to the STSb recipe (xenc/recipes.py "stsb"): one seed per variant, runs/sweep-stsb/<name>.
# Usage: XENC_DATA_DIR=../shared/data bash benchmarks/sweep_stsb.sh   (about 7 minutes per variant on 2 CPU cores)
set -euo pipefail
base=(--dataset stsb --model minilm-l6 --num_train_epochs 4 --learning_rate 8e-5 --per_device_train_batch_size 16
      --warmup_steps 0.1 --max_length 128 --train_sampling_strategy group_by_length --seed 42 --disable_tqdm true)
declare -A variants=(
  [lr8e-5]=""
  [lr4e-5]="--learning_rate 4e-5"
  [swap_pairs]="--swap_pairs true"
)
for name in ${SWEEP:-lr8e-5 lr4e-5 swap_pairs}; do
  out=runs/sweep-stsb/$name
  [ -f "$out/results.json" ] && { echo "keeping $out"; continue; }
  # shellcheck disable=SC2086
  xenc train "${base[@]}" ${variants[$name]} --output_dir "$out"
done
for d in runs/sweep-stsb/*/; do
  python -c "import json,sys; m=json.load(open('$d/results.json'))['metrics']; print(f\"{'$d':40} dev {m['eval_spearman']:.4f} test {m['test_spearman']:.4f} {m['train_runtime']:.0f} s\")"
done
