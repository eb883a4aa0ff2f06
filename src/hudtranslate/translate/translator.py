"""Per-session translation state: context of previous sentences, reuse of partial work.

The loaded model (a ``TranslationBackend``) is shared; a ``SessionTranslator`` per stream
holds only the context, so many wearers can share one model.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from hudtranslate.config import TranslateOptions
from hudtranslate.events import Transcript, Translation
from hudtranslate.translate.llama import LlamaEngine
from hudtranslate.translate.prompts import build_prompt
from hudtranslate.translate.text import clean_translation

_CONTEXT_SLACK = 4
"""Context grows by this many sentences before it is trimmed: trimming changes the
prompt prefix (llama.cpp must re-evaluate it), so it is done in batches, not every time."""


class TranslationBackend(Protocol):
    """Anything that turns Chinese into English: local llama.cpp, a remote server, a fake."""

    name: str

    def translate(
        self,
        source: str,
        context: Sequence[tuple[str, str]],
        *,
        forced_prefix: str,
        max_new_tokens: int,
        cancelled: Callable[[], bool],
    ) -> str | None:
        """English for ``source`` continuing ``forced_prefix``; None if cancelled."""
        ...


class LlamaBackend:
    """``TranslationBackend`` over a local ``LlamaEngine``."""

    def __init__(self, engine: LlamaEngine) -> None:
        self.engine = engine
        self.name = engine.name

    def warm_up(self) -> None:
        """Put the fixed system prompt and examples into the KV cache ahead of time."""
        self.engine.prefill(build_prompt(""))

    def translate(
        self,
        source: str,
        context: Sequence[tuple[str, str]],
        *,
        forced_prefix: str,
        max_new_tokens: int,
        cancelled: Callable[[], bool],
    ) -> str | None:
        prompt = build_prompt(source, context, forced_prefix)
        pieces: list[str] = []
        with self.engine.lock:
            if cancelled():
                return None
            for piece in self.engine.stream(prompt, max_new_tokens=max_new_tokens,
                                            cancelled=cancelled):
                pieces.append(piece)
        if cancelled():
            return None
        return forced_prefix + "".join(pieces)


_SENTENCE_END = "。！？!?…"
_MAX_OPEN_CHARS = 60
"""A sentence continued over several pauses is closed after this many characters."""


@dataclass
class SessionTranslator:
    """Translates one stream's transcripts, keeping its own context.

    A pause can split a sentence ("你如果有疑问，" / "就问汤姆吧"). When an utterance ends
    without sentence-final punctuation and the next one follows within
    ``continuation_gap_s``, the next is translated as the rest of the same sentence: the
    Chinese of both is the source and the English already committed is forced as the
    start of the answer, so committed English never changes and the sentence reads whole.
    """

    backend: TranslationBackend
    options: TranslateOptions
    clock: Callable[[], float] = time.monotonic
    continuation_gap_s: float = 1.5
    context: list[tuple[str, str]] = field(default_factory=list)
    _open_source: str = ""
    _open_english: str = ""
    _open_end_s: float = float("-inf")
    _cache_key: tuple[str, str] = ("", "")
    _cache_english: str = ""

    def translate(self, transcript: Transcript,
                  cancelled: Callable[[], bool] = lambda: False) -> Translation | None:
        """English for a transcript; finals are committed and join the context.

        A final whose Chinese equals the last partial's reuses that English at no cost.
        Returns None when a partial was cancelled by newer input.
        """
        if not transcript.text:
            return None
        continuing = transcript.start_s - self._open_end_s <= self.continuation_gap_s
        if self._open_source and not continuing:
            self._close_sentence()
        english = self._english(transcript, self._open_source + transcript.text,
                                self._open_english, cancelled)
        if english is None:
            return None
        if not english and self._open_source and transcript.final:
            # The model judged the sentence already complete: translate this part alone.
            self._close_sentence()
            english = self._english(transcript, transcript.text, "", cancelled) or ""
        if transcript.final:
            self._commit(transcript, english)
        return Translation(
            utterance_id=transcript.utterance_id,
            source=transcript.text,
            committed=english if transcript.final else "",
            tentative="" if transcript.final else english,
            start_s=transcript.start_s,
            end_s=transcript.end_s,
            final=transcript.final,
            emitted_s=self.clock(),
            model=self.backend.name,
        )

    def _english(self, transcript: Transcript, source: str, prefix: str,
                 cancelled: Callable[[], bool]) -> str | None:
        """The English continuing ``prefix`` (without it); cached for the last request."""
        if (source, prefix) == self._cache_key:
            return self._cache_english
        limit = min(self.options.max_new_tokens, 3 * len(transcript.text) + 12)
        raw = self.backend.translate(
            source, self.context, forced_prefix=prefix, max_new_tokens=limit,
            cancelled=(lambda: False) if transcript.final else cancelled,
        )
        if raw is None:
            return None
        english = clean_translation(raw[len(prefix) :] if raw.startswith(prefix) else raw)
        self._cache_key, self._cache_english = (source, prefix), english
        return english

    def _commit(self, transcript: Transcript, english: str) -> None:
        self._open_source += transcript.text
        self._open_english = f"{self._open_english} {english}".strip()
        self._open_end_s = transcript.end_s
        self._cache_key, self._cache_english = ("", ""), ""
        ended = transcript.text.rstrip()[-1:] in _SENTENCE_END
        if ended or len(self._open_source) > _MAX_OPEN_CHARS:
            self._close_sentence()

    def _close_sentence(self) -> None:
        source, english = self._open_source, self._open_english
        self._open_source = self._open_english = ""
        self._open_end_s = float("-inf")
        if self.options.context_sentences == 0 or not english:
            return
        self.context.append((source, english))
        if len(self.context) > self.options.context_sentences + _CONTEXT_SLACK:
            del self.context[: -self.options.context_sentences]
