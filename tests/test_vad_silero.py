"""Real Silero VAD through the segmenter: speech is found, silence, noise and music are not."""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from hudtranslate.audio import read_audio_file
from hudtranslate.config import VadOptions
from hudtranslate.eval.far_field import degrade, pink_noise
from hudtranslate.events import SAMPLE_RATE_HZ, AudioChunk, SpeechChunk
from hudtranslate.vad import FRAME_SAMPLES, SileroVad, SpeechSegmenter

pytestmark = pytest.mark.real

SHARED_DATA = Path(
    os.environ.get("HUDTRANSLATE_SHARED_DATA")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data"
)
AUDIO = SHARED_DATA / "audio"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared test data not found at {path} (set HUDTRANSLATE_SHARED_DATA)")
    return path


def detect(samples: npt.NDArray[np.float32], chunk_ms: int = 100,
           options: VadOptions | None = None) -> list[SpeechChunk]:
    segmenter = SpeechSegmenter(SileroVad(), options or VadOptions())
    step = chunk_ms * SAMPLE_RATE_HZ // 1000
    chunks: list[SpeechChunk] = []
    for begin in range(0, len(samples), step):
        piece = samples[begin : begin + step]
        chunks += segmenter.feed(AudioChunk(piece, begin / SAMPLE_RATE_HZ))
    return chunks + segmenter.finish()


def spans(chunks: list[SpeechChunk]) -> list[tuple[float, float]]:
    """(start_s, end_s) per utterance, in id order; every utterance must be closed."""
    found: dict[int, list[float]] = {}
    for chunk in chunks:
        span = found.setdefault(chunk.utterance_id, [chunk.start_s, chunk.end_s])
        span[1] = chunk.end_s
    assert sum(chunk.final for chunk in chunks) == len(found)
    return [(start, end) for start, end in (found[i] for i in sorted(found))]


def test_silero_probability_rejects_wrong_frame_size() -> None:
    vad = SileroVad()
    assert 0.0 <= vad.probability(np.zeros(FRAME_SAMPLES, dtype=np.float32)) <= 1.0
    with pytest.raises(ValueError, match="512"):
        vad.probability(np.zeros(100, dtype=np.float32))


def test_one_utterance_covers_the_speech() -> None:
    samples = read_audio_file(_need(AUDIO / "utterances" / "dev-u001.wav"))
    found = spans(detect(samples))
    assert len(found) == 1
    start, end = found[0]
    speech_start = 0.25  # the clips have 0.25 s of silence around the speech
    speech_end = len(samples) / SAMPLE_RATE_HZ - 0.25
    assert abs(start - speech_start) < 0.3
    assert abs(end - speech_end) < 0.3


def test_talk_segments_are_found_and_pauses_left_alone() -> None:
    manifest = _need(AUDIO / "talks.jsonl")
    talk = next(
        json.loads(line)
        for line in manifest.read_text().splitlines()
        if line.strip() and json.loads(line)["id"] == "dev-talk1"
    )
    limit_s = 20.0
    samples = read_audio_file(_need(AUDIO / talk["wav"]))[: int(limit_s * SAMPLE_RATE_HZ)]
    found = spans(detect(samples))
    segments = [(s["start_s"], s["end_s"]) for s in talk["segments"] if s["start_s"] < limit_s]
    assert segments
    for seg_start, seg_end in segments:
        assert any(start < seg_end and seg_start < end for start, end in found), (
            f"reference speech {seg_start:.2f}-{seg_end:.2f} s was missed: {found}"
        )
    pauses = [(a[1], b[0]) for a, b in itertools.pairwise(segments)]
    for pause_start, pause_end in pauses:
        if pause_end - pause_start > 0.6:
            inside = [(s, e) for s, e in found if s >= pause_start and e <= pause_end]
            assert not inside, f"utterance inside the pause {pause_start}-{pause_end}: {inside}"


FIVE_SECONDS = 5 * SAMPLE_RATE_HZ


def _pink_noise(level_dbfs: float) -> npt.NDArray[np.float32]:
    noise = pink_noise(FIVE_SECONDS, np.random.default_rng(7)) * 10 ** (level_dbfs / 20)
    return noise.astype(np.float32)


def test_far_quiet_speech_is_found() -> None:
    """A real recording made far and quiet (reverberation RT60 0.6 s, pink noise 15 dB
    under it, -40 dBFS; ``eval.far_field``): Silero alone heard none of it;
    with the VAD's input gain (the default) the speech is found."""
    clip = read_audio_file(_need(SHARED_DATA / "real" / "real-001.wav")).astype(np.float64)
    samples = degrade(clip, "far", 0.6, 15.0, -40.0, np.random.default_rng(7)).astype(np.float32)
    speech_s = len(samples) / SAMPLE_RATE_HZ
    found = spans(detect(samples))
    assert sum(end - start for start, end in found) > 0.6 * speech_s, found
    assert detect(samples, options=VadOptions(max_input_gain_db=0.0)) == []


def _music() -> npt.NDArray[np.float32]:
    """Sustained harmonic chords (A minor, F major, C major) cross-fading under a slow swell."""
    t = np.arange(FIVE_SECONDS) / SAMPLE_RATE_HZ
    signal = np.zeros_like(t)
    chords = [(220.0, 261.63, 329.63), (174.61, 220.0, 261.63), (130.81, 164.81, 196.0)]
    for index, chord in enumerate(chords):
        centre = (index + 0.5) * 5.0 / len(chords)
        fade = np.exp(-0.5 * ((t - centre) / 0.8) ** 2)  # each chord swells and fades
        for root in chord:
            for harmonic in range(1, 6):
                signal += fade * np.sin(2 * np.pi * root * harmonic * t) / harmonic
    envelope = 0.5 * (1 - np.cos(2 * np.pi * t / 5.0))
    music: npt.NDArray[np.float32] = (0.2 * envelope * signal / np.max(np.abs(signal))).astype(
        np.float32
    )
    return music


@pytest.mark.parametrize(
    ("name", "samples"),
    [
        ("digital silence", np.zeros(FIVE_SECONDS, dtype=np.float32)),
        (
            "white noise",
            (0.05 * np.random.default_rng(7).standard_normal(FIVE_SECONDS)).astype(np.float32),
        ),
        ("music", _music()),
        # quiet enough that the VAD's input gain raises them by its most (20 dB)
        ("quiet pink noise", _pink_noise(-55.0)),
        ("quiet music", (_music() * 10 ** (-40 / 20)).astype(np.float32)),
    ],
)
def test_no_speech_gives_no_chunks(name: str, samples: npt.NDArray[np.float32]) -> None:
    assert detect(samples) == [], f"{name} was taken for speech"
