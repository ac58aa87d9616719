"""SPLADE max pooling without the ``[batch, length, vocab]`` tensor.

SPLADE's weight of term ``j`` is ``max_i log(1 + relu(logit_ij))`` over the text's tokens. ``log1p`` and ``relu``
are monotone, so it equals ``log1p(relu(max_i logit_ij))``: the masked max of the logits comes first and the
activation runs on the ``[batch, vocab]`` result. The MLM head's last matrix product (hidden -> vocabulary, the bulk
of a small model's cost) runs on the non-padding tokens alone, a bounded number of tokens at a time, so memory stays
``chunk x vocab`` whatever the batch size and length.

In training, the max passes the gradient to one token per (text, term), and only terms with a positive logit have
any: :class:`MaxPooledHead` computes that sparse backward directly instead of back-propagating through a dense
``[batch, length, vocab]`` tensor of zeros.
"""
from __future__ import annotations

import contextlib
import threading
from typing import Iterator

import torch

CHUNK_TOKENS = 2048  # tokens per matrix product
# Vocabulary columns per product. The logits of a chunk exist one tile at a time (2,048 x 2,048 fp32 is 16 MB), so
# they are written and read back while still in cache, and stay below glibc's 32 MB mmap threshold: a whole-
# vocabulary chunk (250 MB) was a fresh mapping each time, and the kernel's page zeroing took a third of the head's
# time. On 2 cores this lifted the head from 62 to 128 GFLOP/s in fp32 and from 128 to 214 in bf16.
VOCAB_TILE = 2048
_SWAP_LOCK = threading.Lock()


def output_decoder(model: torch.nn.Module) -> torch.nn.Linear | None:
    """The MLM head's hidden -> vocabulary ``Linear`` (weights usually tied to the embeddings), if it has one."""
    decoder = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    return decoder if isinstance(decoder, torch.nn.Linear) else None


@contextlib.contextmanager
def decoder_bypassed(model: torch.nn.Module, decoder: torch.nn.Linear) -> Iterator[None]:
    """Within the block, ``model(...).logits`` are the decoder's inputs (the head's transformed hidden states).

    The decoder module is swapped for an identity and put back; the lock keeps two threads from interleaving swaps.
    """
    for name, module in model.named_modules():
        for child_name, child in module.named_children():
            if child is decoder:
                with _SWAP_LOCK:
                    setattr(module, child_name, torch.nn.Identity())
                    try:
                        yield
                    finally:
                        setattr(module, child_name, decoder)
                return
    raise ValueError("the output decoder is not a submodule of the model")


def _segments(lengths: list[int], chunk_tokens: int) -> Iterator[tuple[int, int]]:
    """Consecutive runs of texts ``[first, last)`` holding at most ``chunk_tokens`` tokens (at least one text)."""
    first = 0
    while first < len(lengths):
        last, tokens = first + 1, lengths[first]
        while last < len(lengths) and tokens + lengths[last] <= chunk_tokens:
            tokens += lengths[last]
            last += 1
        yield first, last
        first = last


def max_logits(valid: torch.Tensor, lengths: list[int], weight: torch.Tensor, bias: torch.Tensor | None,
               with_index: bool = False, chunk_tokens: int = CHUNK_TOKENS, vocab_tile: int = VOCAB_TILE
               ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Per text, the max over its tokens of ``valid @ weight.T + bias``: ``([texts, vocab] fp32, token index)``.

    ``valid`` holds the texts' non-padding hidden states back to back (``lengths`` tokens each); the token index
    (into ``valid``) of each max is returned when ``with_index``.
    """
    values = torch.empty(len(lengths), weight.shape[0], dtype=torch.float32, device=valid.device)
    index = torch.empty(values.shape, dtype=torch.long, device=valid.device) if with_index else None
    starts = [0]
    for length in lengths:
        starts.append(starts[-1] + length)
    columns = weight.T.to(valid.dtype)
    bias = None if bias is None else bias.to(valid.dtype)
    for first, last in _segments(lengths, chunk_tokens):
        rows = valid[starts[first]:starts[last]]
        for start in range(0, weight.shape[0], vocab_tile):
            tile = slice(start, start + vocab_tile)
            logits = rows @ columns[:, tile] if bias is None else torch.addmm(bias[tile], rows, columns[:, tile])
            for text in range(first, last):
                segment = logits[starts[text] - starts[first]:starts[text + 1] - starts[first]]
                if with_index:
                    best, where = segment.max(dim=0)
                    values[text, tile] = best
                    index[text, tile] = where + starts[text]
                else:
                    values[text, tile] = segment.amax(dim=0)
    return values, index


class MaxPooledHead(torch.autograd.Function):
    """``log1p(relu(max_i (valid_i @ W.T + b)))`` per text, with the sparse gradient of the max."""

    @staticmethod
    def forward(ctx, valid: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                lengths: list[int]) -> torch.Tensor:
        best, index = max_logits(valid.detach(), lengths, weight.detach(), None if bias is None else bias.detach(),
                                 with_index=True)
        ctx.save_for_backward(valid, weight, best, index)
        ctx.has_bias = bias is not None
        return torch.log1p(torch.relu(best))

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        valid, weight, best, index = ctx.saved_tensors
        # d log1p(relu(x)) / dx = 1 / (1 + x) where x > 0, else 0 (torch's relu has gradient 0 at 0)
        scaled = torch.where(best > 0, grad / (1 + best.clamp(min=0)), torch.zeros_like(grad))
        texts, terms = scaled.nonzero(as_tuple=True)
        amounts = scaled[texts, terms].unsqueeze(1)
        tokens = index[texts, terms]
        grad_valid = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_valid = torch.zeros_like(valid).index_add_(0, tokens, (amounts * weight[terms]).to(valid.dtype))
        if ctx.needs_input_grad[1]:
            grad_weight = torch.zeros_like(weight).index_add_(0, terms, (amounts * valid[tokens]).to(weight.dtype))
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_bias = scaled.sum(dim=0).to(weight.dtype)
        return grad_valid, grad_weight, grad_bias, None


def splade_max_pool(model: torch.nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """``[batch, vocab]`` SPLADE weights of a masked-LM ``model``: differentiable when grad is enabled.

    Models whose head has no ``Linear`` decoder take the dense path (full logits, activation, masked max).
    """
    decoder = output_decoder(model)
    if decoder is None:
        logits = model(input_ids=input_ids, attention_mask=attention_mask).logits
        weights = torch.log1p(torch.relu(logits.float())) * attention_mask.unsqueeze(-1).float()
        return weights.amax(dim=1)
    with decoder_bypassed(model, decoder):
        hidden = model(input_ids=input_ids, attention_mask=attention_mask).logits
    keep = attention_mask.bool()
    lengths = keep.sum(dim=1).tolist()
    valid = hidden[keep]  # row-major: each text's tokens back to back, whichever side the padding is on
    if torch.is_grad_enabled() and (valid.requires_grad or decoder.weight.requires_grad):
        return MaxPooledHead.apply(valid, decoder.weight, decoder.bias, lengths)
    best, _ = max_logits(valid, lengths, decoder.weight, decoder.bias)
    return torch.log1p_(torch.relu_(best))


def prune_topk(vectors: torch.Tensor, k: int | None) -> torch.Tensor:
    """Keep the ``k`` largest weights of each row (all when ``k`` is ``None``); gradient flows through kept ones."""
    if k is None or k >= vectors.shape[-1]:
        return vectors
    top = vectors.topk(k, dim=-1)
    return torch.zeros_like(vectors).scatter(-1, top.indices, top.values)
