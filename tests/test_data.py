"""Named datasets from the mirror, the Hub-to-mirror writers on local sources, and their error messages."""

import os
from pathlib import Path

import pytest
from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

from xenc.data import LABEL2ID, hub, load


def test_stsb_from_mirror_has_canonical_columns_and_counts():
    data = load("stsb")
    assert {k: len(v) for k, v in data.items()} == {"train": 5749, "validation": 1500, "test": 1379}
    assert data["test"].column_names == ["sentence1", "sentence2", "label"]
    labels = data["train"]["label"]
    assert min(labels) == 0.0 and max(labels) == 1.0


@pytest.mark.parametrize(
    "name, sizes",
    [("sick-e", {"train": 4439, "validation": 495, "test": 4906}), ("snli", {"validation": 9842, "test": 9824})],
)
def test_nli_sets_use_the_fixed_label2id(name, sizes):
    data = load(name)
    assert {k: len(v) for k, v in data.items()} == sizes
    assert set(data["test"]["label"]) == set(LABEL2ID.values())


def test_sick_e_both_adds_reversed_train_pairs_with_the_b_to_a_label():
    both, official = load("sick-e-both"), load("sick-e")
    n = len(official["train"])
    assert len(both["train"]) == 2 * n and both["test"]["label"] == official["test"]["label"]
    first, reversed_first = official["train"][0], both["train"][n]
    assert (reversed_first["sentence1"], reversed_first["sentence2"]) == (first["sentence2"], first["sentence1"])
    # SICK pair 2: official NEUTRAL, "B_neutral_A"; an entailment A->B is not always one B->A
    assert sum(a != b for a, b in zip(official["train"]["label"], both["train"]["label"][n:])) > 100


def test_sick_relatedness_is_rescaled_from_1_5():
    labels = load("sick", split="test")["label"]
    assert min(labels) == 0.0 and max(labels) == 1.0


def test_sts12_16_has_one_split_per_year():
    assert {k: len(v) for k, v in load("sts12-16").items()} == {
        "sts12": 3108, "sts13": 1500, "sts14": 3750, "sts15": 3000, "sts16": 1186
    }  # fmt: skip
    assert len(load("sts15", split="test")) == 3000


def test_scifact_test_has_corpus_judged_queries_and_qrels():
    data = load("scifact")
    assert len(data["corpus"]) == 5183 and len(data["queries"]) == 300 and len(data["qrels"]) == 339
    assert set(data["qrels"]["query_id"]) == set(data["queries"]["_id"])


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="Known names: .*stsb"):
        load("stsbx")


def test_incomplete_mirror_names_the_missing_file_and_the_script(tmp_path, monkeypatch):
    monkeypatch.setenv("XENC_DATA_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"stsb/train.tsv.*data_scripts/prepare_stsb.py"):
        load("stsb")


def test_hub_failure_without_mirror_says_how_to_fix(tmp_path, monkeypatch):
    monkeypatch.delenv("XENC_DATA_DIR")
    monkeypatch.setenv("XENC_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(RuntimeError, match="set XENC_DATA_DIR"):
        load("sick-e")


def test_hub_downloads_go_to_data_in_the_one_xenc_cache(tmp_path, monkeypatch):
    from xenc.data.loading import _hub_cache

    monkeypatch.setenv("XENC_CACHE_DIR", str(tmp_path / "mine"))
    assert _hub_cache() == tmp_path / "mine" / "data"
    monkeypatch.delenv("XENC_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _hub_cache() == tmp_path / "xdg" / "xenc" / "data"


def _pairs(n, **extra):
    return {"sentence1": [f"a {i}" for i in range(n)], "sentence2": [f"b {i}" for i in range(n)], **extra}


def test_prepare_stsb_writes_the_mirror_layout_idempotently(tmp_path, monkeypatch):
    source = DatasetDict(
        {s: Dataset.from_dict(_pairs(3, score=[0.0, 2.5, 5.0])) for s in ("train", "validation", "test")}
    )
    hub.prepare_stsb(tmp_path, source)
    first = os.stat(tmp_path / "stsb" / "dev.tsv").st_mtime_ns
    hub.prepare_stsb(tmp_path, source)  # second run keeps the files
    assert os.stat(tmp_path / "stsb" / "dev.tsv").st_mtime_ns == first
    monkeypatch.setenv("XENC_DATA_DIR", str(tmp_path))
    assert load("stsb", split="validation")["label"] == [0.0, 0.5, 1.0]


def test_prepare_sick_snli_sts_scifact_round_trip(tmp_path, monkeypatch):
    nli = Features({"sentence_A": Value("string"), "sentence_B": Value("string"), "id": Value("int64"),
                    "label": ClassLabel(names=["entailment", "neutral", "contradiction"]),
                    "relatedness_score": Value("float32")})  # fmt: skip
    sick = DatasetDict({
        s: Dataset.from_dict({"sentence_A": ["x y", "u v"], "sentence_B": ["x z", "u w"], "id": [1, 2],
                              "label": [0, 2], "relatedness_score": [1.0, 5.0]}, features=nli)
        for s in ("train", "validation", "test")
    })  # fmt: skip
    snli = DatasetDict({
        s: Dataset.from_dict({"premise": ["p", "q", "r"], "hypothesis": ["h", "i", "j"], "label": [1, -1, 2]})
        for s in ("train", "validation", "test")
    })  # fmt: skip
    sts = {y: DatasetDict({"test": Dataset.from_dict(_pairs(2, score=[1.0, 4.0]))}) for y in range(2012, 2017)}
    scifact = {
        "corpus": Dataset.from_dict({"_id": ["d1", "d2"], "title": ["T1", "T2"], "text": ["one", "two"]}),
        "queries": Dataset.from_dict({"_id": ["q1", "q2"], "text": ["first?", "second?"]}),
        "qrels": DatasetDict({s: Dataset.from_dict({"query-id": ["q1"], "corpus-id": ["d2"], "score": [1]})
                              for s in ("train", "test")}),
    }  # fmt: skip
    hub.prepare_sick(tmp_path, sick)
    hub.prepare_snli(tmp_path, snli)
    hub.prepare_sts12_16(tmp_path, sts)
    hub.prepare_scifact(tmp_path, scifact)
    monkeypatch.setenv("XENC_DATA_DIR", str(tmp_path))
    assert load("sick-e", split="test")["label"] == [LABEL2ID["entailment"], LABEL2ID["contradiction"]]
    assert load("sick-r", split="train")["label"] == [0.0, 1.0]
    assert load("snli", split="train")["label"] == [LABEL2ID["neutral"], LABEL2ID["contradiction"]]
    assert load("sts16", split="test")["label"] == pytest.approx([0.2, 0.8])
    beir = load("scifact")
    assert beir["queries"]["_id"] == ["q1"] and beir["qrels"]["corpus_id"] == ["d2"] and len(beir["corpus"]) == 2


def test_prepare_mnli_and_allnli_round_trip(tmp_path, monkeypatch):
    def nli(n):
        return Dataset.from_dict({"premise": ["p"] * n, "hypothesis": ["h"] * n, "label": list(range(n))})

    hub.prepare_mnli(tmp_path, DatasetDict(train=nli(3), validation_matched=nli(2), validation_mismatched=nli(1)))
    hub.prepare_allnli(tmp_path, DatasetDict(train=nli(3), dev=nli(2), test=nli(3)))
    monkeypatch.setenv("XENC_DATA_DIR", str(tmp_path))
    assert {k: len(v) for k, v in load("mnli").items()} == {"train": 3, "validation": 2, "test": 1}
    assert load("allnli", split="test")["label"] == [0, 1, 2]


def test_prepare_trecqa_checks_the_pinned_hashes(tmp_path, monkeypatch):
    mirror = Path(os.environ["XENC_DATA_DIR"]) / "trecqa"
    files = {name: (mirror / name).read_bytes() for name in hub.TRECQA_SHA256}  # the pinned files themselves
    hub.prepare_trecqa(tmp_path, files)
    monkeypatch.setenv("XENC_DATA_DIR", str(tmp_path))
    assert len(load("trecqa", split="test")) == 1517
    with pytest.raises(ValueError, match="is not the pinned"):
        hub.prepare_trecqa(tmp_path / "other", {**files, "dev.csv": files["dev.csv"][:-10]})
    assert not (tmp_path / "other" / "trecqa" / "dev.csv").exists()
