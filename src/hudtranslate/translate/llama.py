"""llama.cpp backend (llama-cpp-python): one loaded GGUF model shared by all sessions.

llama-cpp-python keeps the last evaluated tokens and re-evaluates only what differs, so
prompts that grow append-only (see ``prompts.py``) cost only their new tokens. Each
stream's evaluated prompt is kept while other streams use the model
(``llama_cache.SequenceParking``: two wearers in different conversations went from p95
32 s to 2.6 s, docs/benchmark.md).

Prompt families. Speech and photo text have different fixed prompts (``PromptSet``) that
share almost no tokens, so switching between them would evaluate ~450 prompt tokens again
(3.4 s on 2 cores). Instead the engine keeps the KV state of each family it has left and
swaps states on a switch: saving costs 0.4 s and loading 0.7 s (measured with Qwen2.5-1.5B
Q4_K_M, 2 threads, a 450-token prompt: 10 MB of state).
"""

from __future__ import annotations

import collections
import contextlib
import logging
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from hudtranslate.errors import DependencyError, ModelError
from hudtranslate.translate.llama_batch import (
    WHOLE_BATCH_TOKENS,
    common_prefix,
    complete_batch,
    evaluation_start,
    has_avx512,
)
from hudtranslate.translate.llama_cache import SequenceParking, current_owner, cut_evaluated_span
from hudtranslate.translate.llama_output import output_left_alone
from hudtranslate.translate.llama_together import Generation, decode_together
from hudtranslate.translate.prompts import (
    SPEECH,
    STOP_SEQUENCES,
    PromptSet,
    build_prompt,
    shared_prompt_parts,
)
from hudtranslate.translate.text import english_words_to_avoid

log = logging.getLogger(__name__)

PARALLEL_SEQUENCES = 17
"""KV sequences for the cached prompt and up to 16 completions decoded side by side
(``complete_batch``); one unified cache of ``context_tokens`` cells for all, so more
sequences cost no memory. On 2 cores one decode step of Qwen2.5-1.5B cost 32 ms for
one sequence, 106 ms for 4, 231 ms for 8 and 281 ms for 16 (docs/benchmark.md, "Photo
blocks side by side"): the more side by side, the cheaper each token."""
PARKING_SEQUENCES = 8
"""KV sequences after those that keep other streams' evaluated prompts
(``llama_cache.SequenceParking``): up to 8 wearers switch without re-evaluation."""
_POLL_S = 0.005
"""How often a stream waiting for the model looks whether its completion was written."""
MAX_TOGETHER = PARKING_SEQUENCES - 1
"""Streams written side by side at most (each needs a KV sequence; one more parks the
stream that held sequence 0)."""
AVOID_BIAS = -100.0
"""Logit bias of a forbidden token: far below any real logit, so greedy decoding never
picks it."""


class LlamaEngine:
    """A loaded GGUF chat model. Generations are serialised by a lock."""

    def __init__(self, model_path: Path, *, threads: int, decode_threads: int | None = None,
                 context_tokens: int = 2048, name: str = "") -> None:
        """``threads`` evaluate prompts and batches; ``decode_threads`` (default
        ``threads``) decode one token at a time. Raises ``ModelError`` when the file does
        not load."""
        try:
            from llama_cpp import Llama
        except ImportError as exc:  # pragma: no cover - dependency is declared
            raise DependencyError(f"llama-cpp-python is not installed: {exc}") from exc
        self.threads = threads
        self.decode_threads = decode_threads or threads
        try:
            with (_context_sequences(PARALLEL_SEQUENCES + PARKING_SEQUENCES),
                  output_left_alone()):  # a server loads its overflow model while serving
                self._llm: Any = Llama(
                    model_path=str(model_path), n_ctx=context_tokens,
                    n_threads=self.decode_threads, n_threads_batch=threads,
                    n_batch=256, verbose=False,
                    # read, not mapped: llama.cpp repacks the Q4_K weights for the CPU
                    # into memory of its own, and the mapped file's pages stayed resident
                    # beside that copy (Qwen2.5-1.5B: 2.05 GB → 1.46 GB RSS, same speed)
                    use_mmap=False,
                )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(f"cannot load translation model {model_path}: {exc}") from None
        self.name = name or model_path.stem
        self.context_tokens = context_tokens
        self._all_threads = False
        self._together = False
        self._applied_decode_threads = self.decode_threads
        self.lock = threading.Lock()
        self._family = ""
        self._saved: dict[str, Any] = {}
        self._parking = SequenceParking(PARALLEL_SEQUENCES, PARKING_SEQUENCES)
        self._ended_owners: collections.deque[Hashable] = collections.deque()
        self.whole_batch_tokens = WHOLE_BATCH_TOKENS if has_avx512() else 0
        """Short prompt batches are padded to this many tokens (0: never)."""
        self._waiting: list[Generation] = []
        self._waiting_lock = threading.Lock()

    def share_cores_with(self, other: LlamaEngine) -> None:
        """Take ``other``'s lock as this engine's: the two never generate at the same time
        (each spins its threads; side by side on the same cores both would crawl). Call
        before either is used by more than one thread."""
        self.lock = other.lock

    def prefill(self, prompt: str, family: str = "speech") -> None:
        """Evaluate a prompt once so its tokens sit in the KV cache before speech starts."""
        with self.lock:
            self.switch_family(family)
            tokens = self._tokens_in_place(prompt, 1)
            self._llm.create_completion(tokens, max_tokens=1, temperature=0.0)

    def forget_owner(self, owner: Hashable) -> None:
        """A stream (``llama_cache.kv_owner``) has ended: its cached prompt is freed before
        the next generation. Never waits for the lock (callers may be on an event loop)."""
        self._ended_owners.append(owner)

    def switch_family(self, family: str) -> None:
        """Make ``family``'s evaluated prompt the current one: keep the current family's KV
        state and restore ``family``'s if it was kept. Call with ``self.lock`` held."""
        if family == self._family:
            return
        self._parking.drop_all(self._llm)  # other streams re-evaluate after a family change
        if self._family:
            self._saved[self._family] = self._llm.save_state()
        state = self._saved.pop(family, None)
        if state is not None:
            self._llm.load_state(state)
        log.debug("prompt family %s → %s (%s)", self._family or "none", family,
                  "restored" if state is not None else "evaluated anew")
        self._family = family

    def write_together(self, wanted: bool) -> None:
        """Write completions that several streams ask for at the same time side by side
        (``generate``; for when the model is behind: more sentences a second, each a
        little slower) or one after another (the default)."""
        self._together = wanted

    def use_all_threads(self, wanted: bool) -> None:
        """Decode with all ``threads`` (several streams share the model, whose throughput
        then bounds everyone's latency) or with ``decode_threads`` (one stream: fewer
        CPU-seconds per token beside the recogniser). Applies from the next generation."""
        self._all_threads = wanted

    def _apply_threads(self) -> None:
        import llama_cpp

        wanted = self.threads if self._all_threads else self.decode_threads
        if wanted != self._applied_decode_threads:
            llama_cpp.llama_set_n_threads(self._llm._ctx.ctx, wanted, self.threads)
            self._applied_decode_threads = wanted
            log.debug("decoding with %d threads", wanted)

    def _forget_ended(self) -> None:
        """Free the cached prompts of streams that have ended (lock held)."""
        while self._ended_owners:
            self._parking.forget(self._llm, self._ended_owners.popleft())

    def _tokens_in_place(self, prompt: str, max_new_tokens: int) -> list[int]:
        """``prompt``'s tokens, with the KV cache made ready for them: the calling stream's
        evaluated prompt in sequence 0 (``SequenceParking``; other streams' dropped while
        cells run short) and older context turns cut from it moved back rather than
        evaluated again (``cut_evaluated_span``). Call with the lock held."""
        llm = self._llm
        self._forget_ended()
        if self._parking.switch(llm, current_owner()):
            log.debug("restored the cached prompt of %s (%d tokens)", self._parking.owner,
                      llm.n_tokens)
        tokens: list[int] = llm.tokenize(prompt.encode("utf-8"), special=True)
        cached = llm._input_ids[: llm.n_tokens].tolist()
        dropped = self._parking.make_room(llm, cached, len(tokens) + max_new_tokens,
                                          self.context_tokens)
        if dropped:
            log.debug("dropped %d parked prompts for room", dropped)
        kept = cut_evaluated_span(llm, tokens, self._parking.shared_prefix(cached))
        if kept:
            log.debug("context cut: %d evaluated tokens kept", kept)
        # llama-cpp-python evaluates from the common prefix: begin earlier for a whole batch
        cached = common_prefix(llm._input_ids[: llm.n_tokens].tolist(), tokens)
        llm.n_tokens = min(llm.n_tokens,
                           evaluation_start(cached, len(tokens), self.whole_batch_tokens))
        return tokens

    def first_tokens(self, texts: Iterable[str], min_chars: int = 3) -> set[int]:
        """The first token of each of ``texts`` (as it would start a continuation), where
        that token spells at least ``min_chars`` characters: shorter ones ("d", " e")
        begin too many other words to be forbidden."""
        ids: set[int] = set()
        for text in texts:
            tokens = self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)
            if tokens:
                spelled = self._llm.detokenize(tokens[:1]).decode("utf-8", errors="ignore")
                if len(spelled.strip()) >= min_chars:
                    ids.add(int(tokens[0]))
        return ids

    def stream(self, prompt: str, *, max_new_tokens: int,
               cancelled: Callable[[], bool] = lambda: False,
               family: str = "speech", avoid: Iterable[int] = ()) -> Iterator[str]:
        """Yield text pieces of a greedy completion; stops early once ``cancelled()``.
        Tokens in ``avoid`` are never chosen (llama.cpp's logit bias, -100).

        Call with ``self.lock`` held by the caller's worker thread (one generation at a time).
        """
        self.switch_family(family)
        self._apply_threads()
        tokens = self._tokens_in_place(prompt, max_new_tokens)
        bias = {token: AVOID_BIAS for token in avoid} or None
        pieces = self._llm.create_completion(
            tokens, max_tokens=max_new_tokens, temperature=0.0, top_k=1,
            repeat_penalty=1.0, stop=list(STOP_SEQUENCES), stream=True, logit_bias=bias,
        )
        for piece in pieces:
            yield piece["choices"][0]["text"]
            if cancelled():
                log.debug("generation cancelled")
                break

    def generate(self, prompt: str, *, max_new_tokens: int,
                 cancelled: Callable[[], bool] = lambda: False, family: str = "speech",
                 avoid: Iterable[int] = (),
                 on_text: Callable[[str], None] | None = None) -> str | None:
        """A greedy completion of ``prompt`` like ``stream``'s, joined; None once
        ``cancelled()``. ``on_text`` hears the text so far as it grows, maybe from another
        thread. Takes the lock itself. With ``write_together``, completions that several
        streams (``llama_cache.kv_owner``) ask for at the same time are written side by
        side, joining at the next step (``llama_together.decode_together``); otherwise
        (and for a call without an owner) one by one by ``stream``."""
        request = Generation(current_owner(), family, prompt, max_new_tokens, cancelled,
                             on_text, frozenset(avoid))
        with self._waiting_lock:
            self._waiting.append(request)
        while not request.done:
            if not self.lock.acquire(blocking=False):
                # another stream's thread may be writing this one too
                request.finished.wait(_POLL_S)
                continue
            try:
                if not request.done:
                    self._write_from(request)
            finally:
                self.lock.release()
        return request.text

    def _write_from(self, request: Generation) -> None:
        """Write ``request`` (lock held), with whatever joins it."""
        if not self._together or request.owner is None:
            with self._waiting_lock:
                self._waiting[:] = [waiting for waiting in self._waiting
                                    if waiting is not request]
            self._generate_alone(request)
            return
        owners: set[Hashable | None] = {request.owner}
        together = self._take_waiting(request.family, owners, 0, first=request)
        self.switch_family(request.family)
        self._apply_threads()
        self._forget_ended()

        def more(writing: int) -> list[Generation]:
            if request.done:  # this thread's caller waits: finish the others, take no more
                return []
            arrived = self._take_waiting(request.family, owners, writing)
            if arrived:
                log.debug("%d more streams join, %d being written", len(arrived), writing)
            return arrived

        decode_together(self._llm, self._parking, together, STOP_SEQUENCES,
                        self.context_tokens, more, self.whole_batch_tokens)

    def _take_waiting(self, family: str, owners: set[Hashable | None], writing: int,
                      first: Generation | None = None) -> list[Generation]:
        """``first`` (if given) and the others waiting of ``family`` whose owner is not in
        ``owners`` (added to it), in order of arrival, as many as fit beside ``writing``
        being written (``MAX_TOGETHER``); the rest wait on."""
        with self._waiting_lock:
            taken = [first] if first is not None else []
            left: list[Generation] = []
            for waiting in self._waiting:
                if waiting is first:
                    continue
                if (waiting.family == family and waiting.owner is not None
                        and waiting.owner not in owners
                        and writing + len(taken) < MAX_TOGETHER):
                    taken.append(waiting)
                    owners.add(waiting.owner)
                else:
                    left.append(waiting)
            self._waiting[:] = left
        return taken

    def _generate_alone(self, request: Generation) -> None:
        pieces: list[str] = []
        for piece in self.stream(request.prompt, max_new_tokens=request.max_new_tokens,
                                 cancelled=request.cancelled, family=request.family,
                                 avoid=request.avoid):
            pieces.append(piece)
            if request.on_text is not None:
                request.on_text("".join(pieces))
        request.text = None if request.cancelled() else "".join(pieces)
        request.finished.set()

    def complete_batch(self, prefix: str, suffixes: Sequence[str],
                       max_new_tokens: Sequence[int], *, family: str = "speech",
                       avoid: Iterable[int] = ()) -> list[str]:
        """Greedy completions of ``prefix + suffix`` for each suffix, up to
        ``PARALLEL_SEQUENCES`` - 1 at once (``llama_batch.complete_batch``), stopping like
        ``stream``. Call with ``self.lock`` held."""
        self.switch_family(family)
        self._parking.drop_all(self._llm)  # the room for the batch counts every cell
        return complete_batch(self._llm, prefix, suffixes, max_new_tokens,
                              stops=STOP_SEQUENCES, avoid=avoid, sequences=PARALLEL_SEQUENCES)


@contextlib.contextmanager
def _context_sequences(sequences: int) -> Iterator[None]:
    """While a ``Llama`` is made: its context gets ``sequences`` KV sequences in one
    unified cache. llama-cpp-python sets ``n_seq_max`` only for embedding models, so its
    default context parameters are wrapped for the duration."""
    import llama_cpp.llama_cpp as low

    original = low.llama_context_default_params

    def parameters() -> Any:
        params = original()
        params.n_seq_max = sequences
        params.kv_unified = True
        return params

    low.llama_context_default_params = parameters
    try:
        yield
    finally:
        low.llama_context_default_params = original


class LlamaBackend:
    """``TranslationBackend`` over a local ``LlamaEngine``. ``glossary_example`` adds the
    worked example of glossary terms to the prompt (only when a glossary is in use: it
    cost 1.6 BLEU on the dev talks without one)."""

    def __init__(self, engine: LlamaEngine, *, glossary_example: bool = False) -> None:
        self.engine = engine
        self.name = engine.name
        self.glossary_example = glossary_example

    def warm_up(self, prompts: PromptSet = SPEECH) -> None:
        """Put the fixed system prompt and examples into the KV cache ahead of time."""
        self.engine.prefill(build_prompt("", glossary=self.glossary_example, prompts=prompts),
                            family=prompts.name)

    @property
    def prefill_pays(self) -> bool:
        """Is ``prepare`` worth calling between sentences? Not where short batches are
        padded (``WHOLE_BATCH_TOKENS``): its ~5 tokens cost the slow small-batch rate and
        leave the next sentence's prompt under 16 tokens (dev talks side by side, without
        it and with padding: 0.91× the CPU, StreamLAAL +0.01-0.06 s; docs/benchmark.md)."""
        return not self.engine.whole_batch_tokens

    def prepare(self, context: Sequence[tuple[str, str]], prompts: PromptSet = SPEECH) -> None:
        """Evaluate the prompt up to the next sentence with this context, off the critical
        path (llama.cpp then reuses it): up to the opening of the next user turn, the
        last token every next prompt shares."""
        prefix, _ = shared_prompt_parts([], context, glossary=self.glossary_example,
                                        prompts=prompts)
        self.engine.prefill(prefix, family=prompts.name)

    def forget_owner(self, owner: Hashable) -> None:
        """A stream (``llama_cache.kv_owner``) has ended: free its cached prompt."""
        self.engine.forget_owner(owner)

    def translate_batch(self, sources: Sequence[str], context: Sequence[tuple[str, str]], *,
                        max_new_tokens: Sequence[int],
                        prompts: PromptSet = SPEECH) -> list[str]:
        """The translation of each source after the same ``context``, generated side by
        side in groups of up to ``llama.PARALLEL_SEQUENCES`` - 1
        (``LlamaEngine.complete_batch``): one decode step serves them all. Not for
        Chinese targets (no forbidden-word bias here)."""
        if prompts.target_language == "zh":
            raise ValueError("translate_batch writes English only")
        prefix, suffixes = shared_prompt_parts(sources, context, glossary=self.glossary_example,
                                               prompts=prompts)
        with self.engine.lock:
            return self.engine.complete_batch(prefix, suffixes, max_new_tokens,
                                              family=prompts.name)

    def translate(
        self,
        source: str,
        context: Sequence[tuple[str, str]],
        *,
        forced_prefix: str,
        max_new_tokens: int,
        cancelled: Callable[[], bool],
        on_text: Callable[[str], None] | None = None,
        prompts: PromptSet = SPEECH,
    ) -> str | None:
        prompt = build_prompt(source, context, forced_prefix, glossary=self.glossary_example,
                              prompts=prompts)
        if cancelled():
            return None
        avoid: set[int] = set()
        if prompts.target_language == "zh":
            # Chinese must not copy the English through ("他 greeted我"): the source's
            # own lower-case words cannot start in the answer
            words = english_words_to_avoid(source)
            with self.engine.lock:
                avoid = self.engine.first_tokens([*words, *(" " + word for word in words)])
        text = self.engine.generate(prompt, max_new_tokens=max_new_tokens, cancelled=cancelled,
                                    family=prompts.name, avoid=avoid, on_text=on_text)
        if text is None or cancelled():
            return None
        return forced_prefix + text

