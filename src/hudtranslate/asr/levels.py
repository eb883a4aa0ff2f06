"""Level clean-up before recognition: DC offset removed, speech brought to a fixed level.

Whisper's log-mel features are not gain-invariant: a far or quiet speaker (−45 dBFS, as in
several real recordings) decodes worse than the same words at the −20 dBFS that read-speech
corpora are levelled to. Silero VAD normalises internally, so only the recogniser needs
this. The speech level is the RMS of the active frames — the 20-ms frames within 40 dB of
the loudest, the rule the dev data were levelled with (see shared/data/README.md) —
so pauses inside an utterance do not make it look quiet.
"""

from __future__ import annotations

import numpy as np

from hudtranslate.events import SAMPLE_RATE_HZ, AudioArray

TARGET_SPEECH_DBFS = -20.0
"""Active-speech level Whisper gets: the level of the read-speech data it does best on."""
MAX_GAIN_DB = 30.0
"""At most this much gain: quieter than −50 dBFS is noise, not a far speaker."""
PEAK_LIMIT = 0.99
"""Gain never pushes a sample past this (clipped input stays as it is)."""
ACTIVE_RANGE_DB = 40.0
_FRAME_SAMPLES = SAMPLE_RATE_HZ // 50  # 20 ms


def active_speech_dbfs(samples: AudioArray) -> float:
    """RMS level (dBFS) of the 20-ms frames within 40 dB of the loudest; −inf if silent.

    Raises ValueError for an empty array.
    """
    if len(samples) == 0:
        raise ValueError("no samples to measure")
    usable = len(samples) // _FRAME_SAMPLES * _FRAME_SAMPLES
    frames = samples[:usable].reshape(-1, _FRAME_SAMPLES) if usable else samples[None, :]
    power = np.mean(np.square(frames, dtype=np.float64), axis=1)
    loudest = float(power.max())
    if loudest <= 0.0:
        return float("-inf")
    active = power[power >= loudest * 10 ** (-ACTIVE_RANGE_DB / 10)]
    return float(10 * np.log10(active.mean()))


def normalize_speech_level(samples: AudioArray) -> AudioArray:
    """``samples`` without DC offset, scaled so active speech sits at −20 dBFS.

    The gain is capped at +30 dB and by the peak (never past 0.99), so silence stays
    silent and clipped audio is not made worse. Returns a new float32 array.
    """
    if len(samples) == 0:
        return samples.astype(np.float32, copy=True)
    centred = samples.astype(np.float64) - float(np.mean(samples, dtype=np.float64))
    level = active_speech_dbfs(centred.astype(np.float32))
    if not np.isfinite(level):
        return centred.astype(np.float32)
    gain_db = min(TARGET_SPEECH_DBFS - level, MAX_GAIN_DB)
    peak = float(np.max(np.abs(centred)))
    gain = min(10 ** (gain_db / 20), PEAK_LIMIT / peak)
    return np.ascontiguousarray(centred * gain, dtype=np.float32)
