"""Far-field copies for the benchmark (``eval.far_field``): level, length, seed, errors."""

from __future__ import annotations

import numpy as np
import pytest

from hudtranslate.eval.far_field import degrade, rms
from hudtranslate.events import SAMPLE_RATE_HZ


def tone(seconds: float = 2.0) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE_HZ)) / SAMPLE_RATE_HZ
    return 0.3 * np.sin(2 * np.pi * 220.0 * t)


@pytest.mark.parametrize("kind", ["far", "reverb", "noise", "quiet"])
def test_copies_keep_the_length_and_reach_the_level(kind: str) -> None:
    copy = degrade(tone(), kind, 0.6, 15.0, -40.0, np.random.default_rng(7))
    assert len(copy) == len(tone())
    assert 20 * np.log10(rms(copy)) == pytest.approx(-40.0, abs=1e-6)


def test_noise_sits_the_asked_for_distance_under_the_speech() -> None:
    clean = tone()
    noisy = degrade(clean, "noise", 0.6, 15.0, None, np.random.default_rng(7))
    assert 20 * np.log10(rms(clean) / rms(noisy - clean)) == pytest.approx(15.0, abs=1e-6)


def test_same_seed_same_copy() -> None:
    first, second, other = (degrade(tone(), "far", 0.6, 15.0, -40.0, np.random.default_rng(seed))
                            for seed in (7, 7, 8))
    assert np.array_equal(first, second) and not np.array_equal(first, other)


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="kind must be one of"):
        degrade(tone(), "underwater", 0.6, 15.0, None, np.random.default_rng(7))
