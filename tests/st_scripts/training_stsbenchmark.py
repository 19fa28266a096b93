"""Trains a CrossEncoder on STSb: one output, the similarity score / 5 as label, Spearman on dev and test.

sentence-transformers' examples/training/cross-encoder/training_stsbenchmark.py (the `fit` API), on the mirror's
STSb. Usage: python training_stsbenchmark.py [OUTPUT_DIR]
"""

import csv
import logging
import math
import os
import sys
from datetime import datetime

from torch.utils.data import DataLoader

from xenc import CECorrelationEvaluator, CrossEncoder, InputExample

logging.basicConfig(format="%(asctime)s - %(message)s", level=logging.INFO)
data_dir = os.environ["XENC_DATA_DIR"]
limit = int(os.environ.get("EXAMPLE_LIMIT", 0)) or None
model_name = os.environ.get("EXAMPLE_MODEL", "distilroberta-base")
num_epochs = int(os.environ.get("EXAMPLE_EPOCHS", 4))
train_batch_size = 16
model_save_path = (
    sys.argv[1]
    if len(sys.argv) > 1
    else "output/training_stsbenchmark-" + datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
)


def read_split(split):
    with open(os.path.join(data_dir, "stsb", f"{split}.tsv"), encoding="utf8") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))[:limit]
    return [InputExample(texts=[r["sentence1"], r["sentence2"]], label=float(r["score"]) / 5.0) for r in rows]


# We use a model with one output: a score between 0 and 1 (sigmoid of the logit)
model = CrossEncoder(model_name, num_labels=1)

train_samples = []
for sample in read_split("train"):  # both directions, as the original script does
    train_samples.append(sample)
    train_samples.append(InputExample(texts=[sample.texts[1], sample.texts[0]], label=sample.label))
dev_samples = read_split("dev")
test_samples = read_split("test")

train_dataloader = DataLoader(train_samples, shuffle=True, batch_size=train_batch_size)
evaluator = CECorrelationEvaluator.from_input_examples(dev_samples, name="sts-dev")
warmup_steps = math.ceil(len(train_dataloader) * num_epochs * 0.1)  # 10% of train data for warm-up
logging.info(f"Warmup-steps: {warmup_steps}")

model.fit(
    train_dataloader=train_dataloader,
    evaluator=evaluator,
    epochs=num_epochs,
    evaluation_steps=int(os.environ.get("EXAMPLE_EVAL_STEPS", 0)),
    warmup_steps=warmup_steps,
    output_path=model_save_path,
)

# Load the best model (chosen on dev) and evaluate it on test
model = CrossEncoder(model_save_path)
evaluator = CECorrelationEvaluator.from_input_examples(test_samples, name="sts-test")
print(evaluator(model))
