"""Per-session translation state: context of previous sentences, reuse of partial work.

The loaded model (a ``TranslationBackend``) is shared; a ``SessionTranslator`` per stream
holds only the context, so many wearers can share one model.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from hudtranslate.asr.text import (
    arabic_digit_runs,
)
from hudtranslate.config import TranslateOptions
from hudtranslate.events import Transcript, Translation, join_english
from hudtranslate.translate.answers import may_open_reply, quoted_translation, reads_as_reply
from hudtranslate.translate.glossary import Glossary, gloss_copied_words, replace_copied_terms
from hudtranslate.translate.llama_cache import kv_owner
from hudtranslate.translate.prompts import (
    SPEECH,
    PromptSet,
    quoted_message,
    user_message,
)
from hudtranslate.translate.spoken import (
    arabic_numbers,
    clean_spoken,
    continues_sentence,
    only_hesitation,
)
from hudtranslate.translate.streaming_text import (
    clause_end,
    joined_models,
    keep_shown_words,
    last_sentence_end,
    remember,
    stable_words,
    text_after,
)
from hudtranslate.translate.terms_kept import forced_start, held_from, missing_terms
from hudtranslate.translate.text import (
    after_open_part,
    clean_translation,
    has_cjk,
    without_full_stop,
)

log = logging.getLogger(__name__)

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
        on_text: Callable[[str], None] | None = None,
        prompts: PromptSet = SPEECH,
    ) -> str | None:
        """English for ``source`` continuing ``forced_prefix``; None if cancelled.

        ``on_text``, when given, may be called with the continuation generated so far, as
        it grows (best effort: a backend that cannot stream just returns the whole).
        ``prompts`` says what kind of text it is (speech, text in a photo).
        """
        ...


@runtime_checkable
class BatchTranslationBackend(Protocol):
    """A backend that can also write several translations after one context at once
    (``LlamaBackend``: side by side on the local model)."""

    def translate_batch(self, sources: Sequence[str], context: Sequence[tuple[str, str]], *,
                        max_new_tokens: Sequence[int],
                        prompts: PromptSet = SPEECH) -> list[str]: ...


_MAX_OPEN_CHARS = 60
"""A sentence continued over several pauses is closed after this many characters."""


def _never() -> bool:
    return False


@dataclass
class _Utterance:
    """How much of the utterance in progress is already committed to English."""

    utterance_id: int = -1
    chinese: str = ""
    """The committed Chinese already translated (a prefix of the committed text)."""
    english: str = ""
    tentative_chars: int = 0
    tentative: str = ""
    models: list[str] = field(default_factory=list)
    """The models that wrote ``english``, in order, each once."""
    tentative_model: str = ""


class UtteranceTranslator(Protocol):
    """What the translate stage drives: ``SessionTranslator`` (listen mode) or
    ``conversation.ConversationTranslator`` (both directions)."""

    def translate(self, transcript: Transcript, cancelled: Callable[[], bool] = ...,
                  emit: Callable[[Translation], None] | None = None) -> Translation | None: ...

    def prepare_next(self) -> None: ...

    @property
    def can_prepare(self) -> bool: ...

    def wants_partial(self, transcript: Transcript) -> bool: ...


@dataclass
class SessionTranslator:
    """Translates one stream's transcripts simultaneously, keeping its own context.

    Committed English never changes. It grows in two ways:

    * while an utterance is spoken, each sentence that the recogniser has committed (up to
      a 。！？) is translated and committed at once, so a long or run-on utterance shows
      English sentence by sentence; the committed Chinese after it is translated as
      tentative English whenever it has grown by ``partial_min_new_chars``;
    * at the pause, the rest of the utterance is translated and committed, word by word
      as the model writes it (through ``emit``), so the first words show while the rest
      is still being generated.

    Each piece is translated with the English already committed for the same sentence
    forced as the start of the answer (the Chinese of the whole sentence is the source),
    so the sentence reads whole. A pause can split a sentence ("你如果有疑问，" / "就问汤姆吧"):
    when an utterance ends on a clause mark (，、：；) and the next follows within
    ``continuation_gap_s``, the next continues the same sentence. Whisper's sentence-final
    punctuation is unreliable, so an utterance ending without any mark closes the
    sentence: gluing unrelated sentences together was measured to hurt more than
    splitting a clause.

    Glossary terms found in the source are given to the model with it; the context keeps
    the plain Chinese. Without terms, a sentence whose English is the model's last answer
    joins the context as that turn exactly, so llama.cpp finds it already evaluated.

    Each event names the model(s) whose English it shows (``Translation.model``), read
    from ``backend.name`` during and right after each call: with a router, a sentence
    whose first clause the remote translated and whose rest the local model did is
    "remote+local".
    """

    backend: TranslationBackend
    options: TranslateOptions
    clock: Callable[[], float] = time.monotonic
    glossary: Glossary = field(default_factory=Glossary)
    continuation_gap_s: float = 1.0
    context: list[tuple[str, str]] = field(default_factory=list)
    _open_source: str = ""
    _open_english: str = ""
    _open_end_s: float = float("-inf")
    _open_turn: tuple[str, str] = ("", "")
    """(message, answer) of the model call behind the open sentence's last commit."""
    _utterance: _Utterance = field(default_factory=_Utterance)
    _cache_key: tuple[str, str] = ("", "")
    _cache_turn: tuple[str, str] = ("", "")
    _cache_english: str = ""
    _cache_model: str = ""
    _english_model: str = ""
    """The model behind the last ``_english`` result."""
    _last_turn: tuple[str, str] = ("", "")  # (message, answer) of the last _english result
    _kv_owner: int = field(default_factory=itertools.count().__next__)
    """Whose evaluated prompt the local model keeps for this stream (``kv_owner``)."""

    def translate(self, transcript: Transcript, cancelled: Callable[[], bool] = _never,
                  emit: Callable[[Translation], None] | None = None) -> Translation | None:
        """English for a transcript, or None when there is nothing new to show.

        Finals are never cancelled; a partial's work stops (returning None) once
        ``cancelled()`` says newer input is waiting. While a final is translated, ``emit``
        (if given) receives non-final updates whose committed English grows word by word.
        """
        if transcript.utterance_id != self._utterance.utterance_id:
            self._start_utterance(transcript)
        with kv_owner(self._kv_owner):
            if transcript.final:
                return self._final(transcript, emit)
            return self._partial(transcript, cancelled)

    def prepare_next(self) -> None:
        """Let the backend evaluate the next prompt's context now, if it can (local
        llama.cpp); a no-op for backends without a prompt cache of their own."""
        prepare = getattr(self.backend, "prepare", None)
        if callable(prepare):
            with kv_owner(self._kv_owner):
                prepare(self.context)

    def close(self) -> None:
        """The stream has ended: a local model frees the prompt it kept for it."""
        forget = getattr(self.backend, "forget_owner", None)
        if callable(forget):
            forget(self._kv_owner)

    @property
    def can_prepare(self) -> bool:
        """Is ``prepare_next`` worth calling with this backend (it has a prompt cache of
        its own, and evaluating ahead pays there: ``prefill_pays``)?"""
        return (callable(getattr(self.backend, "prepare", None))
                and bool(getattr(self.backend, "prefill_pays", True)))

    def wants_partial(self, transcript: Transcript) -> bool:
        """Would ``translate`` ask the backend for English for this partial (or find it in
        its one-entry cache)? False: it would return None without any work, so there is
        nothing to shed or to wait for."""
        fresh = transcript.utterance_id != self._utterance.utterance_id
        done = 0 if fresh else len(self._utterance.chinese)
        tentative_chars = 0 if fresh else self._utterance.tentative_chars
        return self._partial_cut(transcript.committed, done, tentative_chars) is not None

    def _start_utterance(self, transcript: Transcript) -> None:
        continuing = transcript.start_s - self._open_end_s <= self.continuation_gap_s
        if self._open_source and not continuing:
            self._close_sentence()
        self._utterance = _Utterance(transcript.utterance_id)

    def _partial_cut(self, stable: str, done: int,
                     tentative_chars: int) -> tuple[int, bool] | None:
        """What a partial with committed Chinese ``stable`` translates, when ``done`` of its
        characters have committed English and ``tentative_chars`` tentative English:
        ``(cut, True)``: ``stable[done:cut]``, a whole sentence (first) or a long clause, to
        commit; ``(len(stable), False)``: the rest, as tentative English, once it has grown
        by ``partial_min_new_chars``; None: nothing."""
        end = last_sentence_end(stable)
        clause = clause_end(stable, done, self.options.clause_commit_chars)
        if end > done or clause:
            return (end if end > done else clause), True
        if len(stable) - max(done, tentative_chars) < self.options.partial_min_new_chars:
            return None
        return len(stable), False

    def _partial(self, transcript: Transcript,
                 cancelled: Callable[[], bool]) -> Translation | None:
        utterance = self._utterance
        stable = transcript.committed
        done = len(utterance.chinese)
        plan = self._partial_cut(stable, done, utterance.tentative_chars)
        if plan is None:
            return None
        cut, commits = plan
        if commits and only_hesitation(stable[done:cut]):
            utterance.chinese = stable[:cut]  # nothing to translate, nor to say in English
            return None
        if commits:
            piece = stable[done:cut]
            english = self._english(piece, cancelled)
            if english is None:
                return None
            self._commit(piece, english, transcript.end_s)
            utterance.chinese = stable[:cut]
            utterance.tentative = ""
            if cut == last_sentence_end(stable):
                self._close_sentence()
            return self._event(transcript, "")
        english = self._english(stable[done:], cancelled)
        if english is None:
            return None
        utterance.tentative_chars = len(stable)
        utterance.tentative = english
        utterance.tentative_model = self._english_model
        return self._event(transcript, english)

    def _final(self, transcript: Transcript,
               emit: Callable[[Translation], None] | None) -> Translation | None:
        utterance = self._utterance
        rest = text_after(transcript.text, utterance.chinese)
        if rest and not only_hesitation(rest):
            shown: list[str] = []
            on_words = None
            if emit is not None:
                def on_words(words: list[str]) -> None:
                    shown[:] = words
                    emit(self._streamed(transcript, words))
            english = self._english(rest, _never, on_words)
            english = keep_shown_words(shown, english) if english and shown else english or ""
            if not english and self._open_source:
                # The model judged the sentence already complete: translate this part alone.
                open_english = self._open_english
                self._close_sentence()
                english = after_open_part(open_english, self._english(rest, _never) or "",
                                          full_stop_back=bool(utterance.english))
            stays_open = (len(self._open_source) + len(rest) <= _MAX_OPEN_CHARS
                          and continues_sentence(rest,
                                                 speech_continued=transcript.speech_continues))
            self._commit(rest, without_full_stop(english) if stays_open else english,
                         transcript.end_s)
            if not stays_open:
                self._close_sentence()
        self._utterance = _Utterance()
        return self._event(transcript, "", utterance) if utterance.english else None

    def _english(self, piece: str, cancelled: Callable[[], bool],
                 on_words: Callable[[list[str]], None] | None = None) -> str | None:
        """English for ``piece`` continuing the open sentence (without its committed part).
        ``on_words`` hears the words that are final so far, each time there are more."""
        source, prefix = self._open_source + piece, self._open_english
        if (source, prefix) == self._cache_key:
            self._english_model = self._cache_model
            self._last_turn = self._cache_turn
            return self._cache_english
        limit = min(self.options.max_new_tokens, 3 * len(piece) + 12)
        terms = self.glossary.find(source)
        on_text = None
        if on_words is not None:
            reported: list[str] = []

            def on_text(generated: str) -> None:
                if not prefix and may_open_reply(generated, source):
                    return  # held until the answer is checked: it may be a reply
                # only finished words are glossed: "直播" may still become "直播间"; a
                # term begun but not as the glossary's waits (``_force_terms``)
                text = replace_copied_terms(generated, terms)
                done, space, last = text[: held_from(text, terms)].rpartition(" ")
                shown = gloss_copied_words(done) + space + last
                words = stable_words(after_open_part(prefix, shown, full_stop_back=False))
                if len(words) > len(reported):
                    reported[:] = words
                    on_words(words)

        spoken = arabic_numbers(arabic_digit_runs(clean_spoken(source)))
        message = user_message(spoken, terms)
        answer = self.backend.translate(message, self.context, forced_prefix=prefix,
                                        max_new_tokens=limit, cancelled=cancelled,
                                        on_text=on_text)
        if answer is None:
            return None
        if not prefix and reads_as_reply(answer, source):
            retried = self._translate_quoted(message, limit, cancelled)
            if retried is None:
                return None
            if retried:
                message, answer = quoted_message(message), retried
            elif not has_cjk(source):
                answer = source.strip()  # English said in listen mode: its English as said
        raw = answer.removeprefix(prefix)
        if terms:
            forced = self._force_terms(message, prefix, raw, terms, limit, cancelled)
            if forced is None:
                return None
            raw = forced
        self._english_model = self.backend.name
        self._last_turn = ("", "") if terms else (message, answer)
        english = clean_translation(gloss_copied_words(replace_copied_terms(raw, terms)))
        english = after_open_part(prefix, english, full_stop_back=False)
        self._cache_key, self._cache_english = (source, prefix), english
        self._cache_model, self._cache_turn = self._english_model, self._last_turn
        return english

    def _translate_quoted(self, message: str, limit: int,
                          cancelled: Callable[[], bool]) -> str | None:
        """The model answered ``message`` instead of translating it: its translation
        asked again with the sentence quoted (``quoted_message``); "" when that answer is
        no better (still a reply, or Chinese left in it), None when cancelled."""
        answer = self.backend.translate(quoted_message(message), self.context,
                                        forced_prefix="", max_new_tokens=limit,
                                        cancelled=cancelled)
        if answer is None:
            return None
        log.info("translated again, quoted (the first answer read as a reply): %r", message)
        answer = quoted_translation(answer, message)
        return "" if has_cjk(answer) else answer

    def _force_terms(self, message: str, prefix: str, raw: str,
                     terms: Sequence[tuple[str, str]], limit: int,
                     cancelled: Callable[[], bool]) -> str | None:
        """``raw`` (the answer after ``prefix``), or, when it paraphrased a glossary term
        (``terms_kept``), the answer asked again with the term forced where it began, if
        that keeps more terms; None when cancelled."""
        start = forced_start(raw, terms)
        if start is None:
            return raw
        answer = self.backend.translate(message, self.context, forced_prefix=prefix + start,
                                        max_new_tokens=limit, cancelled=cancelled)
        if answer is None:
            return None
        again = answer.removeprefix(prefix)
        kept = [replace_copied_terms(text, terms) for text in (raw, again)]
        if len(missing_terms(kept[1], terms)) >= len(missing_terms(kept[0], terms)):
            return raw
        log.info("translated again with a glossary term forced: %r → %r", raw, again)
        return again

    def _commit(self, piece: str, english: str, end_s: float) -> None:
        self._open_source += piece
        self._open_turn = self._last_turn
        self._open_english = join_english(self._open_english, english)
        self._open_end_s = end_s
        self._utterance.english = join_english(self._utterance.english, english)
        if english.strip() and self._english_model not in self._utterance.models:
            self._utterance.models.append(self._english_model)
        self._cache_key, self._cache_english = ("", ""), ""

    def _close_sentence(self) -> None:
        source, english = self._open_source, self._open_english
        message, answer = self._open_turn
        self._open_source = self._open_english = ""
        self._open_end_s = float("-inf")
        self._open_turn = ("", "")
        exact = bool(message) and " ".join(answer.split()) == " ".join(english.split())
        remember(self.context, (message, answer) if exact else (source, english),
                 self.options.context_sentences)

    def _streamed(self, transcript: Transcript, words: list[str]) -> Translation:
        """A non-final update while the final is written: the words so far are committed;
        the tentative English shown before stays after them while it still agrees."""
        utterance = self._utterance
        earlier = utterance.tentative.split()
        tentative = " ".join(earlier[len(words) :]) if earlier[: len(words)] == words else ""
        committed = join_english(utterance.english, " ".join(words))
        models = joined_models(utterance.models, self.backend.name,
                         utterance.tentative_model if tentative else "")
        return dataclasses.replace(self._event(transcript, tentative), committed=committed,
                                   final=False, model=models)

    def _event(self, transcript: Transcript, tentative: str,
               utterance: _Utterance | None = None) -> Translation:
        utterance = utterance or self._utterance
        return Translation(
            utterance_id=transcript.utterance_id,
            source=transcript.text,
            committed=utterance.english,
            tentative=tentative,
            start_s=transcript.start_s,
            end_s=transcript.end_s,
            final=transcript.final,
            emitted_s=self.clock(),
            model=joined_models(utterance.models, utterance.tentative_model if tentative else "")
            or self.backend.name,
        )
