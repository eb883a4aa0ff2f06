"""Gain for what Silero hears: quiet, far speech brought up to where it detects it.

Silero VAD misses reverberant, noisy speech once it is quiet. The real recordings made far
(room reverberation with RT60 0.6 s, pink noise 15 dB below the speech, −40 dBFS): on
real-001 no frame reached the 0.5 threshold (the clip gave no captions at all), and on
real-006 the first three words were lost; the same audio at its original −23 dBFS was
detected like the clean clip. Noise alone and music stayed far below the threshold with
the gain (docs/benchmark.md, fifteenth session).

The level that counts is the loud end of the recent frames (the 90th percentile of the
last 10 s of frame levels): speech where there is speech, the noise itself where there
is none. The gain only ever raises, by at most ``max_gain_db``: pure noise is lifted no
further than that, and clipped or loud input is left alone. Only the VAD's copy of the
audio is scaled; the recogniser levels each utterance itself (``asr/levels.py``).
"""

from __future__ import annotations

from collections import deque

import numpy as np

TARGET_LEVEL_DBFS = -26.0
"""Where the loud frames are brought: a little under read-speech corpora's −20 dBFS of
active speech (frames include the quieter ends of words)."""
WINDOW_S = 10.0
"""How much recent audio the level is measured over."""
LOUD_PERCENTILE = 90.0


class VadInputGain:
    """Per-frame gain (linear) for the VAD's input, from the frames' levels so far."""

    def __init__(self, frame_ms: float, max_gain_db: float) -> None:
        """``frame_ms``: the VAD's frame length; ``max_gain_db``: the most it raises (0:
        never). Raises ``ValueError`` for a frame length ≤ 0 or a negative gain."""
        if frame_ms <= 0 or max_gain_db < 0:
            raise ValueError(f"need frame_ms > 0 and max_gain_db >= 0, got {frame_ms}, "
                             f"{max_gain_db}")
        self.max_gain_db = max_gain_db
        self._levels: deque[float] = deque(maxlen=max(1, round(WINDOW_S * 1000 / frame_ms)))

    def reset(self) -> None:
        """A new stream: forget the levels heard."""
        self._levels.clear()

    def gain(self, level_db: float) -> float:
        """The factor for the frame whose level (dBFS) is ``level_db``, heard after the
        frames given before."""
        self._levels.append(level_db)
        if self.max_gain_db <= 0:
            return 1.0
        loud = float(np.percentile(np.fromiter(self._levels, float, len(self._levels)),
                                   LOUD_PERCENTILE))
        gain_db = min(self.max_gain_db, max(0.0, TARGET_LEVEL_DBFS - loud))
        return float(10 ** (gain_db / 20))
