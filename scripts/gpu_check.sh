#!/usr/bin/env bash
# The GPU rows of the docs, in one run on one GPU: the `stsb` recipe (seed 42), notebook 04's 1-process setting, and
# the scoring backends (xenc vs sentence-transformers, torch fp32 / fp16 / bf16) on STSb and SciFact@256.
#
# Usage (from the repository root, on a machine with a CUDA GPU; with internet, run `xenc reproduce stsb` and
# `python benchmarks bench_backends --device cuda` instead):
#     SMOKE=1 bash scripts/gpu_check.sh     # a few steps and pairs, to check the script on a CPU
#     bash scripts/gpu_check.sh             # results in benchmarks/results/*_cuda*.md and $OUT
#     OUT=DIR RUNS=DIR bash scripts/gpu_check.sh   # default: runs/gpu-check (log, results) and runs/gpu-runs (models)
#
# This project's GPU machine has no internet and takes at most 64 MiB with it, so its inputs travel in `.gpu/`:
# wheels of datasets / evaluate (not in its image), the STSb and SciFact folders of the data mirror, all-MiniLM-L6-v2
# with its weights rounded to fp16 (45 MB instead of 91; relative error <= 5e-4, cast back to fp32 below), and
# all-mpnet-base-v2's config and tokenizer only (its 438 MB of weights do not fit): its rows use random weights of the
# same shape, which time the architecture but say nothing of quality.
set -u
OUT=${OUT:-runs/gpu-check}
RUNS=${RUNS:-runs/gpu-runs}  # the models: base weights, trained runs
SMOKE=${SMOKE:-}
TRAIN=${TRAIN:-1}  # TRAIN=0: no training; the backends score .gpu/stsb-fp16 (a trained model, fp16-rounded)
ROUNDS=${ROUNDS:-5}
G=.gpu
mkdir -p "$OUT" "$RUNS"
OUT=$(cd "$OUT" && pwd) RUNS=$(cd "$RUNS" && pwd)
R=$OUT/results  # everything measured; packed into $OUT/gpu_results.tgz after each stage
mkdir -p "$R"
exec > >(tee -a "$OUT/gpu_check.log") 2>&1
pack() { tar czf "$OUT/gpu_results.tgz" -C $R .; }
if ! python3 -c "import datasets, evaluate" 2> /dev/null; then  # datasets 5.2 needs pyarrow >= 24, 5.0.1 >= 21
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$OUT/site" $G/wheels/*.whl || exit 1
  if python3 -c "import pyarrow, sys; sys.exit(int(pyarrow.__version__.split('.')[0]) >= 24)"; then
    python3 -m pip install -q --no-index --no-deps --no-compile --target "$OUT/site" --upgrade $G/wheels-old/*.whl
  fi
  export PYTHONPATH=$OUT/site
fi
export PYTHONPATH=${PYTHONPATH:+$PYTHONPATH:}$PWD XENC_DATA_DIR=$PWD/$G/data HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
export TOKENIZERS_PARALLELISM=false
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2> /dev/null
python3 - << 'EOF'
import importlib.metadata as m, sys, torch
print(sys.version.split()[0], {p: m.version(p) for p in ("torch", "transformers", "datasets", "evaluate", "accelerate",
                                                      "sentence-transformers", "pyarrow", "tokenizers")})
print("cuda:", torch.cuda.is_available(), torch.cuda.get_device_name() if torch.cuda.is_available() else "")
EOF

n=${SMOKE:+--n 64}
rounds=$([ -n "$SMOKE" ] && echo 1 || echo $ROUNDS)
device=$(python3 -c "import torch; print('cuda' if torch.cuda.is_available() else 'cpu')")
bench() {  # model folder, input, batch size, tag
  TOKENIZERS_PARALLELISM=true python3 benchmarks/bench_backends.py --device $device --model "$RUNS/$1" --inputs $2 --batch_size $3 \
    --tag $device-$4 --threads 8 --rounds $rounds $n --contenders st-torch-fp32 st-torch-fp16 st-torch-bf16 \
    xenc-torch-fp32 xenc-torch-fp16 xenc-torch-bf16
  cp benchmarks/results/backends_$2_$device-$4.* $R/
  pack
}

recipe() {  # run folder name, results file name, extra flags: the stsb recipe, seed 42, from MiniLM
  python3 - "$@" << EOF
import json, sys, time
from xenc.recipes import RECIPES
from xenc.train import main, parse_args
name, result, extra = sys.argv[1], sys.argv[2], sys.argv[3:]
smoke = ["--max_steps", "3", "--max_eval_samples", "32", "--max_train_samples", "64"] if "$SMOKE" else []
start = time.perf_counter()
main(*parse_args([*RECIPES["stsb"], "--model", "$RUNS/minilm-l6", "--seed", "42", "--output_dir",
                  f"$RUNS/{name}", "--disable_tqdm", "true", *extra, *smoke]))
metrics = json.loads(open(f"$RUNS/{name}/results.json").read())["metrics"]
metrics["wall_s"] = time.perf_counter() - start
print(result, json.dumps(metrics))
open(f"$R/{result}.json", "w").write(json.dumps(metrics, indent=2))
EOF
  pack
}

echo "== models: MiniLM back to fp32, MPNet with random weights"
python3 - "$RUNS" << 'EOF'
import shutil
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoConfig, AutoModelForSequenceClassification

runs = Path(sys.argv[1])
src, dst = Path(".gpu/minilm-l6-fp16"), runs / "minilm-l6"
if src.is_dir():
    shutil.copytree(src, dst, dirs_exist_ok=True)
    weights = load_file(src / "model.safetensors")
    save_file({k: v.float() if v.is_floating_point() else v for k, v in weights.items()}, dst / "model.safetensors")
torch.manual_seed(0)
config = AutoConfig.from_pretrained(".gpu/mpnet-base-config")
AutoModelForSequenceClassification.from_config(config).save_pretrained(runs / "mpnet-random")
for f in ("tokenizer.json", "tokenizer_config.json"):
    shutil.copy(Path(".gpu/mpnet-base-config") / f, runs / "mpnet-random")
trained = Path(".gpu/stsb-fp16")
if trained.is_dir():  # TRAIN=0
    shutil.copytree(trained, runs / "stsb-seed-42", dirs_exist_ok=True)
    weights = load_file(trained / "model.safetensors")
    save_file({k: v.float() if v.is_floating_point() else v for k, v in weights.items()},
              runs / "stsb-seed-42" / "model.safetensors")
EOF

if [ "$TRAIN" = 1 ]; then
echo "== the stsb recipe, seed 42, one GPU"
recipe stsb-seed-42 recipe_stsb
fi

echo "== scoring backends"
bench stsb-seed-42 scifact 32 minilm
bench mpnet-random scifact 32 mpnet-random
bench stsb-seed-42 stsb 32 minilm
bench mpnet-random stsb 32 mpnet-random
bench stsb-seed-42 stsb 256 minilm-b256

if [ "$TRAIN" = 1 ]; then
echo "== notebook 04's 1-process run on the GPU (1 epoch, 2000 pairs, batch 16, lr 8e-5)"
python3 - << EOF
import json, time
from xenc.train import train_from_dict
values = dict(model="$RUNS/minilm-l6", dataset="stsb", max_train_samples=2000, max_length=128,
              output_dir="$RUNS/04-1-gpu", overwrite_output_dir=True, num_train_epochs=1,
              per_device_train_batch_size=16, per_device_eval_batch_size=64, learning_rate=8e-5, warmup_steps=0.1,
              seed=42, eval_strategy="no", save_strategy="no", load_best_model_at_end=False, logging_steps=25,
              report_to="none", disable_tqdm=True)
if "$SMOKE":
    values.update(max_train_samples=16, max_eval_samples=32, max_steps=2)
start = time.perf_counter()
metrics = train_from_dict(values)
metrics["wall_s"] = time.perf_counter() - start
print("NB04", json.dumps(metrics, default=str))
open("$R/nb04_1_process.json", "w").write(json.dumps(metrics, indent=2, default=str))
EOF
pack

echo "== the stsb recipe with bf16 autocast, seed 42"
recipe stsb-bf16-seed-42 recipe_stsb_bf16 --bf16 true
fi
ls -la "$OUT" $R
