"""Late reverberation taken out of a far speaker's utterance before a second final decode.

Whisper base loses most on a speaker across a room (real recordings made far: CER 16 →
37 % decoded whole), and more from the room's reverberation than from its noise.
Weighted prediction error (WPE; Nakatani et al., "Speech dereverberation based on
variance-normalized delayed linear prediction", IEEE TASLP 18(7), 2010) predicts each
frequency band's late reverberation from its own past and subtracts it; ``nara_wpe``
(MIT) is the reference implementation, used here band by band (``wpe`` works on
``(bands, channels, frames)``). Decoding each whole far clip after WPE: CER 36.7 → 34.8 %,
reverberation alone 30.2 → 28.3 %, the clean recordings 15.8 → 15.5 % (docs/benchmark.md,
twenty-first session). Denoising (``noisereduce``) made Whisper worse: 36.7 → 40.0 %.

The short-time Fourier transform is numpy's: nara_wpe's own helpers import scipy, ~80 MB
more in a process that must stay under 2 GB.
"""

from __future__ import annotations

import numpy as np

from hudtranslate.errors import DependencyError
from hudtranslate.events import AudioArray

FRAME_SAMPLES = 512
"""STFT frame (32 ms at 16 kHz) and ``SHIFT_SAMPLES`` hop: nara_wpe's 16-kHz settings."""
SHIFT_SAMPLES = 128
TAPS = 10
"""Frames of the past each band's reverberation is predicted from."""
DELAY = 3
"""Frames skipped before them: the direct sound and early reflections are kept."""
ITERATIONS = 3
BANDS_AT_ONCE = 32
"""Bands given to ``wpe`` together: its working arrays grow with bands × frames × taps
(~100 MB for 8 s of audio all at once, ~15 MB in slices of 32)."""


def dereverberate(samples: AudioArray) -> AudioArray:
    """``samples`` (16 kHz mono float32, ``(n,)``) with late reverberation removed (WPE);
    the same length and dtype. Audio shorter than a few frames is returned unchanged.
    Raises ``DependencyError`` when nara_wpe is missing."""
    if len(samples) < FRAME_SAMPLES * 4:
        return samples
    try:
        from nara_wpe.wpe import wpe
    except ImportError:
        raise DependencyError("dereverberation needs nara_wpe: pip install nara_wpe") from None
    bands = _stft(samples.astype(np.float64))                   # (frames, bands)
    clean = np.empty_like(bands)
    for first in range(0, bands.shape[1], BANDS_AT_ONCE):
        chunk = bands[:, first:first + BANDS_AT_ONCE].T[:, None, :]   # (bands, 1, frames)
        clean[:, first:first + BANDS_AT_ONCE] = wpe(
            chunk, taps=TAPS, delay=DELAY, iterations=ITERATIONS, statistics_mode="full")[:, 0].T
    return _istft(clean, len(samples)).astype(np.float32)


def _window() -> np.ndarray:
    """Periodic Blackman, nara_wpe's default (a Hann window made WPE gain nothing on the
    far copies: CER 42.2 %, chrF 33.9)."""
    return np.blackman(FRAME_SAMPLES + 1)[:-1]


def _stft(samples: np.ndarray) -> np.ndarray:
    """Frames of ``FRAME_SAMPLES`` every ``SHIFT_SAMPLES`` (zero-padded at both ends),
    windowed, as ``(frames, FRAME_SAMPLES // 2 + 1)`` complex spectra."""
    padded = np.pad(samples, (FRAME_SAMPLES, FRAME_SAMPLES))
    count = 1 + (len(padded) - FRAME_SAMPLES) // SHIFT_SAMPLES
    frames = np.lib.stride_tricks.sliding_window_view(padded, FRAME_SAMPLES)[::SHIFT_SAMPLES]
    return np.fft.rfft(frames[:count] * _window(), axis=1)


def _istft(spectra: np.ndarray, length: int) -> np.ndarray:
    """Weighted overlap-add inverse of ``_stft``, cut to ``length`` samples."""
    window = _window()
    frames = np.fft.irfft(spectra, n=FRAME_SAMPLES, axis=1) * window
    total = FRAME_SAMPLES + SHIFT_SAMPLES * (len(frames) - 1)
    out, weight = np.zeros(total), np.zeros(total)
    for index, frame in enumerate(frames):
        at = index * SHIFT_SAMPLES
        out[at:at + FRAME_SAMPLES] += frame
        weight[at:at + FRAME_SAMPLES] += window ** 2
    out /= np.maximum(weight, 1e-8)
    return out[FRAME_SAMPLES:FRAME_SAMPLES + length]
