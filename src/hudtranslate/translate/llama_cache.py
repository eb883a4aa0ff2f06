"""Keeping llama.cpp's evaluated prompt when older context turns are cut out of it.

A session's prompt grows append-only until its context is trimmed (``translator.remember``
drops the oldest sentences a few at a time); the next prompt then differs from the
evaluated tokens right after the fixed examples, and llama-cpp-python would evaluate
every kept turn again (~50 tokens, ~0.6 s on 2 cores, every fourth sentence). Instead
the cells of the dropped span are removed and the kept cells moved back by its length
(llama.cpp's context shift: RoPE positions are rotated in place, as its own
``--context-shift`` does when a chat overflows). The kept turns were evaluated while the
dropped ones were still in view, so they are not bit-identical to a fresh evaluation: the
same approximation streaming chat front ends make.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hudtranslate.translate.llama_batch import common_prefix

MIN_KEPT_TOKENS = 16
"""A cut is made only if at least this many evaluated tokens after it are reused."""


def find_cut(cached: Sequence[int], tokens: Sequence[int],
             min_kept: int = MIN_KEPT_TOKENS) -> tuple[int, int, int] | None:
    """``(start, end, kept)`` when ``tokens`` is ``cached`` with ``cached[start:end]`` cut
    out, at least for the ``kept`` (≥ ``min_kept``) tokens that follow the cut; None when
    no such cut exists (the prompt only grows, or differs otherwise). The longest kept run
    wins; ``start`` is where the two first differ."""
    start = common_prefix(cached, tokens)
    if start >= len(cached) or start >= len(tokens):
        return None
    best: tuple[int, int, int] | None = None
    first = tokens[start]
    for end in range(start + 1, len(cached)):
        if cached[end] != first:
            continue
        kept = common_prefix(cached[end:], tokens[start:])
        if kept >= min_kept and (best is None or kept > best[2]):
            best = (start, end, kept)
    return best


def cut_evaluated_span(llm: Any, prompt: str) -> int:
    """Before ``llm`` (a ``llama_cpp.Llama``, lock held, one sequence in use) evaluates
    ``prompt``: if ``prompt`` is the evaluated tokens with a span cut out (``find_cut``),
    remove that span's KV cells and move the cells after it back, so llama-cpp-python's
    prefix reuse finds them. Returns how many evaluated tokens were kept that way (0 when
    nothing was cut, or the model's memory cannot shift positions)."""
    import llama_cpp

    tokens = llm.tokenize(prompt.encode("utf-8"), special=True)
    cached = llm._input_ids[: llm.n_tokens].tolist()
    cut = find_cut(cached, tokens)
    if cut is None:
        return 0
    memory = llama_cpp.llama_get_memory(llm._ctx.ctx)
    if not llama_cpp.llama_memory_can_shift(memory):
        return 0
    start, end, kept = cut
    llama_cpp.llama_memory_seq_rm(memory, 0, start, end)
    llama_cpp.llama_memory_seq_add(memory, 0, end, -1, start - end)
    tail = cached[end:]
    llm._input_ids[start : start + len(tail)] = tail
    llm.n_tokens = start + len(tail)
    return kept
