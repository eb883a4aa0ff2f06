"""The only vocabulary between pipeline stages.

Every text event carries ``committed`` text (never changes again) and ``tentative``
text (may still change); displays draw them differently and only the tentative part may
be erased. Times are seconds on the stream clock: audio position for the ``*_s`` span of
speech, and the moment the event was produced for ``emitted_s``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

SAMPLE_RATE_HZ = 16_000
"""Every stage after the source works on 16 kHz mono float32 audio."""

AudioArray = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """A run of 16 kHz mono float32 samples starting at ``start_s`` of the stream."""

    samples: AudioArray
    start_s: float

    @property
    def end_s(self) -> float:
        return self.start_s + len(self.samples) / SAMPLE_RATE_HZ


@dataclass(frozen=True, slots=True)
class SpeechChunk:
    """Audio the VAD judged to be speech, tagged with the utterance it belongs to.

    ``final`` marks the end of the utterance (the speaker paused); its samples may be empty.
    A final chunk's ``cut_s``, when set, is where the utterance really ends: speech without
    a pause was cut there, inside audio already sent, and the audio after ``cut_s`` is sent
    again as the start of the next utterance. ``speech_continues`` on a final chunk: the
    speaker did not pause there (a cut in running speech). ``speech_share``: of the
    utterance's frames so far, the share the VAD judged speech (0..1; 0 when unknown).
    ``unsure_speaker`` on a final chunk (and on one in a pause, as the end would say): the
    VAD was unsure of the speaker (far, reverberant speech;
    ``vad.state.UNSURE_SPEAKER_PROBABILITY``). ``pause_start_s``: the
    stream time (s) from which the speaker has been silent at the chunk's end (on a final
    chunk: the pause that ended the utterance); None while speech goes on (or, on a final
    chunk, when no pause ended it). A pause may yet prove a gap between words.
    """

    utterance_id: int
    samples: AudioArray
    start_s: float
    final: bool = False
    cut_s: float | None = None
    speech_continues: bool = False
    speech_share: float = 0.0
    unsure_speaker: bool = False
    pause_start_s: float | None = None

    @property
    def end_s(self) -> float:
        return self.start_s + len(self.samples) / SAMPLE_RATE_HZ


@dataclass(frozen=True, slots=True)
class Transcript:
    """Text of one utterance so far: Mandarin (simplified characters) unless ``language``
    says otherwise.

    ``speech_continues`` (finals): the speaker went on without pausing after it.
    ``language``: ISO 639-1 code of what was said, "zh" (the other person, listened to)
    or "en" (the wearer, in ``--mode converse``), as Whisper detected it on the utterance.
    ``draft`` (English only): the wearer dictated a message to send ("draft: tell her …")
    or typed one; it is written as a polite Chinese message, not translated word for word.
    """

    utterance_id: int
    committed: str
    tentative: str
    start_s: float
    end_s: float
    final: bool
    emitted_s: float
    speech_continues: bool = False
    language: str = "zh"
    draft: bool = False

    @property
    def text(self) -> str:
        return self.committed + self.tentative


def target_language_for(source_language: str) -> str:
    """The language a source is translated into: Mandarin ("zh") → English ("en"), the
    wearer's English → Chinese."""
    return "en" if source_language == "zh" else "zh"


@dataclass(frozen=True, slots=True)
class Translation:
    """The translation of one utterance so far, with the text it came from: English for
    Mandarin (``source_language`` "zh", the default), Chinese for the wearer's English
    ("en", ``--mode converse``).

    ``model`` names the model(s) that wrote it; ``load_level`` is the server's load level
    when it was made (0: normal; ``overload.LoadLevel``), so displays can say when
    optional work (partial English, partial decodes) is being shed. ``draft``: a message
    the wearer dictated, written as polite Chinese ready to send, not a translation of
    what was said aloud.
    """

    utterance_id: int
    source: str
    committed: str
    tentative: str
    start_s: float
    end_s: float
    final: bool
    emitted_s: float
    model: str = ""
    load_level: int = 0
    source_language: str = "zh"
    draft: bool = False

    @property
    def target_language(self) -> str:
        """"en" for Mandarin speech, "zh" for the wearer's English."""
        return target_language_for(self.source_language)

    @property
    def text(self) -> str:
        if self.target_language == "zh":
            return self.committed + self.tentative
        return join_english(self.committed, self.tentative)


@dataclass(frozen=True, slots=True)
class StreamEnd:
    """Sent to sinks once, after the last event, with the stream's length in seconds."""

    duration_s: float
    stats: dict[str, float] = field(default_factory=dict)


_ATTACHED = tuple(",.;:!?)%…")
"""Marks that follow the word before them with no space ("exists, and", not "exists , and")."""


def join_english(committed: str, tentative: str) -> str:
    """Join committed and tentative English with exactly one space between them, none
    before a mark that continues the committed text (a continued sentence's ", and …")."""
    if committed and tentative:
        tail = tentative.lstrip()
        return f"{committed.rstrip()}{'' if tail.startswith(_ATTACHED) else ' '}{tail}"
    return (committed + tentative).strip()
