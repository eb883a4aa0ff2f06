"""Keeping llama.cpp's evaluated prompt: when older context turns are cut out of it
(``cut_evaluated_span``), and while another stream uses the model (``SequenceParking``).

A session's prompt grows append-only until its context is trimmed (``streaming_text.remember``
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

import collections
import contextlib
import contextvars
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
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


def cut_evaluated_span(llm: Any, tokens: Sequence[int], shared_upto: int = 0) -> int:
    """Before ``llm`` (a ``llama_cpp.Llama``, lock held) evaluates the prompt ``tokens``
    into sequence 0: if they are the evaluated tokens with a span cut out (``find_cut``),
    remove that span's KV cells and move the cells after it back, so llama-cpp-python's
    prefix reuse finds them. Cells before ``shared_upto`` may belong to other sequences
    too (``SequenceParking``) and are never moved. Returns how many evaluated tokens were
    kept that way (0 when nothing was cut, or the model's memory cannot shift positions)."""
    cached = llm._input_ids[: llm.n_tokens].tolist()
    kept, evaluated = cut_sequence(llm, 0, cached, tokens, shared_upto)
    if kept:
        llm._input_ids[: len(evaluated)] = evaluated
        llm.n_tokens = len(evaluated)
    return kept


def cut_sequence(llm: Any, sequence: int, evaluated: Sequence[int], tokens: Sequence[int],
                 shared_upto: int = 0) -> tuple[int, list[int]]:
    """``cut_evaluated_span`` for any ``sequence`` holding ``evaluated``: how many
    evaluated tokens a cut kept (0: none made) and the tokens the sequence holds now."""
    import llama_cpp

    cut = find_cut(evaluated, tokens)
    if cut is None or cut[1] < shared_upto:
        return 0, list(evaluated)
    memory = llama_cpp.llama_get_memory(llm._ctx.ctx)
    if not llama_cpp.llama_memory_can_shift(memory):
        return 0, list(evaluated)
    start, end, kept = cut
    llama_cpp.llama_memory_seq_rm(memory, sequence, start, end)
    llama_cpp.llama_memory_seq_add(memory, sequence, end, -1, start - end)
    return kept, [*evaluated[:start], *evaluated[end:]]


_owner: contextvars.ContextVar[Hashable | None] = contextvars.ContextVar("kv_owner", default=None)


@contextlib.contextmanager
def kv_owner(owner: Hashable) -> Iterator[None]:
    """Calls to the local model made in this block (same thread) evaluate ``owner``'s
    prompts: a stream's translator wraps its calls in it, so ``SequenceParking`` keeps its
    evaluated prompt while other streams use the model."""
    token = _owner.set(owner)
    try:
        yield
    finally:
        _owner.reset(token)


def current_owner() -> Hashable | None:
    """The owner set by the innermost ``kv_owner`` block of this thread, if any."""
    return _owner.get()


@dataclass
class _Parked:
    sequence: int
    tokens: list[int]


class SequenceParking:
    """Every stream's evaluated prompt stays in llama.cpp's KV cache while another stream
    uses the model.

    llama-cpp-python evaluates into sequence 0 and reuses only the prefix its last prompt
    shares with the next. Several wearers on one server share the fixed examples but not
    their context turns, so each change of stream evaluated that stream's context again
    (~100–300 tokens, 1–3 s on 2 cores) and threw away the prefill made for the next
    sentence. Instead, the leaving stream's cells are given a sequence id of their own
    (``llama_memory_seq_cp``: a unified cache shares the cells, nothing is copied) and the
    arriving stream's are handed back to sequence 0 with its token list. The least
    recently used parked stream gives up its cells when sequences or cells run short.

    Cells are shared only over the token prefix two sequences have in common (a parked
    copy is taken of sequence 0, which then only grows or is cut from the end), which is
    what the room estimate and ``shared_prefix`` rely on. Use with the model's lock held.
    """

    def __init__(self, first_sequence: int, count: int) -> None:
        self._free = list(range(first_sequence + count - 1, first_sequence - 1, -1))
        self._parked: collections.OrderedDict[Hashable, _Parked] = collections.OrderedDict()
        self.owner: Hashable | None = None

    @property
    def parked(self) -> int:
        return len(self._parked)

    def switch(self, llm: Any, owner: Hashable | None) -> bool:
        """Make ``owner``'s evaluated prompt sequence 0's (parking the current owner's);
        True when a parked prompt was restored. ``None`` (no owner) keeps what is there."""
        if owner is None or owner == self.owner:
            return False
        import llama_cpp

        memory = llama_cpp.llama_get_memory(llm._ctx.ctx)
        if self.owner is not None and llm.n_tokens > 0:
            self._park(llm, memory)
        self.owner = owner
        parked = self._parked.pop(owner, None)
        if parked is None:
            return False  # a new stream starts from what sequence 0 holds (prefix reuse)
        llama_cpp.llama_memory_seq_rm(memory, 0, -1, -1)
        llama_cpp.llama_memory_seq_cp(memory, parked.sequence, 0, -1, -1)
        self._release(memory, parked.sequence)
        count = len(parked.tokens)
        llm.input_ids[:count] = parked.tokens
        llm.n_tokens = count
        llm._requires_eval = True  # the logits in the context are another stream's
        return True

    def _park(self, llm: Any, memory: Any) -> None:
        import llama_cpp

        if not self._free:
            self._evict_oldest(memory)
        sequence = self._free.pop()
        llama_cpp.llama_memory_seq_cp(memory, 0, sequence, -1, -1)
        self._parked[self.owner] = _Parked(sequence, llm._input_ids[: llm.n_tokens].tolist())

    def _evict_oldest(self, memory: Any) -> None:
        _, parked = self._parked.popitem(last=False)
        self._release(memory, parked.sequence)

    def _release(self, memory: Any, sequence: int) -> None:
        """Free ``sequence``: its cells (unless other sequences share them) and its id."""
        import llama_cpp

        llama_cpp.llama_memory_seq_rm(memory, sequence, -1, -1)
        self._free.append(sequence)

    def park_current(self, llm: Any) -> None:
        """Park sequence 0's owner (before several streams are written side by side);
        sequence 0 then has no owner: its cells are only a source of shared prefixes."""
        if self.owner is not None and llm.n_tokens > 0:
            import llama_cpp

            memory = llama_cpp.llama_get_memory(llm._ctx.ctx)
            self._park(llm, memory)
            # Sequence 0 keeps only what other parked prompts share with it (the fixed
            # examples): the parked copy's own turns are then its alone, and may be cut.
            cached = llm._input_ids[: llm.n_tokens].tolist()
            common = max((common_prefix(parked.tokens, cached) for owner, parked
                          in self._parked.items() if owner != self.owner),
                         default=len(cached))
            llama_cpp.llama_memory_seq_rm(memory, 0, common, -1)
            llm.n_tokens = common
        self.owner = None

    def tokens_of(self, owner: Hashable | None, cached: Sequence[int]) -> Sequence[int]:
        """The evaluated tokens ``take`` would start ``owner`` from (``cached``: sequence
        0's, which a stream without a parked prompt shares its prefix with)."""
        parked = self._parked.get(owner) if owner is not None else None
        return parked.tokens if parked is not None else cached

    def take(self, llm: Any, owner: Hashable | None,
             tokens: Sequence[int]) -> tuple[int, list[int]]:
        """A sequence of ``owner``'s own and the tokens evaluated in it: its parked
        prompt, or a free sequence given the cells of sequence 0's prefix in common with
        ``tokens``. Give it back with ``put``. Raises ``RuntimeError`` when no sequence
        is left."""
        import llama_cpp

        parked = self._parked.pop(owner, None) if owner is not None else None
        if parked is not None:
            return parked.sequence, parked.tokens
        memory = llama_cpp.llama_get_memory(llm._ctx.ctx)
        if not self._free:
            if not self._parked:
                raise RuntimeError("no KV sequence left for another stream")
            self._evict_oldest(memory)
        sequence = self._free.pop()
        cached = llm._input_ids[: llm.n_tokens].tolist()
        shared = common_prefix(cached, tokens)
        llama_cpp.llama_memory_seq_rm(memory, sequence, -1, -1)
        if shared:
            llama_cpp.llama_memory_seq_cp(memory, 0, sequence, 0, shared)
        return sequence, cached[:shared]

    def put(self, llm: Any, owner: Hashable | None, sequence: int, tokens: list[int]) -> None:
        """Give back a ``take``n sequence, now holding ``tokens``: parked as ``owner``'s
        (the most recently used), or freed when there is no owner."""
        if owner is None:
            import llama_cpp

            self._release(llama_cpp.llama_get_memory(llm._ctx.ctx), sequence)
            return
        self._parked[owner] = _Parked(sequence, tokens)

    def shared_prefix(self, cached: Sequence[int]) -> int:
        """How far (in positions) sequence 0's cells, holding ``cached``, may be shared
        with a parked sequence: cells there must not be moved (``cut_evaluated_span``)."""
        return max((common_prefix(parked.tokens, cached) for parked in self._parked.values()),
                   default=0)

    def make_room(self, llm: Any, cached: Sequence[int], needed: int, capacity: int) -> int:
        """Drop the least recently parked streams until ``needed`` more cells fit beside
        sequence 0 (holding ``cached``) in ``capacity`` cells; returns how many were
        dropped."""
        import llama_cpp

        memory = llama_cpp.llama_get_memory(llm._ctx.ctx)
        dropped = 0
        while self._parked and (len(cached) + needed + sum(
                len(parked.tokens) - common_prefix(parked.tokens, cached)
                for parked in self._parked.values())) > capacity:
            self._evict_oldest(memory)
            dropped += 1
        return dropped

    def forget(self, llm: Any, owner: Hashable) -> None:
        """``owner``'s stream has ended: free its cells (now, if parked; if it holds
        sequence 0, the next stream simply continues from there)."""
        parked = self._parked.pop(owner, None)
        if parked is not None:
            import llama_cpp

            self._release(llama_cpp.llama_get_memory(llm._ctx.ctx), parked.sequence)
        if self.owner == owner:
            self.owner = None

    def drop_all(self, llm: Any) -> None:
        """Free every parked stream (before the model's state is saved for another
        prompt family); the owner of sequence 0 is forgotten too."""
        import llama_cpp

        memory = llama_cpp.llama_get_memory(llm._ctx.ctx)
        while self._parked:
            self._evict_oldest(memory)
        self.owner = None
