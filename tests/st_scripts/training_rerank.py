"""Trains a CrossEncoder to re-rank answers: one output, label 1 for a right answer, else 0; MRR@10 on dev.

sentence-transformers' examples/training/ms_marco/train_cross-encoder_scratch.py (the `fit` API), on TrecQA (the
mirror has no MS MARCO): (question, answer) pairs with their labels for training; CERerankingEvaluator on
{"query", "positive", "negative"} samples of the dev questions. Usage: python training_rerank.py [OUTPUT_DIR]
"""

import csv
import logging
import os
import sys
from collections import defaultdict
from datetime import datetime

import torch
from torch.utils.data import DataLoader

from xenc import CERerankingEvaluator, CrossEncoder, InputExample

logging.basicConfig(format="%(asctime)s - %(message)s", level=logging.INFO)
data_dir = os.environ["XENC_DATA_DIR"]
limit = int(os.environ.get("EXAMPLE_LIMIT", 0)) or None
model_name = os.environ.get("EXAMPLE_MODEL", "distilroberta-base")
num_epochs = int(os.environ.get("EXAMPLE_EPOCHS", 1))
train_batch_size = 32
model_save_path = (
    sys.argv[1] if len(sys.argv) > 1 else "output/training_rerank-" + datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
)


def read_split(split):
    with open(os.path.join(data_dir, "trecqa", f"{split}.csv"), encoding="utf8") as f:
        return list(csv.DictReader(f))[:limit]


# A model with one output; Identity, so predict returns raw logits as in the MS MARCO script
model = CrossEncoder(model_name, num_labels=1, max_length=256, default_activation_function=torch.nn.Identity())

train_samples = [InputExample(texts=[r["qtext"], r["atext"]], label=int(r["label"])) for r in read_split("train")]
dev_samples = defaultdict(lambda: {"query": None, "positive": [], "negative": []})
for r in read_split("dev"):
    dev_samples[r["qtext"]]["query"] = r["qtext"]
    dev_samples[r["qtext"]]["positive" if r["label"] == "1" else "negative"].append(r["atext"])
dev_samples = [s for s in dev_samples.values() if s["positive"] and s["negative"]]  # questions with both kinds

train_dataloader = DataLoader(train_samples, shuffle=True, batch_size=train_batch_size)
evaluator = CERerankingEvaluator(dev_samples, name="train-eval")
warmup_steps = 5000 if limit is None else 2

model.fit(
    train_dataloader=train_dataloader,
    evaluator=evaluator,
    epochs=num_epochs,
    evaluation_steps=int(os.environ.get("EXAMPLE_EVAL_STEPS", 5000)),
    warmup_steps=warmup_steps,
    output_path=model_save_path,
)
model.save(model_save_path + "-latest")
print(evaluator(model))
