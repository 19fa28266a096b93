"""Trains a CrossEncoder for NLI: three outputs, "contradiction": 0, "entailment": 1, "neutral": 2.

sentence-transformers' examples/training/cross-encoder/training_nli.py (the `fit` API). The mirror holds SNLI's
validation and test splits only: the script trains on validation and evaluates on the first 1000 test pairs.
Usage: python training_nli.py [OUTPUT_DIR]
"""

import csv
import logging
import math
import os
import sys
from datetime import datetime

from torch.utils.data import DataLoader

from xenc import CEF1Evaluator, CESoftmaxAccuracyEvaluator, CrossEncoder, InputExample

logging.basicConfig(format="%(asctime)s - %(message)s", level=logging.INFO)
data_dir = os.environ["XENC_DATA_DIR"]
limit = int(os.environ.get("EXAMPLE_LIMIT", 0)) or None
model_name = os.environ.get("EXAMPLE_MODEL", "distilroberta-base")
num_epochs = int(os.environ.get("EXAMPLE_EPOCHS", 4))
train_batch_size = 16
model_save_path = (
    sys.argv[1] if len(sys.argv) > 1 else "output/training_nli-" + datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
)
label2int = {"contradiction": 0, "entailment": 1, "neutral": 2}


def read_split(split, n):
    with open(os.path.join(data_dir, "snli", f"{split}.tsv"), encoding="utf8") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE) if r["label"] in label2int]
    return [InputExample(texts=[r["premise"], r["hypothesis"]], label=label2int[r["label"]]) for r in rows[:n]]


train_samples = read_split("dev", limit)
dev_samples = read_split("test", min(limit or 1000, 1000))

# Define our CrossEncoder model. We use a base model with 3 labels
model = CrossEncoder(model_name, num_labels=len(label2int))
train_dataloader = DataLoader(train_samples, shuffle=True, batch_size=train_batch_size)

# During training, we use CESoftmaxAccuracyEvaluator and CEF1Evaluator to measure the performance on the dev set
accuracy_evaluator = CESoftmaxAccuracyEvaluator.from_input_examples(dev_samples, name="AllNLI-dev")
f1_evaluator = CEF1Evaluator.from_input_examples(dev_samples, name="AllNLI-dev")
warmup_steps = math.ceil(len(train_dataloader) * num_epochs * 0.1)  # 10% of train data for warm-up
logging.info(f"Warmup-steps: {warmup_steps}")

model.fit(
    train_dataloader=train_dataloader,
    evaluator=accuracy_evaluator,
    epochs=num_epochs,
    evaluation_steps=int(os.environ.get("EXAMPLE_EVAL_STEPS", 0)),
    warmup_steps=warmup_steps,
    output_path=model_save_path,
)
print(accuracy_evaluator(model))
print(f1_evaluator(model))
