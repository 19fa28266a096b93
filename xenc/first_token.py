"""Scoring without the arithmetic the score never reads: a sequence classifier reads only the first token's output,
so its last layer runs for the first token only, and even its keys and values of every token are not computed
(`attend_first`: the key projection moves onto the one query, the value projection after the weighted sum). Same
scores up to float rounding; the last layer's arithmetic almost all saved: 1/6 of MiniLM-L6's, 1/12 of a 12-layer
model's.

MPNet's scorer also adds its relative-position bias and the padding mask into one attention bias once per batch
(transformers adds both to the scores in every layer, after copying the bias out for every row of the batch) and
runs every layer through `scaled_dot_product_attention`.

Used by `CrossEncoder.predict` (torch and OpenVINO) for BERT-family and MPNet classifiers; training never goes
through it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

SCORER_VERSION = 2  # part of the OpenVINO cache key: a conversion of an older scorer's graph is not reused


def supports_first_token(model: torch.nn.Module) -> bool:
    """A BERT encoder with a pooler and classifier (BERT, MiniLM, ...) or an MPNet classifier, as transformers 5
    builds them."""
    name = type(model).__name__
    if name == "MPNetForSequenceClassification":
        return hasattr(model, "mpnet") and hasattr(model.mpnet.encoder, "compute_position_bias")
    bert = getattr(model, "bert", None)
    return (
        name == "BertForSequenceClassification"
        and getattr(bert, "pooler", None) is not None
        and not model.config.is_decoder
        and getattr(model.config, "position_embedding_type", "absolute") in (None, "absolute")
    )


def additive_mask(attention_mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """(batch, 1, 1, keys): 0 for tokens, the dtype's minimum for padding."""
    return (1.0 - attention_mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min


def attend(q_proj, k_proj, v_proj, hidden: torch.Tensor, heads: int, bias, scale: float) -> torch.Tensor:
    """Multi-head self-attention over `hidden`, (batch, length, heads * size)."""
    batch, length, _ = hidden.shape
    query, key, value = (p(hidden).view(batch, length, heads, -1).transpose(1, 2) for p in (q_proj, k_proj, v_proj))
    context = F.scaled_dot_product_attention(query, key, value, attn_mask=bias, scale=scale)
    return context.transpose(1, 2).reshape(batch, length, -1)


def attend_first(q_proj, k_proj, v_proj, hidden: torch.Tensor, heads: int, bias, scale: float) -> torch.Tensor:
    """Attention of the first token over every token of `hidden`, (batch, 1, heads * size), without the keys and
    values of every token: per head, q . (W_k x + b_k) = (W_k^T q) . x + q . b_k, where q . b_k is the same for every
    key and cancels in the softmax, and sum_j a_j (W_v x_j + b_v) = W_v (sum_j a_j x_j) + b_v as the a_j sum to 1.
    About 2 * heads * length * width multiply-adds per pair instead of 2 * length * width**2."""
    batch, length, width = hidden.shape
    query = q_proj(hidden[:, :1]).view(batch, heads, 1, -1)  # (batch, heads, 1, size)
    key_side = query @ k_proj.weight.view(heads, -1, width)  # (batch, heads, 1, width)
    tokens = hidden[:, None]  # (batch, 1, length, width), the same tokens for every head
    scores = (key_side @ tokens.transpose(-1, -2)) * scale + bias  # (batch, heads, 1, length)
    weights = torch.softmax(scores, dim=-1, dtype=torch.float32).to(tokens.dtype)
    mixed = weights @ tokens  # (batch, heads, 1, width)
    context = mixed @ v_proj.weight.view(heads, -1, width).transpose(-1, -2) + v_proj.bias.view(heads, 1, -1)
    return context.transpose(1, 2).reshape(batch, 1, -1)


class FirstTokenScorer(torch.nn.Module):
    """`model`'s logits with its last encoder layer computed for the first token only (BERT family).

    Example:
        >>> scorer = FirstTokenScorer(model).eval()  # doctest: +SKIP
        >>> scorer(**tokenizer(a, b, padding=True, return_tensors="pt"))  # doctest: +SKIP
    """

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, token_type_ids=None) -> torch.Tensor:
        bert = self.model.bert
        hidden = bert.embeddings(input_ids=input_ids, token_type_ids=token_type_ids)
        mask = additive_mask(attention_mask, hidden.dtype)
        for layer in bert.encoder.layer[:-1]:
            hidden = layer(hidden, attention_mask=mask)
        last = bert.encoder.layer[-1]
        att = last.attention.self
        context = attend_first(att.query, att.key, att.value, hidden, att.num_attention_heads, mask, att.scaling)
        first = last.attention.output(context, hidden[:, :1])
        first = last.output(last.intermediate(first), first)
        return self.model.classifier(self.model.dropout(bert.pooler(first)))


class MPNetFirstTokenScorer(torch.nn.Module):
    """`model`'s logits (an `MPNetForSequenceClassification`) with one attention bias per batch, every layer in
    `scaled_dot_product_attention`, and the last layer for the first token only."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask) -> torch.Tensor:
        mpnet = self.model.mpnet
        hidden = mpnet.embeddings(input_ids=input_ids)
        # (1, heads, L, L) relative-position bias + (batch, 1, 1, L) padding mask, added once for all layers
        bias = mpnet.encoder.compute_position_bias(hidden[:1]).to(hidden.dtype)
        bias = bias + additive_mask(attention_mask, hidden.dtype)
        layers = mpnet.encoder.layer
        for i, layer in enumerate(layers):
            att, scale = layer.attention.attn, layer.attention.attn.attention_head_size**-0.5
            if i == len(layers) - 1:
                queries = hidden[:, :1]
                context = attend_first(att.q, att.k, att.v, hidden, att.num_attention_heads, bias[:, :, :1], scale)
            else:
                queries = hidden
                context = attend(att.q, att.k, att.v, hidden, att.num_attention_heads, bias, scale)
            hidden = layer.attention.LayerNorm(layer.attention.dropout(att.o(context)) + queries)
            hidden = layer.output(layer.intermediate(hidden), hidden)
        return self.model.classifier(hidden)


def first_token_scorer(model: torch.nn.Module) -> torch.nn.Module:
    """The first-token scorer of `model`'s architecture where there is one, else the model itself."""
    if not supports_first_token(model):
        return model
    return MPNetFirstTokenScorer(model) if hasattr(model, "mpnet") else FirstTokenScorer(model)


def logits_of(output) -> torch.Tensor:
    """Logits from a model output, a `FirstTokenScorer`'s tensor or an OpenVINO scorer's result."""
    return output if isinstance(output, torch.Tensor) else output.logits
