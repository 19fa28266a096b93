"""Pair tokenization: segment ids, truncation strategies, the truncation count, labels and padding."""

import logging

import pytest
from datasets import Dataset, DatasetDict

from xenc.data import pair_collator, tokenize_pairs


def _data(a, b, labels=None):
    cols = {"sentence1": a, "sentence2": b}
    return Dataset.from_dict({**cols, "label": labels} if labels is not None else cols)


def test_pair_is_cls_a_sep_b_sep_with_segment_ids(tiny_tokenizer):
    enc = tokenize_pairs(_data(["a man"], ["the dog is"], [0.5]), tiny_tokenizer)
    row = enc[0]
    assert tiny_tokenizer.decode(row["input_ids"]) == "[CLS] a man [SEP] the dog is [SEP]"
    assert row["token_type_ids"] == [0, 0, 0, 0, 1, 1, 1, 1]
    assert row["labels"] == 0.5 and set(enc.column_names) == {
        "input_ids",
        "token_type_ids",
        "attention_mask",
        "labels",
    }


def test_only_second_never_cuts_the_query(tiny_tokenizer):
    query, passage = "the man is playing", " ".join(["a dog"] * 20)
    enc = tokenize_pairs(_data([query], [passage]), tiny_tokenizer, max_length=12, truncation="only_second")
    text = tiny_tokenizer.decode(enc[0]["input_ids"])
    assert len(enc[0]["input_ids"]) == 12 and text.startswith("[CLS] the man is playing [SEP]")


def test_longest_first_cuts_the_longer_text_and_the_cut_is_counted(tiny_tokenizer, caplog):
    long = " ".join(["red"] * 30)
    data = _data([long, "a cat"], ["a dog", "a dog"])
    with caplog.at_level(logging.WARNING):
        enc = tokenize_pairs(data, tiny_tokenizer, max_length=16)
    assert [len(ids) for ids in enc["input_ids"]] == [16, 7]
    assert enc[0]["token_type_ids"].count(1) == 3  # "a dog [SEP]" kept whole
    assert "1 of 2 pairs (50.0%) are longer than max_length=16" in caplog.text


def test_dataset_dict_is_tokenized_split_by_split(tiny_tokenizer):
    enc = tokenize_pairs(DatasetDict(train=_data(["a"], ["b"], [1.0]), test=_data(["c", "d"], ["e", "f"], [0.0, 1.0])),
                         tiny_tokenizer)  # fmt: skip
    assert {k: len(v) for k, v in enc.items()} == {"train": 1, "test": 2}


@pytest.mark.parametrize(
    "a, b, labels, num_labels, message",
    [
        (["a man"], [""], [0.5], 1, r"rows\[0\]\[1\] is empty"),
        (["a man"], [None], [0.5], 1, "both texts must be str"),
        (["a man"], ["a dog"], [float("nan")], 1, "not a score in 0..1"),
        (["a man"], ["a dog"], [4.2], 1, "not a score in 0..1"),
        (["a man"], ["a dog"], [3], 3, "outside the 3 classes"),
    ],
)
def test_bad_rows_get_errors_that_name_the_fix(tiny_tokenizer, a, b, labels, num_labels, message):
    with pytest.raises((ValueError, TypeError), match=message):
        tokenize_pairs(_data(a, b, labels), tiny_tokenizer, num_labels=num_labels)


def test_missing_text_column_is_named(tiny_tokenizer):
    with pytest.raises(ValueError, match="set text_columns"):
        tokenize_pairs(Dataset.from_dict({"premise": ["a"], "hypothesis": ["b"]}), tiny_tokenizer)


def test_collator_pads_to_a_multiple_of_8(tiny_tokenizer):
    enc = tokenize_pairs(_data(["a man is", "a"], ["playing a guitar with the dog", "b"], [0.1, 0.9]), tiny_tokenizer)
    batch = pair_collator(tiny_tokenizer)([enc[0], enc[1]])
    assert batch["input_ids"].shape == (2, 16)
    assert batch["attention_mask"][1].sum() == 5 and batch["labels"].tolist() == pytest.approx([0.1, 0.9])


def test_label_names_are_mapped_and_unknown_ones_listed(tiny_tokenizer):
    from xenc.data import LABEL2ID

    enc = tokenize_pairs(_data(["a", "b"], ["c", "d"], ["Entailment", "neutral"]), tiny_tokenizer, label2id=LABEL2ID)
    assert enc["labels"] == [0, 1]
    with pytest.raises(ValueError, match=r"'maybe' is not a known label; known: \['entailment', 'neutral'"):
        tokenize_pairs(_data(["a"], ["c"], ["maybe"]), tiny_tokenizer, label2id=LABEL2ID)
