"""What every caption display needs to know: the latest text of each recent utterance.

Transcripts and translations of one utterance arrive many times (each supersedes the
last), and a late translation may still update an older utterance after the next one has
begun, so displays keep the newest event per utterance rather than a single "current"
caption. Shared by the terminal and the HUD so both show the same captions.

In a conversation (``--mode converse``) utterances go both ways: the other person's
Mandarin becomes English for the wearer (the captions, ``translations()``), the wearer's
English becomes Chinese for the other person (``wearer_translations()``, shown on the
partner page; the HUD only echoes it). The Chinese line belongs to the other person.
"""

from __future__ import annotations

from hudtranslate.asr.text import HANZI
from hudtranslate.events import StreamEnd, Transcript, Translation

KEEP_UTTERANCES = 12
"""Utterances remembered: enough to fill any display and take late updates of older ones."""


class CaptionTrack:
    """The newest ``Transcript`` and ``Translation`` of each of the last few utterances."""

    def __init__(self, keep: int = KEEP_UTTERANCES) -> None:
        self._keep = max(1, keep)
        self._translations: dict[int, Translation] = {}
        self._transcripts: dict[int, Transcript] = {}

    def update(self, event: Transcript | Translation | StreamEnd) -> bool:
        """Take one event; returns whether the captions changed (``StreamEnd`` never does)."""
        if isinstance(event, Translation):
            changed = self._translations.get(event.utterance_id) != event
            self._translations[event.utterance_id] = event
        elif isinstance(event, Transcript):
            changed = self._transcripts.get(event.utterance_id) != event
            self._transcripts[event.utterance_id] = event
        else:
            return False
        self._forget_old()
        return changed

    def translations(self) -> list[Translation]:
        """Latest English of each remembered utterance that has English (the other
        person's, translated), oldest first."""
        return [translation for uid in sorted(self._translations)
                if (translation := self._translations[uid]).text
                and translation.target_language == "en"]

    def wearer_translations(self) -> list[Translation]:
        """Latest Chinese of each remembered utterance of the wearer's (said or drafted
        in English), oldest first."""
        return [translation for uid in sorted(self._translations)
                if (translation := self._translations[uid]).target_language != "en"]

    def newest_id(self) -> int | None:
        return max(set(self._translations) | set(self._transcripts), default=None)

    def source(self) -> str:
        """Chinese of the other person's newest utterance: the transcript while it covers
        more audio than the translation (recognition runs ahead, and the line must not go
        back), else the translation's source (which may join a sentence continued over a
        pause). The wearer's English never goes here, nor English said in listen mode
        (no Chinese character: the caption above already says it)."""
        heard = [uid for uid, t in self._transcripts.items() if t.language == "zh"]
        heard += [uid for uid, t in self._translations.items() if t.source_language == "zh"]
        newest = max(heard, default=None)
        if newest is None:
            return ""
        transcript = self._transcripts.get(newest)
        translation = self._translations.get(newest)
        if translation is None or (transcript is not None
                                   and transcript.end_s > translation.end_s):
            source = transcript.text if transcript is not None else ""
        else:
            source = translation.source
        return source if HANZI.search(source) else ""

    def settled(self) -> bool:
        """True when nothing may change any more: the newest utterance is translated, final."""
        newest = self.newest_id()
        if newest is None:
            return True
        translation = self._translations.get(newest)
        return translation is not None and translation.final

    def latest_events(self) -> list[Transcript | Translation]:
        """The stored events in arrival-compatible order (to seed a new display)."""
        events: list[Transcript | Translation] = []
        for uid in sorted(set(self._translations) | set(self._transcripts)):
            if uid in self._transcripts:
                events.append(self._transcripts[uid])
            if uid in self._translations:
                events.append(self._translations[uid])
        return events

    def _forget_old(self) -> None:
        ids = sorted(set(self._translations) | set(self._transcripts))
        for uid in ids[: -self._keep]:
            self._translations.pop(uid, None)
            self._transcripts.pop(uid, None)
