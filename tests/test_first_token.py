"""The first-token last layer: the logits of the full model, for a padded batch, in fp32 and under bf16; and
`token_keep`, which drops tokens in the last layers by the first token's attention."""

import copy

import pytest
import torch
from transformers import (
    DistilBertConfig,
    DistilBertForSequenceClassification,
    MPNetConfig,
    MPNetForSequenceClassification,
)

from xenc.first_token import (
    FirstTokenScorer,
    MPNetFirstTokenScorer,
    additive_mask,
    first_scores,
    first_token_scorer,
    kept_tokens,
    supports_first_token,
)

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


def token_dependent(model: torch.nn.Module) -> torch.nn.Module:
    """A copy with large random weights, so that which tokens a layer sees moves the score visibly."""
    model = copy.deepcopy(model)
    torch.manual_seed(2)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(std=0.5)
    return model.eval()


def mpnet_model() -> torch.nn.Module:
    config = MPNetConfig(vocab_size=64, hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
                         intermediate_size=37, num_labels=1)  # fmt: skip
    return MPNetForSequenceClassification(config)


@pytest.mark.parametrize("architecture", ["bert", "mpnet"])
def test_token_keep_scores_a_pair_alike_in_any_batch(_tiny_models, architecture):
    model = token_dependent(_tiny_models[1] if architecture == "bert" else mpnet_model())
    torch.manual_seed(0)
    input_ids = torch.randint(5, 60, (3, 12))
    attention_mask = torch.ones_like(input_ids)
    attention_mask[1, 8:], attention_mask[2, 5:] = 0, 0
    input_ids[attention_mask == 0] = model.config.pad_token_id
    with torch.inference_mode():
        full = first_token_scorer(model)(input_ids=input_ids, attention_mask=attention_mask)
        every = first_token_scorer(model, 0.999)(input_ids=input_ids, attention_mask=attention_mask)
        pruned = first_token_scorer(model, 0.5)(input_ids=input_ids, attention_mask=attention_mask)
        pairs = [(ids[mask == 1][None], mask[mask == 1][None]) for ids, mask in zip(input_ids, attention_mask)]
        alone = torch.cat([first_token_scorer(model, 0.5)(input_ids=ids, attention_mask=mask) for ids, mask in pairs])
    torch.testing.assert_close(every, full, atol=1e-6, rtol=0)  # ceil(0.999 * tokens) keeps them all
    assert (pruned - full).abs().max() > 1e-3  # half the tokens dropped: the score moves
    torch.testing.assert_close(pruned, alone, atol=1e-4, rtol=0)  # the padding of the batch changes nothing


def test_kept_tokens_are_the_first_and_the_most_attended_per_pair():
    torch.manual_seed(0)
    width, heads = 8, 2
    q_proj, k_proj = torch.nn.Linear(width, width), torch.nn.Linear(width, width)
    hidden = torch.randn(2, 7, width)
    attention_mask = torch.tensor([[1] * 7, [1] * 4 + [0] * 3])
    bias = additive_mask(attention_mask, hidden.dtype)
    index, beyond = kept_tokens(q_proj, k_proj, hidden, heads, bias, 1.0, attention_mask, 0.5)
    assert index.shape == (2, 4) and (index[:, 0] == 0).all() and (index.diff(dim=-1) > 0).all()
    assert (~beyond).sum(-1).tolist() == [4, 2]  # ceil(0.5 * 7) and ceil(0.5 * 4) of each pair's own tokens
    with torch.no_grad():
        weights = torch.softmax(first_scores(q_proj, k_proj, hidden, heads, bias, 1.0), -1).mean(1)[:, 0]
    for row in range(2):
        kept = index[row][~beyond[row]].tolist()
        others = sorted(set(range(1, int(attention_mask[row].sum()))) - set(kept))
        assert weights[row, kept[1:]].min() >= weights[row, others].max()
