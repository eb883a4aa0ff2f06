"""Far-field copies of recordings: a speaker across a room from the glasses.

Synthetic and seeded, so the same copies come out on every machine: a room response
(exponentially decaying Gaussian noise after the direct sound), pink (1/f) noise under
the reverberant speech, and a quiet level. The real recordings made so (RT60 0.6 s, 15 dB
SNR, −40 dBFS) showed Silero missing quiet reverberant speech (``vad/gain.py``;
docs/benchmark.md, fifteenth session). ``scripts/far_field.py`` writes such copies of a
benchmark manifest.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hudtranslate.events import SAMPLE_RATE_HZ

KINDS = ("far", "reverb", "noise", "quiet")
"""``far``: all three; the others one degradation alone."""


def pink_noise(count: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """``count`` samples of unit-RMS pink noise."""
    spectrum = np.fft.rfft(rng.standard_normal(count))
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
    noise: npt.NDArray[np.float64] = np.fft.irfft(spectrum, count)
    return noise / float(np.sqrt(np.mean(noise**2)))


def room_response(rt60_s: float, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """A synthetic impulse response (unit energy): the direct sound, then 3 ms later a
    Gaussian tail decaying 60 dB in ``rt60_s``."""
    t = np.arange(int(SAMPLE_RATE_HZ * rt60_s * 1.2)) / SAMPLE_RATE_HZ
    response = rng.standard_normal(len(t)) * np.exp(-6.9 * t / rt60_s)
    response[: int(0.003 * SAMPLE_RATE_HZ)] = 0.0
    response[0] = 4.0
    unit: npt.NDArray[np.float64] = response / float(np.sqrt(np.sum(response**2)))
    return unit


def rms(samples: npt.NDArray[np.float64]) -> float:
    return float(np.sqrt(np.mean(samples**2) + 1e-20))


def degrade(samples: npt.NDArray[np.float64], kind: str, rt60_s: float, snr_db: float,
            level_dbfs: float | None, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """``samples`` (16 kHz) reverberated (``far``, ``reverb``), with noise ``snr_db``
    under them (``far``, ``noise``), then at ``level_dbfs`` RMS (None: as they come).
    Raises ``ValueError`` for an unknown ``kind``."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if kind in ("far", "reverb"):
        response = room_response(rt60_s, rng)
        size = 1 << (len(samples) + len(response) - 2).bit_length()
        samples = np.fft.irfft(np.fft.rfft(samples, size) * np.fft.rfft(response, size),
                               size)[: len(samples)]
    if kind in ("far", "noise"):
        samples = samples + pink_noise(len(samples), rng) * rms(samples) / 10 ** (snr_db / 20)
    if level_dbfs is not None:
        samples = samples * 10 ** (level_dbfs / 20) / rms(samples)
    return samples
