"""Shared fixtures: a tiny tokenizer and BERT built from a config (fast, offline), and the data mirror."""

import copy
import logging
import os
from pathlib import Path

import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast, TrainingArguments

from xenc.data import pair_collator
from xenc.trainer import CrossEncoderTrainer

FIXTURES = Path(__file__).parent / "fixtures"
WORDS = (
    "a an the man woman dog cat child person is are was playing eating running sitting riding guitar flute piano "
    "food horse bike car street park field table with on in at of and to big small red blue green young old "
    "two three people group water ball sky plane taking off someone slicing onion"
).split()
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ","] + WORDS


@pytest.fixture(scope="session", autouse=True)
def _offline_env():
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("XENC_DATA_DIR", str(Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.fixture(scope="session")
def tiny_tokenizer():
    return BertTokenizerFast(vocab={token: i for i, token in enumerate(VOCAB)}, model_max_length=128)


def tiny_config(num_labels: int = 1) -> BertConfig:
    return BertConfig(
        vocab_size=len(VOCAB), hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
        max_position_embeddings=128, num_labels=num_labels,
    )  # fmt: skip


@pytest.fixture(scope="session")
def _tiny_models():
    torch.manual_seed(0)  # the same random weights in every session: a test result does not depend on the draw
    return {n: BertForSequenceClassification(tiny_config(n)).eval() for n in (1, 3)}


@pytest.fixture
def tiny_model(_tiny_models):
    """A fresh copy of the one-label tiny BERT (tests may train it)."""
    return copy.deepcopy(_tiny_models[1])


@pytest.fixture
def tiny_nli_model(_tiny_models):
    return copy.deepcopy(_tiny_models[3])


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, _tiny_models, tiny_tokenizer):
    """The tiny one-label model and tokenizer saved as a plain checkpoint folder."""
    folder = tmp_path_factory.mktemp("tiny-bert")
    _tiny_models[1].save_pretrained(folder)
    tiny_tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_base_dir(tmp_path_factory, _tiny_models, tiny_tokenizer):
    """The tiny BERT's encoder without a classification head, like a released base model (`minilm-l6`)."""
    folder = tmp_path_factory.mktemp("tiny-base")
    _tiny_models[1].bert.save_pretrained(folder)
    tiny_tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def make_trainer(tiny_tokenizer):
    """Factory for every test trainer: `make_trainer(tmp_path, model, train_dataset=..., **kw)`."""

    def make(tmp_path, model, task="sts", loss=None, **kw):
        arg_names = set(TrainingArguments.__dataclass_fields__)
        defaults = dict(output_dir=str(tmp_path / "trainer"), report_to="none", save_strategy="no",
                        disable_tqdm=True, use_cpu=True, seed=0)  # fmt: skip
        args = TrainingArguments(**{**defaults, **{k: v for k, v in kw.items() if k in arg_names}})
        rest = {k: v for k, v in kw.items() if k not in arg_names}
        rest.setdefault("data_collator", pair_collator(tiny_tokenizer))
        return CrossEncoderTrainer(model=model, args=args, task=task, loss=loss, **rest)

    return make


@pytest.fixture
def fresh_notices(caplog):
    """The once-per-process notices of the peer's old names seen afresh, at WARNING (tests of xenc/legacy.py)."""
    from xenc.legacy import warn_once

    warn_once.cache_clear()
    caplog.set_level(logging.WARNING, logger="xenc.legacy")
