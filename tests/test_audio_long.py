"""A long recording (hours of a meeting) is decoded into one 16 kHz array, never two: the
pieces were joined by ``np.concatenate``, which held them and the joined copy at once (a
2-hour file peaked at 0.94 GB for its 0.46 GB of samples, beside the models' 1.75 GB)."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile

from hudtranslate.audio import read_audio_file

SECONDS = 90


def _mono_16k(path: Path, seconds: int) -> None:
    soundfile.write(path, np.full(seconds * 16_000, 0.01, np.float32), 16_000, subtype="PCM_16")


def _stereo_48k(path: Path, seconds: int) -> None:
    soundfile.write(path, np.full((seconds * 48_000, 2), 0.01, np.float32), 48_000,
                    subtype="PCM_16")


def _header_without_sizes(path: Path, seconds: int) -> None:
    """A recorder killed before it wrote the sizes: the WAV goes to FFmpeg."""
    _mono_16k(path, seconds)
    data = bytearray(path.read_bytes())
    data[4:8] = data[40:44] = bytes(4)
    path.write_bytes(bytes(data))


def _decoding_peak(path: Path) -> tuple[int, int]:
    """The most memory numpy held while ``path`` was read, and the samples' size."""
    tracemalloc.start()  # numpy reports its arrays to tracemalloc
    try:
        samples = read_audio_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, samples.nbytes


@pytest.mark.parametrize("write", [_mono_16k, _stereo_48k, _header_without_sizes],
                         ids=["16k-mono", "48k-stereo", "ffmpeg"])
def test_a_long_file_is_held_once_while_it_is_decoded(
        tmp_path: Path, write: Callable[[Path, int], None]) -> None:
    path = tmp_path / "meeting.wav"
    write(path, SECONDS)
    peak, held = _decoding_peak(path)
    assert abs(held - SECONDS * 16_000 * 4) <= 16_000
    short = tmp_path / "short.wav"
    write(short, 2)
    working, _ = _decoding_peak(short)  # the decoders' own blocks, whatever the length
    assert peak - working < 1.2 * held, f"{(peak - working) / held:.2f}× the samples"
