"""Trains a CrossEncoder to detect duplicates (paraphrases): one output, label 1 for a duplicate, else 0.

sentence-transformers' examples/training/cross-encoder/training_quora_duplicate_questions.py (the `fit` API), on
MRPC (the mirror has no Quora): train on MRPC train, choose on validation with CEBinaryClassificationEvaluator.
Usage: python training_duplicates.py [OUTPUT_DIR]
"""

import csv
import logging
import math
import os
import sys
from datetime import datetime

from torch.utils.data import DataLoader

from xenc import CEBinaryClassificationEvaluator, CrossEncoder, InputExample

logging.basicConfig(format="%(asctime)s - %(message)s", level=logging.INFO)
data_dir = os.environ["XENC_DATA_DIR"]
limit = int(os.environ.get("EXAMPLE_LIMIT", 0)) or None
model_name = os.environ.get("EXAMPLE_MODEL", "distilroberta-base")
num_epochs = int(os.environ.get("EXAMPLE_EPOCHS", 4))
train_batch_size = 16
model_save_path = (
    sys.argv[1] if len(sys.argv) > 1 else "output/training_duplicates-" + datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
)


def read_split(split):
    with open(os.path.join(data_dir, "mrpc", f"msr-para-{split}.tsv"), encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))[:limit]
    return [InputExample(texts=[r["#1 String"], r["#2 String"]], label=int(r["Quality"])) for r in rows]


train_samples = []
for sample in read_split("train"):  # duplicates are symmetric: train on both directions
    train_samples.append(sample)
    train_samples.append(InputExample(texts=[sample.texts[1], sample.texts[0]], label=sample.label))
dev_samples = read_split("val")

# We use a model with one output: the probability that the two texts are duplicates
model = CrossEncoder(model_name, num_labels=1)
train_dataloader = DataLoader(train_samples, shuffle=True, batch_size=train_batch_size)
evaluator = CEBinaryClassificationEvaluator.from_input_examples(dev_samples, name="mrpc-dev")
warmup_steps = math.ceil(len(train_dataloader) * num_epochs * 0.1)  # 10% of train data for warm-up
logging.info(f"Warmup-steps: {warmup_steps}")

model.fit(
    train_dataloader=train_dataloader,
    evaluator=evaluator,
    epochs=num_epochs,
    evaluation_steps=int(os.environ.get("EXAMPLE_EVAL_STEPS", 500)),
    warmup_steps=warmup_steps,
    output_path=model_save_path,
)
print(evaluator(CrossEncoder(model_save_path)))
