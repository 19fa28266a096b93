"""Length-batched training order: a permutation of similar-length batches in random order, re-drawn each epoch."""

import pandas as pd
import pytest
from datasets import Dataset

from tests.conftest import FIXTURES
from xenc.data import LengthBatchedDataset, length_batched_order, pair_collator, tokenize_pairs
from xenc.train import main, parse_args


def test_order_is_a_permutation_of_sorted_chunks_in_shuffled_order():
    lengths = [(7 * i) % 97 for i in range(96)]
    order = length_batched_order(lengths, batch_size=8, seed=0, pool=12)  # one pool: all 96 pairs sorted together
    assert sorted(order) == list(range(96))
    batches = [sorted(lengths[i] for i in order[j : j + 8]) for j in range(0, 96, 8)]
    assert sorted(batches) == [sorted(lengths)[j : j + 8] for j in range(0, 96, 8)]  # each batch: 8 neighbours
    means = [sum(b) for b in batches]
    assert means != sorted(means) and means != sorted(means, reverse=True)  # no length curriculum
    assert length_batched_order(lengths, 8, seed=1, pool=12) != order


def test_bad_batch_size_is_named():
    with pytest.raises(ValueError, match="batch_size=0"):
        length_batched_order([3, 4], batch_size=0, seed=0)


@pytest.mark.heavy
def test_trainer_reads_a_new_length_batched_order_every_epoch(tmp_path, make_trainer, tiny_model, tiny_tokenizer):
    data = tokenize_pairs(Dataset.from_pandas(pd.read_csv(FIXTURES / "sts_pairs.csv")), tiny_tokenizer, num_labels=1)
    train = LengthBatchedDataset(data, batch_size=4, seed=3, pool=2)
    seen, collate = [], pair_collator(tiny_tokenizer, None)

    def recording_collator(features):
        seen.append([tuple(f["input_ids"]) for f in features])
        return collate(features)

    trainer = make_trainer(tmp_path, tiny_model, train_dataset=train, data_collator=recording_collator,
                           per_device_train_batch_size=4, num_train_epochs=2,
                           train_sampling_strategy="sequential")  # fmt: skip
    trainer.train()
    rows = [tuple(ids) for ids in data["input_ids"]]
    for epoch in (0, 1):
        expected = [rows[i] for i in length_batched_order(train.lengths, 4, seed=3 + epoch, pool=2)]
        assert [ids for batch in seen[5 * epoch : 5 * epoch + 5] for ids in batch] == expected
    assert seen[:5] != seen[5:]


def test_length_batches_flag_trains_and_refuses_a_second_sampler(tiny_model_dir, tmp_path):
    fast = ["--model", str(tiny_model_dir), "--max_train_samples", "32", "--max_eval_samples", "16", "--use_cpu",
            "true", "--num_train_epochs", "1", "--disable_tqdm", "true", "--length_batches", "true"]  # fmt: skip
    metrics = main(*parse_args([*fast, "--output_dir", str(tmp_path / "a")]))
    assert metrics["train_pairs"] == 32 and metrics["train_steps"] == 32 // metrics["effective_batch_size"]
    with pytest.raises(ValueError, match="drop --train_sampling_strategy group_by_length"):
        main(*parse_args([*fast, "--output_dir", str(tmp_path / "b"), "--train_sampling_strategy", "group_by_length"]))
