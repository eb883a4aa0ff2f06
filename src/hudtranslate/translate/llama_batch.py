"""Several greedy completions of one shared prompt prefix, decoded side by side.

On a 2-core CPU one decode step of Qwen2.5-1.5B (Q4_K_M) costs ~37 ms for one token but
~82 ms for four (measured: 1.8× the throughput), because the weights are read once per
step for every sequence. The blocks of a photo share their prompt up to their own turn,
so their translations can be generated together: the prefix is evaluated once (reusing
llama-cpp-python's cache of the last prompt, sequence 0), copied to one KV sequence per
completion (``llama_memory_seq_cp``: the cells are shared, not duplicated), and each step
decodes one token of every unfinished completion in a single ``llama_decode``.

Decoding is greedy like ``LlamaEngine.stream`` (top-k 1, forbidden tokens never chosen)
and stops at an end-of-generation token, a stop sequence or the token budget. Batched
matrix products add in a different order than single ones, so a completion may rarely
differ from the one-at-a-time result in a late token.

Needs a context made with several sequences and a unified KV cache (``LlamaEngine``
makes its context so); more completions than sequences or free cells are decoded in
groups one after another.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

WHOLE_BATCH_TOKENS = 16
"""On CPUs with AVX-512, llama.cpp's kernel for repacked Q4_K weights multiplies 16 tokens
at a time and the rest four at a time, more slowly. Qwen2.5-1.5B on one thread, after a
300-token prompt: a batch of 16 tokens cost 404 ms of CPU, one of 12 428 ms, one of 15
519 ms and one of 10 391 ms; a single token 51 ms (``scripts/batch_cost.py``). So a prompt
with 11-15 tokens to evaluate is evaluated from 16 tokens back, some of them again."""
PAD_FROM_TOKENS = 11
"""Batches shorter than this cost less than 16 tokens."""


def common_prefix(cached: Sequence[int], tokens: Sequence[int]) -> int:
    """How many leading tokens of ``tokens`` the cache already holds."""
    count = 0
    for have, want in zip(cached, tokens, strict=False):
        if have != want:
            break
        count += 1
    return count


def evaluation_start(cached: int, total: int, whole_batch: int) -> int:
    """Where evaluating a prompt of ``total`` tokens starts when its first ``cached`` are
    evaluated already: there (at the last token at most: its logits are needed), or
    ``whole_batch`` tokens from its end when the batch would otherwise be
    ``PAD_FROM_TOKENS`` to ``whole_batch`` - 1 tokens (``WHOLE_BATCH_TOKENS``)."""
    reused = min(cached, total - 1)
    if whole_batch and PAD_FROM_TOKENS <= total - reused < whole_batch <= total:
        return total - whole_batch
    return reused


def has_avx512() -> bool:
    """Was llama.cpp's CPU backend built with AVX-512 (``WHOLE_BATCH_TOKENS``)?"""
    import llama_cpp

    return b"AVX512 = 1" in llama_cpp.llama_print_system_info()


def cut_at_stop(text: str, stops: Iterable[str]) -> tuple[str, bool]:
    """``text`` up to its first stop sequence, and whether one was found."""
    ends = [text.find(stop) for stop in stops if stop and stop in text]
    return (text[: min(ends)], True) if ends else (text, False)


def plan_groups(sizes: Sequence[int], room: int, max_sequences: int) -> list[list[int]]:
    """Indices of completions in groups decoded together, in order: at most
    ``max_sequences`` per group and the KV cells each completion may need (``sizes``:
    its suffix tokens plus its token budget) summing to at most ``room``. A completion
    larger than ``room`` alone still gets a group of its own (llama.cpp then reports
    the lack of room). Raises ``ValueError`` for ``max_sequences`` < 1."""
    if max_sequences < 1:
        raise ValueError(f"max_sequences must be at least 1, got {max_sequences}")
    groups: list[list[int]] = []
    used = 0
    for index, size in enumerate(sizes):
        if groups and len(groups[-1]) < max_sequences and used + size <= room:
            groups[-1].append(index)
            used += size
        else:
            groups.append([index])
            used = size
    return groups


def complete_batch(llm: Any, prefix: str, suffixes: Sequence[str],
                   max_new_tokens: Sequence[int], *, stops: Sequence[str] = (),
                   avoid: Iterable[int] = (), sequences: int = 0) -> list[str]:
    """Greedy completions of ``prefix + suffix`` for each suffix (one list item each).

    ``llm`` is a ``llama_cpp.Llama`` whose context has more than one sequence; the
    caller holds its lock. The prefix is evaluated once; the completions go in groups
    of as many as sequences 1 … ``sequences`` - 1 (default: all the context has) and
    free KV cells allow (``plan_groups``).
    Raises ``ValueError`` when the suffixes and budgets differ in number or the context
    has a single sequence, ``RuntimeError`` when llama.cpp fails to decode.
    """
    import llama_cpp

    if len(suffixes) != len(max_new_tokens):
        raise ValueError(f"{len(suffixes)} suffixes for {len(max_new_tokens)} token budgets")
    ctx = llm._ctx.ctx
    sequences = min(sequences or llama_cpp.llama_n_seq_max(ctx), llama_cpp.llama_n_seq_max(ctx))
    if sequences < 2:
        raise ValueError("batched completions need a context with at least 2 sequences")
    if not suffixes:
        return []
    prefix_tokens = llm.tokenize(prefix.encode("utf-8"), special=True)
    reused = common_prefix(llm._input_ids[: llm.n_tokens].tolist(), prefix_tokens)
    llm.n_tokens = reused
    if reused < len(prefix_tokens):
        llm.eval(prefix_tokens[reused:])  # removes sequence 0's cells from here on
    else:
        llm._ctx.kv_cache_seq_rm(-1, reused, -1)
    suffix_tokens = [llm.tokenize(suffix.encode("utf-8"), add_bos=False, special=True)
                     for suffix in suffixes]
    room = llama_cpp.llama_n_ctx(ctx) - len(prefix_tokens)
    groups = plan_groups([len(tokens) + budget for tokens, budget
                          in zip(suffix_tokens, max_new_tokens, strict=True)],
                         room, sequences - 1)
    outputs = [""] * len(suffixes)
    decoder = _BatchDecoder(llm, len(prefix_tokens), stops, avoid)
    try:
        for group in groups:
            answers = decoder.complete([suffix_tokens[index] for index in group],
                                       [max_new_tokens[index] for index in group])
            for index, answer in zip(group, answers, strict=True):
                outputs[index] = answer
    finally:
        decoder.close()
    return outputs


class _BatchDecoder:
    """Decodes groups of completions after the evaluated prefix (sequence 0), one KV
    sequence per completion, through one reusable ``llama_batch``."""

    def __init__(self, llm: Any, start: int, stops: Sequence[str],
                 avoid: Iterable[int]) -> None:
        import llama_cpp

        self.llm = llm
        self.start = start
        self.stops = stops
        self.memory = llama_cpp.llama_get_memory(llm._ctx.ctx)
        self.vocab = llama_cpp.llama_model_get_vocab(llm._model.model)
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self.vocab)
        self.bias = np.zeros(self.n_vocab, dtype=np.float32)
        self.bias[[token for token in avoid if 0 <= token < self.n_vocab]] = -np.inf
        self.batch = llama_cpp.llama_batch_init(llm.n_batch, 0, 1)

    def close(self) -> None:
        import llama_cpp

        llama_cpp.llama_batch_free(self.batch)

    def complete(self, suffixes: Sequence[Sequence[int]],
                 max_new_tokens: Sequence[int]) -> list[str]:
        """Greedy completions of the prefix followed by each token list."""
        import llama_cpp

        llm, start = self.llm, self.start
        entries: list[tuple[int, int, int, bool]] = []
        positions: list[int] = []
        for index, tokens in enumerate(suffixes):
            seq = index + 1
            llama_cpp.llama_memory_seq_rm(self.memory, seq, -1, -1)
            llama_cpp.llama_memory_seq_cp(self.memory, 0, seq, 0, start)
            entries += [(token, start + at, seq, at == len(tokens) - 1)
                        for at, token in enumerate(tokens)]
            positions.append(start + len(tokens))
        outputs = [b""] * len(suffixes)
        counts = [0] * len(suffixes)
        try:
            while entries:
                logits = _decode(llm, self.batch, entries, self.n_vocab)
                entries = []
                for seq, row in logits.items():
                    index = seq - 1
                    if counts[index] >= max_new_tokens[index]:
                        continue
                    token = int(np.argmax(row + self.bias))
                    if llama_cpp.llama_vocab_is_eog(self.vocab, token):
                        continue
                    outputs[index] += llm.detokenize([token])
                    counts[index] += 1
                    text = outputs[index].decode("utf-8", errors="ignore")
                    if cut_at_stop(text, self.stops)[1] or counts[index] >= max_new_tokens[index]:
                        continue
                    entries.append((token, positions[index], seq, True))
                    positions[index] += 1
        finally:
            for index in range(len(suffixes)):
                llama_cpp.llama_memory_seq_rm(self.memory, index + 1, -1, -1)
        return [cut_at_stop(output.decode("utf-8", errors="ignore"), self.stops)[0]
                for output in outputs]


def _decode(llm: Any, batch: Any, entries: Sequence[tuple[int, int, int, bool]],
            n_vocab: int) -> dict[int, np.ndarray]:
    """Decode (token, position, sequence, wants logits) entries in chunks of the
    context's batch size, through ``batch`` (room for that many tokens); the logits of
    each entry that wants them, by sequence."""
    import llama_cpp

    ctx = llm._ctx.ctx
    logits: dict[int, np.ndarray] = {}
    size = llm.n_batch
    for first in range(0, len(entries), size):
        chunk = entries[first : first + size]
        batch.n_tokens = len(chunk)
        for at, (token, position, seq, wanted) in enumerate(chunk):
            batch.token[at] = token
            batch.pos[at] = position
            batch.n_seq_id[at] = 1
            batch.seq_id[at][0] = seq
            batch.logits[at] = wanted
        status = llama_cpp.llama_decode(ctx, batch)
        if status != 0:
            raise RuntimeError(f"llama_decode failed ({status}) on a batch of "
                               f"{len(chunk)} tokens")
        for at, (_, _, seq, wanted) in enumerate(chunk):
            if wanted:
                pointer = llama_cpp.llama_get_logits_ith(ctx, at)
                logits[seq] = np.ctypeslib.as_array(
                    ctypes.cast(pointer, ctypes.POINTER(ctypes.c_float)),
                    shape=(n_vocab,)).copy()
    return logits
