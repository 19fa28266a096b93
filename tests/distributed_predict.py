"""Launched by tests/test_distributed.py: `predict_distributed` on every process; each saves what it got back.

Usage: accelerate launch ... tests/distributed_predict.py MODEL_DIR PAIRS_JSON OUT_DIR
"""

import json
import sys
from pathlib import Path

import numpy as np
from accelerate import PartialState

from xenc import CrossEncoder
from xenc.distributed import predict_distributed

if __name__ == "__main__":
    model_dir, pairs_file, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    pairs = json.loads(pairs_file.read_text())
    model = CrossEncoder(model_dir, device="cpu")
    scores = predict_distributed(model, pairs, batch_size=4)  # sets up the process group (gloo on CPU)
    one = predict_distributed(model, pairs[:1])  # one process gets no pairs
    state = PartialState()
    np.save(out / f"all-rank{state.process_index}.npy", scores)
    np.save(out / f"one-rank{state.process_index}.npy", one)
    (out / f"world-rank{state.process_index}.txt").write_text(str(state.num_processes))
    state.destroy_process_group()  # else gloo's threads can abort the process at exit ("terminate called ...")
