"""Audio sources and PCM helpers: decoding, resampling, chunk pacing, microphone errors."""

from __future__ import annotations

import asyncio
import itertools
import sys
import threading
import time
import types
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from hudtranslate.audio import (
    Resampler,
    file_chunks,
    float32_to_pcm16le,
    list_input_devices,
    microphone_chunks,
    pcm16le_to_float32,
    read_audio_file,
    resample,
    to_mono,
)
from hudtranslate.audio import mic as mic_module
from hudtranslate.config import AudioOptions
from hudtranslate.errors import AudioError
from hudtranslate.events import SAMPLE_RATE_HZ, AudioChunk

TONE_HZ = 1000.0


def _stereo_tone(rate: int, seconds: float) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    left = 0.5 * np.sin(2 * np.pi * TONE_HZ * t)
    right = 0.3 * np.sin(2 * np.pi * TONE_HZ * t)
    return np.stack([left, right], axis=1).astype(np.float32)


def _peak_hz(samples: np.ndarray, rate: int = SAMPLE_RATE_HZ) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


# --- pcm -------------------------------------------------------------------------------


def test_to_mono_averages_channels_and_returns_contiguous_float32() -> None:
    stereo = np.array([[1.0, 0.0], [0.5, 0.5], [-1.0, 1.0]], dtype=np.float64)
    mono = to_mono(stereo)
    assert mono.dtype == np.float32 and mono.flags.c_contiguous
    np.testing.assert_allclose(mono, [0.5, 0.5, 0.0])
    np.testing.assert_allclose(to_mono(np.array([0.25, -0.25])), [0.25, -0.25])
    with pytest.raises(AudioError):
        to_mono(np.zeros((2, 2, 2)))


def test_pcm16_round_trip_and_odd_length() -> None:
    samples = np.array([0.0, 0.5, -0.5, 1.0, -1.0], dtype=np.float32)
    data = float32_to_pcm16le(samples)
    assert len(data) == 10
    back = pcm16le_to_float32(data)
    assert back.dtype == np.float32
    np.testing.assert_allclose(back, samples, atol=1 / 16384)
    assert pcm16le_to_float32(b"\x00\x80")[0] == -1.0
    with pytest.raises(AudioError, match="even number of bytes"):
        pcm16le_to_float32(b"\x00\x01\x02")


@pytest.mark.parametrize(
    ("from_hz", "to_hz"), [(44_100, 16_000), (48_000, 16_000), (8_000, 16_000), (16_000, 16_000)]
)
def test_resample_keeps_length_and_frequency(from_hz: int, to_hz: int) -> None:
    n = from_hz  # one second
    tone = np.sin(2 * np.pi * 440 * np.arange(n) / from_hz)
    out = resample(tone, from_hz, to_hz)
    assert out.dtype == np.float32 and out.flags.c_contiguous
    assert len(out) == to_hz
    expected = np.sin(2 * np.pi * 440 * np.arange(len(out)) / to_hz)
    assert np.max(np.abs(out[100:-100] - expected[100:-100])) < 0.01


def test_resample_removes_frequencies_above_the_new_nyquist() -> None:
    t = np.arange(44_100) / 44_100
    out = resample(np.sin(2 * np.pi * 12_000 * t), 44_100, 16_000)
    assert np.sqrt(np.mean(out[500:-500] ** 2)) < 0.01


def test_streaming_resampler_matches_whole_signal() -> None:
    rng = np.random.default_rng(1)
    signal = rng.standard_normal(30_000).astype(np.float32)
    whole = resample(signal, 48_000, 16_000)
    resampler = Resampler(48_000, 16_000)
    pieces, begin = [], 0
    for size in rng.integers(1, 2_000, size=100):
        pieces.append(resampler.process(signal[begin : begin + size]))
        begin += int(size)
    pieces.append(resampler.process(signal[begin:]))
    pieces.append(resampler.flush())
    np.testing.assert_allclose(np.concatenate(pieces), whole, atol=1e-6)


# --- files -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("suffix", "fmt", "subtype"),
    [
        ("wav", "WAV", "PCM_16"),
        ("flac", "FLAC", "PCM_16"),
        ("ogg", "OGG", "VORBIS"),
        ("mp3", "MP3", "MPEG_LAYER_III"),
    ],
)
def test_read_audio_file_gives_16k_mono(
    tmp_path: Path, suffix: str, fmt: str, subtype: str
) -> None:
    if fmt not in soundfile.available_formats():
        pytest.skip(f"this libsndfile cannot write {fmt}")
    path = tmp_path / f"tone.{suffix}"
    soundfile.write(path, _stereo_tone(44_100, 1.5), 44_100, format=fmt, subtype=subtype)
    samples = read_audio_file(path)
    assert samples.dtype == np.float32 and samples.ndim == 1 and samples.flags.c_contiguous
    expected_len = int(np.ceil(int(44_100 * 1.5) * SAMPLE_RATE_HZ / 44_100))
    slack = 0 if fmt in {"WAV", "FLAC", "OGG"} else 2_000  # MP3 frames pad the end
    assert abs(len(samples) - expected_len) <= slack
    assert abs(_peak_hz(samples) - TONE_HZ) < 5
    middle = samples[len(samples) // 4 : 3 * len(samples) // 4]
    assert 0.25 < np.sqrt(2 * np.mean(middle**2)) < 0.55  # about the (0.5 + 0.3) / 2 mix


def test_read_audio_file_missing(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="audio file not found") as info:
        read_audio_file(tmp_path / "nope.wav")
    assert "\n" not in str(info.value)


def test_read_audio_file_directory(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="is a directory"):
        read_audio_file(tmp_path)


def test_read_audio_file_not_audio(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("these are not samples\n" * 20)
    with pytest.raises(AudioError, match="not an audio file") as info:
        read_audio_file(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_read_audio_file_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    soundfile.write(path, np.zeros(0, dtype=np.float32), 16_000)
    with pytest.raises(AudioError, match="empty"):
        read_audio_file(path)


def test_read_audio_file_short_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "short.wav"
    soundfile.write(path, np.full(3, 0.1, dtype=np.float32), 16_000)
    assert len(read_audio_file(path)) == 3


@pytest.mark.parametrize(("keep_bytes", "warned"), [(44 + 32_000, True), (None, False)])
def test_a_wav_cut_short_is_read_with_a_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, keep_bytes: int | None,
        warned: bool) -> None:
    path = tmp_path / "talk.wav"
    soundfile.write(path, np.full(48_000, 0.1, dtype=np.float32), 16_000, subtype="PCM_16")
    if keep_bytes is not None:  # a copy that stopped half-way: the header still says 3 s
        path.write_bytes(path.read_bytes()[:keep_bytes])
    with caplog.at_level("WARNING"):
        samples = read_audio_file(path)
    assert len(samples) == (16_000 if warned else 48_000)
    assert ("is truncated: its header says 3.0 s of audio, 1.0 s are there" in caplog.text
            ) is warned


@pytest.mark.parametrize("subtype", ["VORBIS", "OPUS"])
@pytest.mark.parametrize("cut", [True, False])
def test_an_ogg_cut_short_is_read_up_to_the_cut_with_a_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, subtype: str, cut: bool) -> None:
    if subtype not in soundfile.available_subtypes("OGG"):
        pytest.skip(f"this libsndfile writes no Ogg {subtype}")
    path = tmp_path / "voice-memo.ogg"
    noise = np.random.default_rng(0).standard_normal(48_000 * 20).astype(np.float32) * 0.1
    soundfile.write(path, noise, 48_000, format="OGG", subtype=subtype)
    if cut:  # an upload that broke off half-way: Ogg declares no length to check against
        path.write_bytes(path.read_bytes()[:path.stat().st_size // 2])
    with caplog.at_level("WARNING"):
        samples = read_audio_file(path)
    assert ("is truncated: its Ogg stream breaks off" in caplog.text) is cut
    seconds = len(samples) / 16_000
    assert 6.0 < seconds < 11.0 if cut else seconds == pytest.approx(20.0, abs=0.05)


async def _collect(chunks: Any) -> list[tuple[float, AudioChunk]]:
    start = time.monotonic()
    return [(time.monotonic() - start, chunk) async for chunk in chunks]


@pytest.mark.timeout(30)
async def test_file_chunks_fast_covers_the_audio_in_order() -> None:
    samples = np.arange(16_000 + 500, dtype=np.float32)
    got = await _collect(file_chunks(samples, chunk_ms=100, realtime=False))
    chunks = [chunk for _, chunk in got]
    assert len(chunks) == 11
    assert [c.start_s for c in chunks[:3]] == [0.0, 0.1, 0.2]
    assert all(len(c.samples) == 1_600 for c in chunks[:-1]) and len(chunks[-1].samples) == 500
    np.testing.assert_array_equal(np.concatenate([c.samples for c in chunks]), samples)
    assert got[-1][0] < 1.0


@pytest.mark.timeout(30)
async def test_file_chunks_start_offset_keeps_file_times() -> None:
    samples = np.arange(16_000, dtype=np.float32)
    chunks = [c async for c in file_chunks(samples, 250, realtime=False, start_offset_s=0.5)]
    assert [c.start_s for c in chunks] == [0.5, 0.75]
    assert chunks[0].samples[0] == 8_000


@pytest.mark.timeout(30)
async def test_file_chunks_fast_lets_other_tasks_run() -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await _collect(file_chunks(np.zeros(16_000, dtype=np.float32), 10, realtime=False))
    task.cancel()
    assert ticks >= 50


@pytest.mark.timeout(30)
async def test_file_chunks_realtime_is_paced_like_a_microphone() -> None:
    samples = np.zeros(8_000, dtype=np.float32)  # 0.5 s
    got = await _collect(file_chunks(samples, chunk_ms=100, realtime=True))
    times = [t for t, _ in got]
    assert len(times) == 5
    assert times[0] >= 0.05  # a chunk is released only once it is "recorded"
    assert 0.4 <= times[-1] < 2.0
    assert all(later >= earlier for earlier, later in itertools.pairwise(times))


# --- microphone ------------------------------------------------------------------------


class _FakePortAudioError(Exception):
    pass


def _fake_sounddevice(**overrides: Any) -> types.SimpleNamespace:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise _FakePortAudioError("Error querying device -1")

    fake = types.SimpleNamespace(
        PortAudioError=_FakePortAudioError,
        check_input_settings=refuse,
        query_devices=refuse,
        InputStream=refuse,
    )
    for name, value in overrides.items():
        setattr(fake, name, value)
    return fake


@pytest.mark.timeout(30)
async def test_microphone_without_device_is_an_audio_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", _fake_sounddevice())
    with pytest.raises(AudioError, match="no microphone found: Error querying device -1"):
        await anext(microphone_chunks(AudioOptions()))
    with pytest.raises(AudioError, match="no microphone found"):
        list_input_devices()


@pytest.mark.timeout(30)
async def test_microphone_without_portaudio_is_an_audio_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def missing(name: str) -> Any:
        raise OSError("PortAudio library not found")

    monkeypatch.setattr(mic_module, "importlib", types.SimpleNamespace(import_module=missing))
    with pytest.raises(AudioError, match="no microphone found: PortAudio library not found"):
        await anext(microphone_chunks(AudioOptions()))


class _FakeStream:
    """Delivers a 48 kHz tone from a thread, as PortAudio would."""

    def __init__(
        self,
        *,
        samplerate: int,
        blocksize: int,
        callback: Any,
        finished_callback: Any,
        **kwargs: Any,
    ) -> None:
        self.rate, self.blocksize, self.callback = samplerate, blocksize, callback
        self.stopped = threading.Event()
        self.closed = False

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        position = 0
        while not self.stopped.is_set():
            t = (position + np.arange(self.blocksize)) / self.rate
            block = (0.5 * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.float32)[:, None]
            self.callback(block, self.blocksize, None, None)
            position += self.blocksize
            time.sleep(0.005)

    def stop(self) -> None:
        self.stopped.set()

    def close(self) -> None:
        self.closed = True


@pytest.mark.timeout(30)
async def test_microphone_resamples_a_device_that_refuses_16k(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    streams: list[_FakeStream] = []

    def make_stream(**kwargs: Any) -> _FakeStream:
        streams.append(_FakeStream(**kwargs))
        return streams[-1]

    def refuse_16k(**kwargs: Any) -> None:
        raise _FakePortAudioError("Invalid sample rate")

    fake = _fake_sounddevice(
        check_input_settings=refuse_16k,
        query_devices=lambda device, kind: {"default_samplerate": 48_000.0},
        InputStream=make_stream,
    )
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    source = microphone_chunks(AudioOptions(chunk_ms=100))
    assert isinstance(source, AsyncGenerator)
    chunks = [await anext(source) for _ in range(5)]
    await source.aclose()
    assert streams[0].rate == 48_000 and streams[0].stopped.is_set() and streams[0].closed
    assert [c.start_s for c in chunks] == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    assert all(len(c.samples) == 1_600 and c.samples.dtype == np.float32 for c in chunks)
    assert abs(_peak_hz(np.concatenate([c.samples for c in chunks])) - TONE_HZ) < 5


def test_a_named_pipe_is_read_to_its_end(tmp_path: Path) -> None:
    """`hudtranslate file <(ffmpeg …)`: the pipe's size is 0 until read (it had been
    refused as "empty (0 bytes)")."""
    import io
    import os

    tone = (0.3 * np.sin(np.arange(SAMPLE_RATE_HZ) * 0.1)).astype(np.float32)
    wav = io.BytesIO()
    soundfile.write(wav, tone, SAMPLE_RATE_HZ, format="WAV")
    pipe = tmp_path / "63"
    os.mkfifo(pipe)
    writer = threading.Thread(target=pipe.write_bytes, args=(wav.getvalue(),))
    writer.start()
    samples = read_audio_file(pipe)
    writer.join(10)
    assert len(samples) == SAMPLE_RATE_HZ and np.allclose(samples, tone, atol=1e-4)


def test_a_device_is_not_an_audio_file() -> None:
    with pytest.raises(AudioError, match="/dev/zero is a device, not an audio file"):
        read_audio_file("/dev/zero")
