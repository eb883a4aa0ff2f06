"""Several streams' sentences written side by side: one ``llama_decode`` step gives a
token to every stream waiting at the local model.

Wearers on one server share one model. Two wearers already kept it in ``llama_decode``
~80 % of the time (docs/benchmark.md), so a third queued: its finals waited for the
others' to be written one after another. A decode step reads the weights once for every
sequence in it: on 2 cores one step of Qwen2.5-1.5B cost 32 ms for one sequence and
106 ms for four (``llama.PARALLEL_SEQUENCES``), so sentences that wait together are
written together. Each stream's evaluated prompt has a KV sequence of its own
(``llama_cache.SequenceParking``): a generation evaluates only the prompt tokens its
sequence lacks (older context turns cut out, ``llama_cache.cut_sequence``), in one batch
with the others', then all decode step by step.

Decoding is greedy like ``LlamaEngine.stream`` (top-k 1, forbidden tokens never chosen)
and stops at an end-of-generation token, a stop sequence, the token budget or once its
``cancelled()`` says so. Batched matrix products add in a different order than single
ones, so a sentence may rarely be worded differently than when written alone.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hudtranslate.translate.llama_batch import (
    _decode,
    common_prefix,
    cut_at_stop,
    evaluation_start,
)
from hudtranslate.translate.llama_cache import SequenceParking, cut_sequence

log = logging.getLogger(__name__)


@dataclass
class Generation:
    """One stream's request for a greedy completion of ``tokens`` (the whole prompt)."""

    owner: Hashable | None
    family: str
    prompt: str
    max_new_tokens: int
    cancelled: Callable[[], bool]
    on_text: Callable[[str], None] | None = None
    """Hears the text written so far (stop sequences cut, a possible start of one held
    back), from whichever thread writes it."""
    avoid: frozenset[int] = frozenset()
    tokens: list[int] = field(default_factory=list)
    text: str | None = None
    """The completion once ``done``; None when it was cancelled."""
    finished: threading.Event = field(default_factory=threading.Event)
    """Set once ``text`` is the completion."""

    @property
    def done(self) -> bool:
        return self.finished.is_set()


def held_back(text: str, stops: Sequence[str]) -> str:
    """``text`` up to its first stop sequence, without a tail that may be the start of
    one (shown word by word, "(Ter" must not flash before "(Terms:" is cut)."""
    text, stopped = cut_at_stop(text, stops)
    if stopped:
        return text
    for stop in stops:
        for length in range(min(len(stop) - 1, len(text)), 0, -1):
            if text.endswith(stop[:length]):
                text = text[:-length]
                break
    return text


@dataclass
class _Writing:
    generation: Generation
    sequence: int
    evaluated: list[int]
    """The tokens the sequence holds: the next one goes at position ``len(evaluated)``."""
    written: bytes = b""
    count: int = 0
    finished: bool = False
    cancelled: bool = False


def decode_together(llm: Any, parking: SequenceParking, generations: Sequence[Generation],
                    stops: Sequence[str], capacity: int,
                    more: Callable[[int], list[Generation]] | None = None,
                    whole_batch: int = 0) -> None:
    """Write every generation's completion side by side (at most as many at once as
    ``parking`` has sequences less one, distinct owners); sets their ``text`` and
    ``done``. ``more(writing)``, asked before each step with the number still being
    written, hands over generations that arrived meanwhile: they join from that step
    (continuous batching). A prompt with few tokens to evaluate is evaluated from
    ``whole_batch`` tokens back (``llama_batch.evaluation_start``). Each owner's evaluated
    tokens stay parked afterwards. Call with
    the model's lock held. Raises ``RuntimeError`` when llama.cpp fails to decode (the
    generations not done then may be written again)."""
    import llama_cpp

    parking.park_current(llm)
    memory = llama_cpp.llama_get_memory(llm._ctx.ctx)
    vocab = llama_cpp.llama_model_get_vocab(llm._model.model)
    n_vocab = llama_cpp.llama_vocab_n_tokens(vocab)
    writings: list[_Writing] = []
    entries: list[tuple[int, int, int, bool]] = []

    def join(arrived: Sequence[Generation]) -> None:
        for generation in arrived:
            generation.tokens = llm.tokenize(generation.prompt.encode("utf-8"), special=True)
        cached = llm._input_ids[: llm.n_tokens].tolist()
        parking.make_room(llm, cached, sum(
            len(g.tokens) + g.max_new_tokens
            - common_prefix(parking.tokens_of(g.owner, cached), g.tokens) for g in arrived)
            + sum(w.generation.max_new_tokens - w.count for w in writings), capacity)
        for generation in arrived:
            sequence, evaluated = parking.take(llm, generation.owner, generation.tokens)
            shared = max([parking.shared_prefix(evaluated), common_prefix(evaluated, cached),
                          *(common_prefix(evaluated, w.evaluated) for w in writings)])
            kept, evaluated = cut_sequence(llm, sequence, evaluated, generation.tokens, shared)
            if kept:
                log.debug("context cut in sequence %d: %d evaluated tokens kept", sequence, kept)
            start = evaluation_start(common_prefix(evaluated, generation.tokens),
                                     len(generation.tokens), whole_batch)
            llama_cpp.llama_memory_seq_rm(memory, sequence, start, -1)
            rest = generation.tokens[start:]
            entries.extend((token, start + at, sequence, at == len(rest) - 1)
                           for at, token in enumerate(rest))
            writings.append(_Writing(generation, sequence, list(generation.tokens)))

    join(generations)
    batch = llama_cpp.llama_batch_init(llm.n_batch, 0, 1)
    try:
        while entries:
            if more is not None:
                join(more(sum(not writing.finished for writing in writings)))
            logits = _decode(llm, batch, entries, n_vocab)
            entries = []
            for writing in writings:
                if writing.finished or writing.sequence not in logits:
                    continue
                token = _next_token(logits[writing.sequence], writing.generation.avoid)
                if _write(llm, writing, token, vocab, stops):
                    entries.append((token, len(writing.evaluated), writing.sequence, True))
                    writing.evaluated.append(token)
                else:
                    _finish(llm, parking, writing, stops)
    finally:
        llama_cpp.llama_batch_free(batch)
        for writing in writings:
            if not writing.generation.done:  # cells in doubt: freed, written again alone
                parking.put(llm, None, writing.sequence, [])


def _finish(llm: Any, parking: SequenceParking, writing: _Writing,
            stops: Sequence[str]) -> None:
    """A generation is written: its owner's tokens are parked, its text handed over."""
    generation = writing.generation
    parking.put(llm, generation.owner, writing.sequence, writing.evaluated)
    text = cut_at_stop(writing.written.decode("utf-8", errors="ignore"), stops)[0]
    generation.text = None if writing.cancelled else text
    generation.finished.set()


def _next_token(row: np.ndarray, avoid: frozenset[int]) -> int:
    if avoid:
        row = row.copy()
        row[[token for token in avoid if 0 <= token < len(row)]] = -np.inf
    return int(np.argmax(row))


def _write(llm: Any, writing: _Writing, token: int, vocab: Any, stops: Sequence[str]) -> bool:
    """Take ``token`` into ``writing``; True when it goes on (the token is to be
    evaluated for the next step), False when it has finished."""
    import llama_cpp

    generation = writing.generation
    if generation.cancelled():
        writing.finished = writing.cancelled = True
        return False
    if llama_cpp.llama_vocab_is_eog(vocab, token):
        writing.finished = True
        return False
    writing.written += llm.detokenize([token])
    writing.count += 1
    text = writing.written.decode("utf-8", errors="ignore")
    if generation.on_text is not None:
        generation.on_text(held_back(text, stops))
    if cut_at_stop(text, stops)[1] or writing.count >= generation.max_new_tokens:
        writing.finished = True
        return False
    return True
