"""Level clean-up before recognition (pure)."""

from __future__ import annotations

import numpy as np
import pytest

from hudtranslate.asr.levels import (
    MAX_GAIN_DB,
    TARGET_SPEECH_DBFS,
    active_speech_dbfs,
    normalize_speech_level,
)


def speech_like(level_dbfs: float, seconds: float = 2.0, pause_s: float = 0.5) -> np.ndarray:
    """Noise bursts at ``level_dbfs`` RMS with a silent pause in the middle."""
    rng = np.random.default_rng(1)
    half = int(seconds / 2 * 16_000)
    burst = rng.normal(0, 10 ** (level_dbfs / 20), half)
    return np.concatenate([burst, np.zeros(int(pause_s * 16_000)), burst]).astype(np.float32)


@pytest.mark.parametrize("level", [-45.0, -30.0, -20.0, -8.0])
def test_speech_is_brought_to_the_target_level_whatever_its_pauses(level: float) -> None:
    audio = speech_like(level)
    assert active_speech_dbfs(audio) == pytest.approx(level, abs=0.5)
    out = normalize_speech_level(audio)
    assert active_speech_dbfs(out) == pytest.approx(TARGET_SPEECH_DBFS, abs=0.5)
    assert np.max(np.abs(out)) <= 0.99 + 1e-6


def test_dc_offset_is_removed() -> None:
    audio = speech_like(-30.0) + np.float32(0.3)
    out = normalize_speech_level(audio)
    assert abs(float(np.mean(out))) < 1e-3
    assert active_speech_dbfs(out) == pytest.approx(TARGET_SPEECH_DBFS, abs=0.5)


def test_gain_is_capped_so_noise_is_not_blown_up() -> None:
    out = normalize_speech_level(speech_like(-80.0))
    assert active_speech_dbfs(out) == pytest.approx(-80.0 + MAX_GAIN_DB, abs=0.5)


def test_clipped_audio_is_not_amplified_and_silence_stays_silent() -> None:
    clipped = np.clip(speech_like(-3.0), -1.0, 1.0)
    assert np.max(np.abs(normalize_speech_level(clipped))) <= 0.99 + 1e-6
    silence = np.zeros(16_000, np.float32)
    np.testing.assert_array_equal(normalize_speech_level(silence), silence)
    assert normalize_speech_level(np.zeros(0, np.float32)).size == 0
    with pytest.raises(ValueError, match="no samples"):
        active_speech_dbfs(np.zeros(0, np.float32))
