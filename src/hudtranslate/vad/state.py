"""Pure speech-state machine: per-frame speech probabilities in, utterance events out.

Kept free of any model so the timing rules can be tested table-driven. Frames are numbered
from 0 in stream order; every frame position below is a frame index, and spans are
half-open ``[start, end)``.

States::

    IDLE ──p ≥ threshold──► PENDING ──voiced span ≥ min_speech_ms──► SPEAKING
      ▲                        │                                        │
      └── silence ≥ min_silence_ms (noise: no event)                    │
      └──────────── silence ≥ min_silence_ms: UtteranceEnd ◄────────────┘
                    (≥ long_utterance_silence_ms once the utterance is long_utterance_s long)
                    once long_utterance_s long, a short pause (≥ short_pause_ms near the
                    noise floor, Silero dipping): UtteranceEnd at its end
                    length ≥ max_utterance_s: UtteranceEnd(forced) at the quietest frame of
                    the last cut_search_s and, if the speaker is still talking,
                    UtteranceStart at that same frame (the audio after the cut is re-used)

Hysteresis as in Silero's own ``get_speech_timestamps``: a silence run begins at the first
frame below ``threshold - 0.15`` and only a frame at or above ``threshold`` ends it, so a
wavering probability neither splits an utterance nor starts one.
"""

from __future__ import annotations

import enum
import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from hudtranslate.config import VadOptions

HYSTERESIS = 0.15
"""The end threshold sits this far below the start threshold."""

NOISE_FLOOR_WINDOW_S = 10.0
"""The noise floor is the 10th percentile of frame levels over this much recent audio."""
NOISE_FLOOR_PERCENTILE = 10
LOWEST_NOISE_FLOOR_DB = -70.0
"""Digital silence (−inf dBFS) must not make every real pause look loud."""
UNSURE_SPEECH_PERCENTILE = 10
"""A short pause's dip must go below this percentile of Silero's recent probabilities on
speech frames (when that is under ``short_pause_probability``): on far, reverberant
speech Silero stays under 0.9 for 16-43 % of the speech (1-6 % on the real recordings,
2 % on nonstop speech), so "below 0.9" cut every far utterance as soon as it could, mid-word
(docs/benchmark.md, fifteenth session)."""
MIN_SPEECH_FRAMES_FOR_DIP = 30
"""Below this many recent speech frames the dip threshold is ``short_pause_probability``."""
UNSURE_SPEAKER_PROBABILITY = 0.9
"""A speaker whose ``UNSURE_SPEECH_PERCENTILE`` of Silero's probabilities on speech is
below this is one Silero is unsure of (far, reverberant): the real recordings 0.96-1.00,
nonstop speech and the dev talks 1.00, their far copies 0.53-0.96, 15 of 19 under 0.9."""
CUT_GUARD_S = 0.25
"""A forced cut is never placed in the very last audio (its quietness is not known yet)."""
ONSET_GAP_S = 0.16
"""Looking back for where speech Silero confirmed late really began, a run of quiet frames
this long is the pause before it (gaps between syllables are shorter)."""
ONSET_BELOW_SPEECH_DB = 12.0
"""A frame this far under the confirmed speech's median level is quiet (for the onset)."""
FLOOR_KNOWN_S = 3.0
"""Before this much audio the noise floor's estimate is mostly speech, and not used."""


@dataclass(frozen=True, slots=True)
class UtteranceStart:
    """Speech was confirmed; the utterance's audio begins at ``frame`` (pre-roll included).
    Its first ``onset_frames`` are speech the level found before Silero heard it."""

    frame: int
    onset_frames: int = 0


@dataclass(frozen=True, slots=True)
class UtteranceEnd:
    """The utterance's audio ends before ``frame`` (trailing pad included).

    ``forced`` means it was cut at ``max_utterance_s`` rather than ended by a pause; the
    cut may lie before frames already reported as committed (they then belong to the next
    utterance, which starts at the same frame).
    """

    frame: int
    forced: bool = False
    speech_continues: bool = False
    """The speaker did not pause: a cut in running speech."""
    unsure_speaker: bool = False
    """Silero is unsure of this speaker (``UNSURE_SPEAKER_PROBABILITY``): far, reverberant."""
    pause_frame: int | None = None
    """Where the pause that ended the utterance began (None: it did not end in a pause)."""


VadEvent = UtteranceStart | UtteranceEnd


class _State(enum.Enum):
    IDLE = "idle"
    PENDING = "pending"
    SPEAKING = "speaking"


class SpeechStateMachine:
    """Turns one speech probability per frame into UtteranceStart/UtteranceEnd events.

    Besides events, two frame positions tell a streaming consumer what it may do with
    audio: ``committed_frame`` (audio before it surely belongs to the open utterance, so it
    can be sent on at once) and ``keep_from`` (audio before it will never be needed again).
    """

    def __init__(self, options: VadOptions, frame_ms: float) -> None:
        if frame_ms <= 0:
            raise ValueError(f"frame_ms must be positive, got {frame_ms}")
        self.options = options
        self.frame_ms = frame_ms
        self.threshold = options.threshold
        self.end_threshold = max(0.0, options.threshold - HYSTERESIS)
        self.pad_frames = round(options.speech_pad_ms / frame_ms)
        self.min_speech_frames = math.ceil(options.min_speech_ms / frame_ms)
        self.min_silence_frames = max(1, math.ceil(options.min_silence_ms / frame_ms))
        self.long_frames = math.ceil(options.long_utterance_s * 1000 / frame_ms)
        self.run_on_frames = (math.ceil(options.run_on_utterance_s * 1000 / frame_ms)
                              if options.run_on_utterance_s else self.long_frames)
        self.long_silence_frames = (
            max(1, math.ceil(options.long_utterance_silence_ms / frame_ms))
            if options.long_utterance_silence_ms else self.min_silence_frames)
        self.max_frames = max(1, math.floor(options.max_utterance_s * 1000 / frame_ms))
        self.short_pause_frames = math.ceil(options.short_pause_ms / frame_ms)
        search_s = min(options.cut_search_s, options.max_utterance_s / 2)
        self.search_frames = max(1, round(search_s * 1000 / frame_ms))
        self.guard_frames = math.ceil(CUT_GUARD_S * 1000 / frame_ms)
        self.lookback_frames = round(options.onset_lookback_s * 1000 / frame_ms)
        self.unsure_frames = math.ceil(options.unsure_speech_utterance_s * 1000 / frame_ms)
        self.onset_gap_frames = max(1, round(ONSET_GAP_S * 1000 / frame_ms))
        self.floor_known_frames = round(FLOOR_KNOWN_S * 1000 / frame_ms)
        self.floor_frames = max(1, round(NOISE_FLOOR_WINDOW_S * 1000 / frame_ms))
        self.reset()

    def reset(self) -> None:
        """Forget everything: the next frame fed is frame 0 of a new stream."""
        self._state = _State.IDLE
        self._frames = 0  # frames fed so far; the next frame's index
        self._candidate = 0  # first voiced frame of a PENDING run
        self._last_voiced = -1
        self._silence_start: int | None = None
        self._utterance_start = 0
        self._previous_end = 0  # utterances never overlap: starts are clamped to this
        self._previous_cut = False  # the last utterance ended in running speech
        self._run_on = False  # the open utterance began where a cut ended the last one
        self._levels: deque[float] = deque(maxlen=self.floor_frames)  # dBFS, newest last
        self._have_levels = False
        self._speech_probabilities: deque[float] = deque(maxlen=self.floor_frames)
        self._quiet_run = 0  # frames in a row near the noise floor
        self._quiet_dipped = False  # Silero dipped below threshold during (or just after) it
        self._pause_ended = False  # the frame just fed ends a short pause

    @property
    def frames_seen(self) -> int:
        return self._frames

    @property
    def in_utterance(self) -> bool:
        """True between an UtteranceStart and its UtteranceEnd."""
        return self._state is _State.SPEAKING

    @property
    def committed_frame(self) -> int | None:
        """Audio before this frame surely belongs to the open utterance; None if none is open.

        During a pause only the first ``speech_pad_ms`` of it is certain: the rest is
        either more speech (if the speaker resumes) or dropped (if the utterance ends).
        """
        if self._state is not _State.SPEAKING:
            return None
        if self._silence_start is None:
            return self._frames
        return min(self._frames, self._silence_start + self.pad_frames)

    @property
    def pause_frame(self) -> int | None:
        """Where the open utterance's speaker fell silent, if they are silent now (a pause
        that may end it, or only a gap between words); None while speech goes on or no
        utterance is open."""
        return self._silence_start if self._state is _State.SPEAKING else None

    @property
    def keep_from(self) -> int:
        """The earliest frame any future event can still include."""
        if self._state is _State.SPEAKING:
            return max(self._utterance_start, self._frames - self.search_frames - 1)
        before = self.pad_frames + (self.lookback_frames if self._have_levels else 0)
        if self._state is _State.PENDING:
            return max(self._previous_end, self._candidate - before)
        return max(self._previous_end, self._frames - before)

    def push(self, probability: float, level_db: float | None = None) -> list[VadEvent]:
        """Feed the next frame's speech probability and its level in dBFS. Short pauses
        need the level; without it a forced cut goes to the least speech-like frame."""
        frame = self._frames
        self._frames += 1
        self._track_level(probability, level_db)
        if self._state is _State.IDLE:
            if probability < self.threshold:
                return []
            self._state = _State.PENDING
            self._candidate = frame
            self._last_voiced = frame
            self._silence_start = None
            return self._maybe_confirm()
        self._track(frame, probability)
        if self._state is _State.PENDING:
            if self._silence_long_enough():
                self._state = _State.IDLE  # too short to be speech: noise, drop it
                return []
            return self._maybe_confirm()
        if self._silence_long_enough():
            return [self._end(self._trailing_end(), forced=False)]
        if self._short_pause_ended():
            # the short pause stays in this utterance; the speaker did pause, however briefly
            return [self._end(self._frames - 1, forced=False, cut=True)]
        if self._frames - self._utterance_start >= self.max_frames:
            if self._silence_start is not None:
                return [self._end(self._trailing_end(), forced=True)]
            cut = self._quietest_frame()
            return [self._end(cut, forced=True, speech_continues=True), self._start(cut)]
        return []

    def finish(self) -> list[VadEvent]:
        """End of stream: close an open utterance; a run too short for speech is dropped."""
        events: list[VadEvent] = []
        if self._state is _State.SPEAKING:
            events.append(self._end(self._trailing_end(), forced=False))
        self._state = _State.IDLE
        return events

    def _track(self, frame: int, probability: float) -> None:
        if probability >= self.threshold:
            self._silence_start = None
            self._last_voiced = frame
        elif probability < self.end_threshold:
            if self._silence_start is None:
                self._silence_start = frame
        elif self._silence_start is None:
            self._last_voiced = frame  # between the thresholds: still speech, if not paused

    def _track_level(self, probability: float, level_db: float | None) -> None:
        """Keep the recent levels and note when a short pause has just ended."""
        self._pause_ended = False
        if level_db is None:
            self._levels.append(probability * 100.0)  # no level: the quietest is the least
            return  # speech-like frame, and short pauses need a level
        self._have_levels = True
        self._levels.append(level_db)
        floor = self._noise_floor()
        if probability >= self.options.threshold:
            self._speech_probabilities.append(probability)
        # the dip threshold is never above short_pause_probability: no percentile otherwise
        dipped = self._quiet_dipped or (probability < self.options.short_pause_probability
                                        and probability < self._dip_threshold())
        if level_db <= floor + self.options.short_pause_db:
            self._quiet_run += 1
            self._quiet_dipped = dipped
            return
        # Silero reacts a frame late: a dip on the first loud frame still counts.
        self._pause_ended = dipped and 0 < self.short_pause_frames <= self._quiet_run
        self._quiet_run, self._quiet_dipped = 0, False

    def _noise_floor(self) -> float:
        return max(LOWEST_NOISE_FLOOR_DB,
                   float(np.percentile(self._levels, NOISE_FLOOR_PERCENTILE)))

    def _onset(self, start: int) -> int:
        """``start``, or earlier where the level says speech began before Silero heard
        it: far, reverberant speech is confirmed up to a second late (real-020 made far:
        its first four syllables, 0.06-1.0 s at 15-25 dB over the noise floor, scored
        0.02-0.13). Walks back over loud frames — less than ``ONSET_BELOW_SPEECH_DB``
        under the confirmed speech's median level and, once ``FLOOR_KNOWN_S`` of levels are
        known, ``short_pause_db`` over the noise floor — across gaps shorter than
        ``ONSET_GAP_S``, at most ``onset_lookback_s``; never into the utterance before."""
        if not self.lookback_frames or not self._have_levels:
            return start
        oldest = self._frames - len(self._levels)  # frame index of self._levels[0]
        heard = [self._levels[f - oldest] for f in range(max(self._candidate, oldest),
                                                          self._frames)]
        loud_above = float(np.median(heard)) - ONSET_BELOW_SPEECH_DB
        if len(self._levels) >= self.floor_known_frames:  # the noise floor is known too
            loud_above = max(loud_above, self._noise_floor() + self.options.short_pause_db)
        earliest = max(self._previous_end, start - self.lookback_frames, oldest)
        onset, quiet = start, 0
        for frame in range(start - 1, earliest - 1, -1):
            if self._levels[frame - oldest] > loud_above:
                onset, quiet = frame, 0
            else:
                quiet += 1
                if quiet >= self.onset_gap_frames:
                    break
        return onset

    def _how_sure(self) -> float | None:
        """Silero's ``UNSURE_SPEECH_PERCENTILE`` on recent speech frames; None before
        ``MIN_SPEECH_FRAMES_FOR_DIP`` of them."""
        if len(self._speech_probabilities) < MIN_SPEECH_FRAMES_FOR_DIP:
            return None
        return float(np.percentile(self._speech_probabilities, UNSURE_SPEECH_PERCENTILE))

    def _dip_threshold(self) -> float:
        """How low Silero must go for a short pause: ``short_pause_probability``, or lower
        for a speaker it is often unsure of (``UNSURE_SPEECH_PERCENTILE``)."""
        sure = self._how_sure()
        dip = self.options.short_pause_probability
        return dip if sure is None else min(dip, sure)

    def _short_pause_ended(self) -> bool:
        """A short pause ended on this frame, in an utterance already long enough (longer
        for a speaker Silero is unsure of: ``unsure_speech_utterance_s``)."""
        if not self._pause_ended:
            return False
        long_frames = self.run_on_frames if self._run_on else self.long_frames
        if self.unsure_frames and self.unsure_of_speaker:
            long_frames = max(long_frames, self.unsure_frames)
        return self._frames - 1 - self._utterance_start >= long_frames

    @property
    def unsure_of_speaker(self) -> bool:
        """Is Silero unsure of the open utterance's speaker (``UNSURE_SPEAKER_PROBABILITY``),
        as its end would say now?"""
        sure = self._how_sure()
        return sure is not None and sure < UNSURE_SPEAKER_PROBABILITY

    def _quietest_frame(self) -> int:
        """The frame to cut before: the quietest of the last ``cut_search_s`` (level
        smoothed 1-2-1 over three frames), not in the last ``CUT_GUARD_S``; ties go to the
        latest."""
        levels = list(self._levels)[-(self.search_frames + 1):]
        newest = self._frames - 1
        best, best_level = newest, math.inf
        for offset in range(1, len(levels) - 1):
            frame = newest - (len(levels) - 1) + offset
            if frame - self._utterance_start < 1 or newest - frame < self.guard_frames:
                continue
            level = (levels[offset - 1] + 2 * levels[offset] + levels[offset + 1]) / 4
            if level <= best_level:
                best, best_level = frame, level
        return best

    def _silence_long_enough(self) -> bool:
        if self._silence_start is None:
            return False
        needed = self.min_silence_frames
        if (self._state is _State.SPEAKING
                and self._silence_start - self._utterance_start >= self.long_frames):
            needed = self.long_silence_frames
        return self._frames - self._silence_start >= needed

    def _maybe_confirm(self) -> list[VadEvent]:
        if self._last_voiced + 1 - self._candidate < self.min_speech_frames:
            return []
        start = max(self._previous_end, self._candidate - self.pad_frames)
        return [self._start(start, onset=self._onset(start))]

    def _trailing_end(self) -> int:
        if self._silence_start is None:
            return self._frames
        return min(self._frames, self._silence_start + self.pad_frames)

    def _start(self, frame: int, onset: int | None = None) -> UtteranceStart:
        """Open an utterance at ``frame`` (its audio from ``onset`` when that is earlier)."""
        self._run_on = self._previous_cut and frame <= self._previous_end
        earlier = 0 if onset is None else max(0, frame - onset)
        frame -= earlier
        self._state = _State.SPEAKING
        self._utterance_start = frame
        self._silence_start = None
        return UtteranceStart(frame, earlier)

    def _end(self, frame: int, *, forced: bool, speech_continues: bool = False,
             cut: bool = False) -> UtteranceEnd:
        pause = None if cut or speech_continues else self._silence_start
        self._previous_cut = cut or speech_continues
        self._state = _State.IDLE
        self._previous_end = frame
        self._silence_start = None
        return UtteranceEnd(frame, forced=forced, speech_continues=speech_continues,
                            unsure_speaker=self.unsure_of_speaker, pause_frame=pause)
