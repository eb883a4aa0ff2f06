"""The VAD's input gain (pure): quiet speech is raised, loud audio and pauses are not."""

from __future__ import annotations

import pytest

from hudtranslate.vad.gain import TARGET_LEVEL_DBFS, WINDOW_S, VadInputGain

FRAME_MS = 32.0


def db(gain: float) -> float:
    import math

    return 20 * math.log10(gain)


@pytest.mark.parametrize(("level", "max_gain", "expected_db"), [
    (-46.0, 20.0, 20.0),   # far speech: raised by the most allowed
    (-36.0, 20.0, TARGET_LEVEL_DBFS + 36.0),
    (-20.0, 20.0, 0.0),    # loud enough already: never lowered
    (-46.0, 0.0, 0.0),     # off
    (-120.0, 20.0, 20.0),  # digital silence stays silence (×10 of zero)
])
def test_gain_brings_the_loud_frames_to_the_target(level: float, max_gain: float,
                                                   expected_db: float) -> None:
    gain = VadInputGain(FRAME_MS, max_gain)
    for _ in range(50):
        factor = gain.gain(level)
    assert db(factor) == pytest.approx(expected_db, abs=1e-6)


def test_pauses_do_not_raise_the_gain_while_speech_was_recent() -> None:
    """The level is the loud end of the last 10 s: a pause after speech keeps its gain."""
    gain = VadInputGain(FRAME_MS, 20.0)
    for _ in range(100):  # 3.2 s of speech at -30 dBFS
        speaking = gain.gain(-30.0)
    for _ in range(100):  # 3.2 s of room noise at -60 dBFS
        pausing = gain.gain(-60.0)
    assert db(speaking) == pytest.approx(4.0) and db(pausing) == pytest.approx(4.0)
    for _ in range(round(WINDOW_S * 1000 / FRAME_MS)):  # 10 s more of noise alone
        pausing = gain.gain(-60.0)
    assert db(pausing) == pytest.approx(20.0)


def test_reset_forgets_the_levels() -> None:
    gain = VadInputGain(FRAME_MS, 20.0)
    for _ in range(100):
        gain.gain(-10.0)
    gain.reset()
    assert db(gain.gain(-40.0)) == pytest.approx(14.0)


@pytest.mark.parametrize(("frame_ms", "max_gain"), [(0.0, 20.0), (32.0, -1.0)])
def test_bad_arguments_are_refused(frame_ms: float, max_gain: float) -> None:
    with pytest.raises(ValueError, match="frame_ms"):
        VadInputGain(frame_ms, max_gain)
