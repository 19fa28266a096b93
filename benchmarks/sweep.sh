#!/usr/bin/env bash
# What was tried on the way to a recipe in xenc/recipes.py: one seed per variant, into runs/sweep-<recipe>/<name>.
# Usage: XENC_DATA_DIR=../shared/data bash benchmarks/sweep.sh stsb|sick-e [variant ...]
# (about 7 minutes per STSb variant, 4-6 per SICK-E variant, on 2 CPU cores)
set -euo pipefail
recipe=${1:?usage: sweep.sh stsb|sick-e [variant ...]}; shift
declare -A variants
case $recipe in
  stsb)
    base=(--dataset stsb --num_train_epochs 4 --learning_rate 8e-5)
    variants=([lr8e-5]="" [lr4e-5]="--learning_rate 4e-5" [swap_pairs]="--swap_pairs true") ;;
  sick-e)
    base=(--dataset sick-e --num_train_epochs 4 --learning_rate 5e-5)
    variants=([lr5e-5]="" [lr8e-5]="--learning_rate 8e-5" [ep6]="--num_train_epochs 6"
              [ep6-lr8e-5]="--num_train_epochs 6 --learning_rate 8e-5"
              [bs32-lr8e-5]="--per_device_train_batch_size 32 --learning_rate 8e-5"
              [both-lr8e-5]="--dataset sick-e-both --learning_rate 8e-5"
              [both-lr8e-5-length-batches]="--dataset sick-e-both --learning_rate 8e-5
                                            --train_sampling_strategy random --length_batches true") ;;
  *) echo "unknown recipe $recipe" >&2; exit 2 ;;
esac
base+=(--model minilm-l6 --per_device_train_batch_size 16 --warmup_steps 0.1 --max_length 128
       --train_sampling_strategy group_by_length --seed 42 --disable_tqdm true)
for name in "${@:-${!variants[@]}}"; do
  out=runs/sweep-$recipe/$name
  [ -f "$out/results.json" ] && { echo "keeping $out"; continue; }
  # shellcheck disable=SC2086
  xenc train "${base[@]}" ${variants[$name]} --output_dir "$out"
done
for d in runs/sweep-"$recipe"/*/; do
  python - "$d" <<'PY'
import json, sys
m = json.load(open(sys.argv[1] + "results.json"))["metrics"]
key = "spearman" if "test_spearman" in m else "accuracy"
print(f"{sys.argv[1]:40} dev {m['eval_' + key]:.4f} test {m['test_' + key]:.4f} {m['train_runtime']:.0f} s")
PY
done
