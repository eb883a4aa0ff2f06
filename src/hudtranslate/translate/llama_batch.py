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

Needs a context made with ``n_seq_max`` > the number of completions and a unified KV
cache (``LlamaEngine`` makes its context so).
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np


def common_prefix(cached: Sequence[int], tokens: Sequence[int]) -> int:
    """How many leading tokens of ``tokens`` the cache already holds."""
    count = 0
    for have, want in zip(cached, tokens, strict=False):
        if have != want:
            break
        count += 1
    return count


def cut_at_stop(text: str, stops: Iterable[str]) -> tuple[str, bool]:
    """``text`` up to its first stop sequence, and whether one was found."""
    ends = [text.find(stop) for stop in stops if stop and stop in text]
    return (text[: min(ends)], True) if ends else (text, False)


def complete_batch(llm: Any, prefix: str, suffixes: Sequence[str],
                   max_new_tokens: Sequence[int], *, stops: Sequence[str] = (),
                   avoid: Iterable[int] = ()) -> list[str]:
    """Greedy completions of ``prefix + suffix`` for each suffix (one list item each).

    ``llm`` is a ``llama_cpp.Llama`` whose context has room for ``len(suffixes) + 1``
    sequences; the caller holds its lock. Raises ``ValueError`` when the suffixes and
    budgets differ in number or there are more suffixes than sequences, ``RuntimeError``
    when llama.cpp fails to decode.
    """
    import llama_cpp

    if len(suffixes) != len(max_new_tokens):
        raise ValueError(f"{len(suffixes)} suffixes for {len(max_new_tokens)} token budgets")
    ctx = llm._ctx.ctx
    sequences = llama_cpp.llama_n_seq_max(ctx)
    if len(suffixes) >= sequences:
        raise ValueError(f"{len(suffixes)} completions need {len(suffixes) + 1} sequences, "
                         f"the context has {sequences}")
    if not suffixes:
        return []
    prefix_tokens = llm.tokenize(prefix.encode("utf-8"), special=True)
    reused = common_prefix(llm._input_ids[: llm.n_tokens].tolist(), prefix_tokens)
    llm.n_tokens = reused
    if reused < len(prefix_tokens):
        llm.eval(prefix_tokens[reused:])  # removes every sequence's cells from here on
    else:
        llm._ctx.kv_cache_seq_rm(-1, reused, -1)
    start = len(prefix_tokens)
    memory = llama_cpp.llama_get_memory(ctx)
    vocab = llama_cpp.llama_model_get_vocab(llm._model.model)
    n_vocab = llama_cpp.llama_vocab_n_tokens(vocab)
    bias = np.zeros(n_vocab, dtype=np.float32)
    bias[[token for token in avoid if 0 <= token < n_vocab]] = -np.inf
    entries: list[tuple[int, int, int, bool]] = []
    positions: list[int] = []
    for index, suffix in enumerate(suffixes):
        seq = index + 1
        llama_cpp.llama_memory_seq_rm(memory, seq, -1, -1)
        llama_cpp.llama_memory_seq_cp(memory, 0, seq, 0, start)
        tokens = llm.tokenize(suffix.encode("utf-8"), add_bos=False, special=True)
        entries += [(token, start + at, seq, at == len(tokens) - 1)
                    for at, token in enumerate(tokens)]
        positions.append(start + len(tokens))
    outputs = [b""] * len(suffixes)
    counts = [0] * len(suffixes)
    done = [budget <= 0 for budget in max_new_tokens]
    batch = llama_cpp.llama_batch_init(llm.n_batch, 0, 1)  # reused by every step
    try:
        while True:
            logits = _decode(llm, batch, entries, n_vocab)
            entries = []
            for seq, row in logits.items():
                index = seq - 1
                token = int(np.argmax(row + bias))
                if llama_cpp.llama_vocab_is_eog(vocab, token):
                    done[index] = True
                    continue
                outputs[index] += llm.detokenize([token])
                counts[index] += 1
                text = outputs[index].decode("utf-8", errors="ignore")
                if cut_at_stop(text, stops)[1] or counts[index] >= max_new_tokens[index]:
                    done[index] = True
                    continue
                entries.append((token, positions[index], seq, True))
                positions[index] += 1
            if not entries:
                break
    finally:
        llama_cpp.llama_batch_free(batch)
        for index in range(len(suffixes)):
            llama_cpp.llama_memory_seq_rm(memory, index + 1, -1, -1)
    return [cut_at_stop(output.decode("utf-8", errors="ignore"), stops)[0]
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
