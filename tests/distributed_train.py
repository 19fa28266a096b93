"""Launched by tests/test_distributed.py: `accelerate launch ... tests/distributed_train.py RECORD_DIR [xenc flags]`.

Every process runs `xenc.train.main` and writes what the test checks into RECORD_DIR: its final parameters (after
the last optimizer step, before the best checkpoint is reloaded), its step count, and whether it wrote results.
"""

import json
import sys
from pathlib import Path

import torch
from transformers import TrainerCallback

from xenc.train import main, parse_args


class RecordFinalParameters(TrainerCallback):
    """Save this process's parameters and step count right after the last optimizer step."""

    def __init__(self, folder: Path):
        self.folder = folder

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if state.global_step == state.max_steps:
            params = {name: p.detach().cpu().clone() for name, p in model.named_parameters()}
            torch.save(params, self.folder / f"params-rank{args.process_index}.pt")


def run(record_dir: Path, argv: list[str]) -> None:
    cfg, training_args = parse_args(argv)
    metrics = main(cfg, training_args, callbacks=[RecordFinalParameters(record_dir)])
    record = {"rank": training_args.process_index, "world_size": training_args.world_size,
              "wrote_results": "wall_time_s" in metrics, "train_steps": metrics["train_steps"]}  # fmt: skip
    (record_dir / f"rank{training_args.process_index}.json").write_text(json.dumps(record))


if __name__ == "__main__":
    run(Path(sys.argv[1]), sys.argv[2:])
