"""Routing by language, and the wearer's English → Chinese (sync core, one per stream).

``ConversationTranslator`` has the same verbs as ``SessionTranslator``, so the translate
stage runs either: Mandarin transcripts go to the session's ``SessionTranslator`` (English
for the wearer, as in listen mode), English ones to a ``ReplyTranslator``. Both sides of
the conversation are context for both: what the wearer said is what the other person
answers, and the reverse.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from hudtranslate.config import TranslateOptions
from hudtranslate.conversation.drafts import bare_command, draft_request
from hudtranslate.events import Transcript, Translation
from hudtranslate.translate.glossary import Glossary
from hudtranslate.translate.prompts import DRAFT_MESSAGE, ENGLISH_SPEECH
from hudtranslate.translate.streaming_text import remember
from hudtranslate.translate.to_chinese import translate_to_chinese
from hudtranslate.translate.translator import SessionTranslator, TranslationBackend


def _never() -> bool:
    return False


@dataclass
class ReplyTranslator:
    """The wearer's English → Chinese for the other person, one final utterance at a time.

    Partials are not translated: the other person reads the wearer's English as it is
    recognised and the Chinese once the wearer pauses (an English sentence's word order
    makes early Chinese unreliable, and the wearer's turn is usually short). While the
    Chinese is written, ``emit`` receives it growing as tentative text. A draft
    (``Transcript.draft`` or a spoken ``draft_request``) is written with the
    ``DRAFT_MESSAGE`` prompt as a polite message and is not used as context; a command
    said alone is not translated (``drafts.DraftMarker`` marks the next utterance). The
    glossary's user terms found in the English are given in Chinese
    (``Glossary.find_english``); the writing itself is ``to_chinese.translate_to_chinese``.
    """

    backend: TranslationBackend
    options: TranslateOptions
    clock: Callable[[], float] = time.monotonic
    glossary: Glossary = field(default_factory=Glossary)
    context: list[tuple[str, str]] = field(default_factory=list)
    """(English, Chinese) pairs of the conversation so far, oldest first."""

    def translate(self, transcript: Transcript, cancelled: Callable[[], bool] = _never,
                  emit: Callable[[Translation], None] | None = None) -> Translation | None:
        """Chinese for a final English transcript; None for partials and empty finals."""
        english = transcript.text.strip()
        if not transcript.final or not english:
            return None
        if bare_command(english) and not transcript.draft:  # "Draft." alone: the message
            return None  # is the next utterance (``DraftMarker`` marked it)
        request = draft_request(english)
        if transcript.draft:  # typed, or marked by ``DraftMarker`` (the command then cut)
            request = request or english
        draft = request is not None
        source = request or english
        on_text = None
        if emit is not None:
            def on_text(generated: str) -> None:
                emit(self._event(transcript, source, "", generated, draft, final=False))
        chinese = translate_to_chinese(
            self.backend, source, () if draft else self.context,
            prompts=DRAFT_MESSAGE if draft else ENGLISH_SPEECH,
            max_new_tokens=self.options.max_new_tokens * 2,
            terms=self.glossary.find_english(source), on_text=on_text) or ""
        if not draft:
            remember(self.context, (source, chinese), self.options.context_sentences)
        return self._event(transcript, source, chinese, "", draft, final=True)

    def _event(self, transcript: Transcript, source: str, committed: str, tentative: str,
               draft: bool, *, final: bool) -> Translation:
        return Translation(
            utterance_id=transcript.utterance_id, source=source, committed=committed,
            tentative=tentative, start_s=transcript.start_s, end_s=transcript.end_s,
            final=final, emitted_s=self.clock(), model=self.backend.name,
            source_language="en", draft=draft)


@dataclass
class ConversationTranslator:
    """Sends each transcript the way its ``language`` says; same verbs as
    ``SessionTranslator`` (``translate``, ``prepare_next``, ``can_prepare``,
    ``wants_partial``)."""

    listen: SessionTranslator
    reply: ReplyTranslator

    def translate(self, transcript: Transcript, cancelled: Callable[[], bool] = _never,
                  emit: Callable[[Translation], None] | None = None) -> Translation | None:
        if transcript.language != "en":
            result = self.listen.translate(transcript, cancelled, emit)
            if result is not None and result.final:
                remember(self.reply.context, (result.text, result.source),
                          self.listen.options.context_sentences)
            return result
        result = self.reply.translate(transcript, cancelled, emit)
        if result is not None and result.final and not result.draft:
            remember(self.listen.context, (result.text, result.source),
                      self.listen.options.context_sentences)
        return result

    def prepare_next(self) -> None:
        """Prepare the listening direction: the other person speaks more often and the
        wearer waits for that English."""
        self.listen.prepare_next()

    @property
    def can_prepare(self) -> bool:
        return self.listen.can_prepare

    def close(self) -> None:
        self.listen.close()

    def wants_partial(self, transcript: Transcript) -> bool:
        return transcript.language != "en" and self.listen.wants_partial(transcript)
