"""An utterance's final decode made during the pause that may end it.

The VAD ends an utterance only after ``vad.min_silence_ms`` of silence (320 ms); until
then the recogniser has nothing to do but wait. Its final decode is made
``asr.final_ahead_ms`` into that pause instead, and given out when the pause does end the
utterance: the decode's time (0.1-0.7 s on two cores, more for a unit decoded in context)
no longer follows the silence wait. When the speaker goes on, the decode is dropped. So
that the decode made ahead is the final decode, every final of an utterance a pause ended
hears ``final_ahead_ms`` of that pause and then silence to the VAD's end
(``silenced_after``), decoded ahead or not. ``StreamingRecognizer`` decides when and
holds one (``PauseDecodes``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hudtranslate.events import AudioArray, Transcript

_SAME_TIME_S = 1e-6
"""Stream times this close are one (sums of chunk lengths round)."""


@dataclass
class PauseDecodes:
    """One recogniser's decodes ahead: how far into a pause they are made (``ahead_s``,
    ``asr.final_ahead_ms``) and how much of it the VAD keeps as the utterance's end
    (``kept_s``), where the speaker fell silent (``pause_start_s``, stream time; None
    while speech goes on), the decode made in that pause (``held``), and how many were
    given out (``used``) or wasted (``dropped``)."""

    ahead_s: float
    kept_s: float
    pause_start_s: float | None = None
    held: FinalAhead | None = None
    used: int = 0
    dropped: int = 0

    @property
    def on(self) -> bool:
        """Are finals decoded ahead (and so every pause-ended final heard that way)? Not
        without knowing how much pause the VAD keeps: the final's length."""
        return self.ahead_s > 0 and self.kept_s > 0

    def heard(self, pause_start_s: float | None) -> None:
        """The latest chunk's pause: a decode made in another (the speaker went on) is
        dropped."""
        self.pause_start_s = pause_start_s
        if self.held is not None and pause_start_s != self.held.pause_start_s:
            self.drop()

    def due(self, audio_end_s: float) -> bool:
        """Has the speaker been silent ``ahead_s`` at ``audio_end_s``, with nothing held?"""
        return (self.on and self.held is None and self.pause_start_s is not None
                and audio_end_s - self.pause_start_s >= self.ahead_s - _SAME_TIME_S)

    def take(self, samples: int, beam_size: int | None,
             unsure_speaker: bool) -> FinalAhead | None:
        """The decode held, if it stands for the final decode now (``holds_for``);
        otherwise it is dropped. Nothing is held afterwards."""
        held, self.held = self.held, None
        if held is None:
            return None
        if held.holds_for(self.pause_start_s, samples, beam_size, unsure_speaker):
            self.used += 1
            return held
        self.dropped += 1
        return None

    def drop(self) -> None:
        if self.held is not None:
            self.dropped += 1
            self.held = None


@dataclass(frozen=True)
class FinalAhead:
    """A final decode made in a pause (with the configured beam): the pause it was made
    in (``pause_start_s``, stream time), how much audio it heard (``samples``), whether the
    VAD was unsure of the speaker then, the finals it gave and the recogniser as its
    ``finish`` left it (``after``: a copy, the real one is untouched until the pause ends
    the utterance)."""

    pause_start_s: float
    samples: int
    unsure_speaker: bool
    finals: Sequence[Transcript]
    after: Any

    def holds_for(self, pause_start_s: float | None, samples: int, beam_size: int | None,
                  unsure_speaker: bool) -> bool:
        """Does this decode stand for the utterance's final decode now: ended by the same
        pause (no speech since), with no less audio, the same beam and the same judgement
        of the speaker (it decides the dereverberated decode)? ``beam_size``: the final's
        (None: the configured one)."""
        return (pause_start_s is not None
                and abs(pause_start_s - self.pause_start_s) < _SAME_TIME_S
                and samples >= self.samples and beam_size is None
                and unsure_speaker == self.unsure_speaker)

    def given_out(self, now_s: float, end_s: float) -> list[Transcript]:
        """The finals, given out at ``now_s`` by an utterance that ended at ``end_s``."""
        finals = [dataclasses.replace(final, emitted_s=now_s) for final in self.finals]
        if finals:  # the last ends where the utterance does: it was decoded before the end
            finals[-1] = dataclasses.replace(finals[-1], end_s=max(finals[-1].start_s, end_s))
        return finals


def silenced_after(audio: AudioArray, keep: int, length: int) -> AudioArray:
    """The first ``keep`` samples of ``audio``, then silence up to ``length`` samples: an
    utterance ended by a pause, as its final decode hears it (``asr.final_ahead_ms`` of
    the pause, then silence to the VAD's end), whether decoded in the pause or after it.
    So a decode made ahead is the final decode: Whisper base's decode changes with a few
    ms of audio more or less (100, 200 or 300 ms of trailing pause flipped 7 of
    dev-talk1's 31 units) and with silence in place of noise (the pink-noise dev talk: 7
    units changed with the pause's rest as zeros, 5 with it made of the pause heard;
    docs/benchmark.md, thirty-sixth session)."""
    kept = audio[:max(0, min(keep, length))]
    return np.concatenate([kept, np.zeros(length - len(kept), np.float32)])
