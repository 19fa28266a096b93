"""Scoring without the arithmetic the score never reads: a sequence classifier reads only the first token's output,
so its last layer runs for the first token only, and even its keys and values of every token are not computed
(`attend_first`: the key projection moves onto the one query, the value projection after the weighted sum). Same
scores up to float rounding; the last layer's arithmetic almost all saved: 1/6 of MiniLM-L6's, 1/12 of a 12-layer
model's.

MPNet's scorer also adds its relative-position bias and the padding mask into one attention bias once per batch
(transformers adds both to the scores in every layer, after copying the bias out for every row of the batch) and
runs every layer through `scaled_dot_product_attention`.

With `token_keep` below 1 (an approximation, opt-in): from two thirds of the depth on, the layers see only that
fraction of the tokens, the ones the first token attends to most (PoWER-BERT's idea, without its training): the
remaining layers' cost shrinks about in proportion.

Used by `CrossEncoder.predict` (torch and OpenVINO) for BERT-family and MPNet classifiers; training never goes
through it.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

SCORER_VERSION = 2  # part of the OpenVINO cache key: a conversion of an older scorer's graph is not reused
PRUNE_DEPTH = 2 / 3  # with token_keep < 1, the layers from this fraction of the depth on see only the kept tokens


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


def first_scores(q_proj, k_proj, hidden: torch.Tensor, heads: int, bias, scale: float) -> torch.Tensor:
    """The first token's attention scores over every token of `hidden`, (batch, heads, 1, length), without the
    keys of every token: per head, q . (W_k x + b_k) = (W_k^T q) . x + q . b_k, where q . b_k is the same for every
    key and cancels in the softmax (so it is left out)."""
    batch, length, width = hidden.shape
    query = q_proj(hidden[:, :1]).view(batch, heads, 1, -1)  # (batch, heads, 1, size)
    key_side = query @ k_proj.weight.view(heads, -1, width)  # (batch, heads, 1, width)
    return (key_side @ hidden[:, None].transpose(-1, -2)) * scale + bias  # the same tokens for every head


def attend_first(q_proj, k_proj, v_proj, hidden: torch.Tensor, heads: int, bias, scale: float) -> torch.Tensor:
    """Attention of the first token over every token of `hidden`, (batch, 1, heads * size), without the keys and
    values of every token: the scores by `first_scores`, and sum_j a_j (W_v x_j + b_v) = W_v (sum_j a_j x_j) + b_v
    as the a_j sum to 1. About 2 * heads * length * width multiply-adds per pair instead of 2 * length * width**2."""
    batch, _, width = hidden.shape
    scores = first_scores(q_proj, k_proj, hidden, heads, bias, scale)
    weights = torch.softmax(scores, dim=-1, dtype=torch.float32).to(hidden.dtype)
    mixed = weights @ hidden[:, None]  # (batch, heads, 1, width)
    context = mixed @ v_proj.weight.view(heads, -1, width).transpose(-1, -2) + v_proj.bias.view(heads, 1, -1)
    return context.transpose(1, 2).reshape(batch, 1, -1)


def kept_tokens(
    q_proj, k_proj, hidden: torch.Tensor, heads: int, bias, scale: float, attention_mask, keep: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """The tokens the first token attends to most in this layer (its attention averaged over heads): positions
    (batch, ceil(keep * length)), ascending, and which of them are beyond their own pair's ceil(keep * tokens) (to
    be masked), so that a pair keeps the same tokens whatever the padding of its batch. The first token stays."""
    length = hidden.shape[1]  # an int; a traced size (a tensor) while OpenVINO converts: the count stays dynamic
    weights = torch.softmax(first_scores(q_proj, k_proj, hidden, heads, bias[:, :, :1], scale), dim=-1)
    weights = weights.mean(1)[:, 0]  # (batch, length); every weight <= 1
    weights = torch.cat([torch.full_like(weights[:, :1], 2.0), weights[:, 1:]], dim=1)
    count = math.ceil(length * keep) if isinstance(length, int) else torch.ceil(length * keep).long()
    ranked = weights.topk(count, dim=-1).indices  # most attended first
    rank = torch.ones_like(ranked).cumsum(-1) - 1
    beyond = rank >= torch.ceil(attention_mask.sum(-1, keepdim=True) * keep)
    index, order = ranked.sort(dim=-1)
    return index, beyond.gather(1, order)


def select_tokens(hidden: torch.Tensor, bias: torch.Tensor, index: torch.Tensor, beyond: torch.Tensor):
    """`hidden` (batch, length, width) and the additive attention `bias` (its query and key axes, or only its keys
    when it has one query row) at the positions `index` (batch, kept), the keys `beyond` masked."""
    hidden = hidden.gather(1, index[:, :, None].expand(-1, -1, hidden.shape[-1]))
    bias = bias.expand(index.shape[0], -1, -1, -1)
    if bias.shape[2] > 1:
        bias = bias.gather(2, index[:, None, :, None].expand(-1, bias.shape[1], -1, bias.shape[3]))
    bias = bias.gather(3, index[:, None, None, :].expand(-1, bias.shape[1], bias.shape[2], -1))
    return hidden, bias.masked_fill(beyond[:, None, None, :], torch.finfo(bias.dtype).min)


def prune_at(layers, token_keep: float) -> int:
    """The layer from which on only the kept tokens are computed; past the last layer when nothing is pruned."""
    return round(PRUNE_DEPTH * len(layers)) if token_keep < 1 else len(layers)


class FirstTokenScorer(torch.nn.Module):
    """`model`'s logits with its last encoder layer computed for the first token only (BERT family).

    Example:
        >>> scorer = FirstTokenScorer(model).eval()  # doctest: +SKIP
        >>> scorer(**tokenizer(a, b, padding=True, return_tensors="pt"))  # doctest: +SKIP
    """

    def __init__(self, model: torch.nn.Module, token_keep: float = 1.0):
        super().__init__()
        self.model, self.token_keep = model, token_keep

    def forward(self, input_ids, attention_mask, token_type_ids=None) -> torch.Tensor:
        bert = self.model.bert
        hidden = bert.embeddings(input_ids=input_ids, token_type_ids=token_type_ids)
        mask = additive_mask(attention_mask, hidden.dtype)
        layers = bert.encoder.layer
        prune = prune_at(layers, self.token_keep)
        for i, layer in enumerate(layers):
            att = layer.attention.self
            if i == prune:
                kept = kept_tokens(att.query, att.key, hidden, att.num_attention_heads, mask, att.scaling,
                                   attention_mask, self.token_keep)  # fmt: skip
                hidden, mask = select_tokens(hidden, mask, *kept)
            if i < len(layers) - 1:
                hidden = layer(hidden, attention_mask=mask)
        last = layers[-1]
        att = last.attention.self
        context = attend_first(att.query, att.key, att.value, hidden, att.num_attention_heads, mask, att.scaling)
        first = last.attention.output(context, hidden[:, :1])
        first = last.output(last.intermediate(first), first)
        return self.model.classifier(self.model.dropout(bert.pooler(first)))


class MPNetFirstTokenScorer(torch.nn.Module):
    """`model`'s logits (an `MPNetForSequenceClassification`) with one attention bias per batch, every layer in
    `scaled_dot_product_attention`, and the last layer for the first token only."""

    def __init__(self, model: torch.nn.Module, token_keep: float = 1.0):
        super().__init__()
        self.model, self.token_keep = model, token_keep

    def forward(self, input_ids, attention_mask) -> torch.Tensor:
        mpnet = self.model.mpnet
        hidden = mpnet.embeddings(input_ids=input_ids)
        # (1, heads, L, L) relative-position bias + (batch, 1, 1, L) padding mask, added once for all layers
        bias = mpnet.encoder.compute_position_bias(hidden[:1]).to(hidden.dtype)
        bias = bias + additive_mask(attention_mask, hidden.dtype)
        layers = mpnet.encoder.layer
        prune = prune_at(layers, self.token_keep)
        for i, layer in enumerate(layers):
            att, scale = layer.attention.attn, layer.attention.attn.attention_head_size**-0.5
            if i == prune:
                kept = kept_tokens(att.q, att.k, hidden, att.num_attention_heads, bias, scale, attention_mask,
                                   self.token_keep)  # fmt: skip
                hidden, bias = select_tokens(hidden, bias, *kept)
            if i == len(layers) - 1:
                queries = hidden[:, :1]
                context = attend_first(att.q, att.k, att.v, hidden, att.num_attention_heads, bias[:, :, :1], scale)
            else:
                queries = hidden
                context = attend(att.q, att.k, att.v, hidden, att.num_attention_heads, bias, scale)
            hidden = layer.attention.LayerNorm(layer.attention.dropout(att.o(context)) + queries)
            hidden = layer.output(layer.intermediate(hidden), hidden)
        return self.model.classifier(hidden)


def first_token_scorer(model: torch.nn.Module, token_keep: float = 1.0) -> torch.nn.Module:
    """The first-token scorer of `model`'s architecture where there is one, else the model itself (which keeps
    every token: `token_keep` needs a first-token scorer)."""
    if not supports_first_token(model):
        return model
    return (MPNetFirstTokenScorer if hasattr(model, "mpnet") else FirstTokenScorer)(model, token_keep)


def logits_of(output) -> torch.Tensor:
    """Logits from a model output, a `FirstTokenScorer`'s tensor or an OpenVINO scorer's result."""
    return output if isinstance(output, torch.Tensor) else output.logits
