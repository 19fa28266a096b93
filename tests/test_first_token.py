"""The first-token last layer: the logits of the full model, for a padded batch, in fp32 and under bf16."""

import copy

import pytest
import torch
from transformers import (
    DistilBertConfig,
    DistilBertForSequenceClassification,
    MPNetConfig,
    MPNetForSequenceClassification,
)

from xenc.first_token import FirstTokenScorer, MPNetFirstTokenScorer, first_token_scorer, supports_first_token

PAIRS = [("a man is playing a guitar", "a person plays the guitar on the street"), ("a dog", "the cat is sitting")]


def with_random_biases(model: torch.nn.Module) -> torch.nn.Module:
    """A copy whose biases are not the zeros of a fresh init: the last layer's key and value biases must count."""
    model = copy.deepcopy(model)
    torch.manual_seed(1)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith("bias"):
                parameter.normal_(std=0.5)
    return model.eval()


@pytest.mark.parametrize("num_labels", [1, 3])
def test_first_token_scorer_gives_the_full_models_logits(_tiny_models, tiny_tokenizer, num_labels):
    model = with_random_biases(_tiny_models[num_labels])
    batch = tiny_tokenizer([a for a, _ in PAIRS], [b for _, b in PAIRS], padding=True, return_tensors="pt")
    assert batch["attention_mask"].min() == 0  # padding is there, and must be masked
    with torch.inference_mode():
        full, first = model(**batch).logits, FirstTokenScorer(model).eval()(**batch)
    assert first.shape == full.shape
    torch.testing.assert_close(first, full, atol=1e-5, rtol=0)


def test_other_architectures_keep_their_own_forward():
    config = DistilBertConfig(vocab_size=64, dim=32, n_layers=1, n_heads=2, hidden_dim=37, num_labels=1)
    model = DistilBertForSequenceClassification(config)
    assert not supports_first_token(model) and first_token_scorer(model) is model


@pytest.mark.parametrize("num_labels", [1, 3])
def test_mpnet_scorer_gives_the_full_models_logits(num_labels):
    config = MPNetConfig(vocab_size=64, hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
                         intermediate_size=37, num_labels=num_labels)  # fmt: skip
    torch.manual_seed(0)
    model = with_random_biases(MPNetForSequenceClassification(config))
    input_ids = torch.randint(2, 64, (3, 11))
    attention_mask = torch.ones_like(input_ids)
    attention_mask[1, 7:], attention_mask[2, 4:] = 0, 0
    input_ids[attention_mask == 0] = config.pad_token_id  # MPNet's positions skip its padding id
    with torch.inference_mode():
        full = model(input_ids=input_ids, attention_mask=attention_mask).logits
        scorer = first_token_scorer(model)
        first = scorer(input_ids=input_ids, attention_mask=attention_mask)
    assert isinstance(scorer, MPNetFirstTokenScorer) and first.shape == full.shape
    torch.testing.assert_close(first, full, atol=1e-5, rtol=0)
