"""An utterance cut from the one before it in running speech, heard again after it.

Whisper base heard alone the words around a cut lose their start; decoded after the
utterance before it, made to say that one's text first (a forced prefix), they are heard
whole (real recordings made far: units cut in running speech 54.4 → 50.3 % CER,
docs/benchmark.md, seventeenth session). ``StreamingRecognizer`` decides when; this
module holds what the decode needs and how its words are taken out of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hudtranslate.asr.decode_checks import MAX_COMPRESSION_RATIO, compression_ratio
from hudtranslate.asr.levels import normalize_speech_level
from hudtranslate.asr.policy import spoken_chars
from hudtranslate.asr.text import CLAUSE_MARKS, SENTENCE_MARKS, normalize_chinese
from hudtranslate.asr.whisper import Decoded
from hudtranslate.events import AudioArray

LEFT_CONTEXT_MIN_CHARS = 4
"""The utterance before must have said this many characters to be heard again: a one-word
stub ("啊" heard as "3") made the decode after it number its sentences ("3. … 4. …")."""
CONTIGUOUS_S = 0.05
"""An utterance starting within this of the last one's end was cut in running speech."""


@dataclass(frozen=True)
class LeftContext:
    """The last utterance: its audio (not levelled), its final text, where it ended (s)."""

    audio: AudioArray
    text: str
    end_s: float

    def before(self, own: AudioArray, start_s: float, max_samples: int) -> AudioArray | None:
        """This utterance's audio followed by ``own`` (of an utterance starting at
        ``start_s``), levelled; None unless ``own`` was cut from it in running speech,
        it said enough (``LEFT_CONTEXT_MIN_CHARS``) and both fit in ``max_samples``."""
        if (abs(start_s - self.end_s) >= CONTIGUOUS_S
                or spoken_chars(self.text) < LEFT_CONTEXT_MIN_CHARS
                or len(self.audio) + len(own) > max_samples):
            return None
        return normalize_speech_level(np.concatenate([self.audio, own]))

    def words_after(self, decoded: Decoded, prefix: str) -> str | None:
        """The open utterance's words of a decode made to say this utterance's text and
        then ``prefix`` first; None when it did not say them, or loops."""
        text = normalize_chinese(decoded.text)
        if (not text.startswith(self.text + prefix)
                or compression_ratio(decoded.text) > MAX_COMPRESSION_RATIO):
            return None
        # a mark right after the forced text ends the utterance before, already shown
        # (English said in listen mode: a period, an ellipsis, and the space after it)
        return text[len(self.text):].lstrip(SENTENCE_MARKS + CLAUSE_MARKS + ".… ")
