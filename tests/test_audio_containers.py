"""Audio libsndfile does not read (voice memos, videos), decoded through PyAV/FFmpeg by
``read_audio_file``; files written here with PyAV's own encoders."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import soundfile

from hudtranslate.audio import read_audio_file
from hudtranslate.errors import AudioError
from hudtranslate.events import SAMPLE_RATE_HZ

av = pytest.importorskip("av")

TONE_HZ = 1000.0
SECONDS = 2.0


def _write(path: Path, codec: str, rate: int, *, video: bool = False) -> None:
    """A stereo 1-kHz tone (0.5 and 0.3 amplitude) of ``SECONDS`` in ``path``'s container,
    with a small black video track first when ``video``."""
    t = np.arange(int(rate * SECONDS)) / rate
    tone = np.stack([0.5 * np.sin(2 * np.pi * TONE_HZ * t),
                     0.3 * np.sin(2 * np.pi * TONE_HZ * t)]).astype(np.float32)
    with av.open(str(path), "w") as container:
        if video:
            picture = container.add_stream("mpeg4", rate=10)
            picture.width, picture.height, picture.pix_fmt = 64, 48, "yuv420p"
        sound = container.add_stream(codec, rate=rate, layout="stereo")
        frame_size = sound.codec_context.frame_size or 1024
        pts = 0
        for start in range(0, tone.shape[1], frame_size):
            block = np.ascontiguousarray(tone[:, start:start + frame_size])
            frame = av.AudioFrame.from_ndarray(block, format="fltp", layout="stereo")
            frame.sample_rate, frame.pts, frame.time_base = rate, pts, Fraction(1, rate)
            pts += block.shape[1]
            container.mux(sound.encode(frame))
        container.mux(sound.encode(None))
        if video:
            for index in range(int(SECONDS * 10)):
                image = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")
                image.pts = index
                container.mux(picture.encode(image))
            container.mux(picture.encode(None))


def _peak_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / SAMPLE_RATE_HZ)[int(np.argmax(spectrum))])


@pytest.mark.parametrize(("name", "codec", "rate", "video"), [
    ("memo.m4a", "aac", 44_100, False),          # a phone's voice memo
    ("note.webm", "libopus", 48_000, False),     # a browser's recording
    ("clip.mp4", "aac", 48_000, True),           # a video's sound track
])
def test_containers_libsndfile_does_not_read_give_16k_mono(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, name: str, codec: str, rate: int,
        video: bool) -> None:
    path = tmp_path / name
    _write(path, codec, rate, video=video)
    with caplog.at_level("WARNING"):
        samples = read_audio_file(path)
    assert not caplog.records  # a whole file is not "truncated"
    assert samples.dtype == np.float32 and samples.ndim == 1 and samples.flags.c_contiguous
    assert abs(len(samples) / SAMPLE_RATE_HZ - SECONDS) < 0.1  # codec padding only
    assert abs(_peak_hz(samples) - TONE_HZ) < 5
    middle = samples[len(samples) // 4: 3 * len(samples) // 4]
    assert 0.25 < np.sqrt(2 * np.mean(middle ** 2)) < 0.55  # the channels' mix


def test_a_picture_is_a_file_without_audio(tmp_path: Path) -> None:
    from PIL import Image

    path = tmp_path / "photo.png"
    Image.new("RGB", (32, 32)).save(path)
    with pytest.raises(AudioError, match="has no audio track") as info:
        read_audio_file(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(("content", "message"), [
    (b"", "audio file is empty"), (b"not a recording " * 50, "not an audio file or unreadable")])
def test_a_memo_that_is_not_audio_is_one_line(tmp_path: Path, content: bytes,
                                              message: str) -> None:
    path = tmp_path / "memo.m4a"
    path.write_bytes(content)
    with pytest.raises(AudioError, match=message) as info:
        read_audio_file(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_a_recording_cut_off_is_read_up_to_the_cut(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """FFmpeg reads a cut WebM to the cut without an error: the length its header
    declares tells it was cut."""
    path = tmp_path / "note.webm"
    _write(path, "libopus", 48_000)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])     # a recording whose upload stopped
    with caplog.at_level("WARNING"):
        samples = read_audio_file(path)
    assert 0.3 < len(samples) / SAMPLE_RATE_HZ < SECONDS
    assert "is truncated: it declares 2.0 s of audio" in caplog.text


def test_samples_that_are_not_numbers_read_by_ffmpeg_are_silence(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A damaged float recording in a container only FFmpeg reads: NaN/inf become
    silence with a warning, as in a WAV libsndfile reads."""
    rate = 16_000
    tone = (0.3 * np.sin(2 * np.pi * TONE_HZ * np.arange(rate) / rate)).astype(np.float32)
    tone[4000:4100] = np.nan
    tone[9000] = np.inf
    path = tmp_path / "damaged.mka"
    with av.open(str(path), "w") as container:
        sound = container.add_stream("pcm_f32le", rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(tone[None, :], format="flt", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = rate, 0, Fraction(1, rate)
        container.mux(sound.encode(frame))
        container.mux(sound.encode(None))
    with caplog.at_level("WARNING"):
        samples = read_audio_file(path)
    assert np.isfinite(samples).all() and len(samples) == rate
    assert "101 samples are not numbers" in caplog.text


@pytest.mark.parametrize(("name", "fmt"), [("long.flac", "FLAC"), ("long.mp3", "MP3")])
def test_a_long_recording_cut_off_is_read_up_to_the_cut(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, name: str, fmt: str) -> None:
    """libsndfile refused a cut FLAC whole ("lost sync") and read a cut MP3 to its
    header's length, making up the missing half: FFmpeg reads what is there."""
    import soundfile

    path = tmp_path / name
    seconds = 30
    tone = 0.3 * np.sin(2 * np.pi * TONE_HZ * np.arange(SAMPLE_RATE_HZ * seconds) / SAMPLE_RATE_HZ)
    soundfile.write(path, tone.astype(np.float32), SAMPLE_RATE_HZ, format=fmt)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with caplog.at_level("WARNING"):
        samples = read_audio_file(path)
    assert 0.4 * seconds < len(samples) / SAMPLE_RATE_HZ < 0.6 * seconds
    assert "breaks off after" in caplog.text or "is truncated" in caplog.text


def test_a_films_surround_sound_keeps_the_dialogue_of_its_centre_channel(
        tmp_path: Path) -> None:
    rate = 48_000
    t = np.arange(rate * 2) / rate
    channels = np.zeros((6, len(t)), np.float32)     # 5.1: L R C LFE Ls Rs
    channels[2] = 0.5 * np.sin(2 * np.pi * TONE_HZ * t)
    path = tmp_path / "film.mp4"
    with av.open(str(path), "w") as container:
        sound = container.add_stream("aac", rate=rate, layout="5.1")
        for start in range(0, len(t), 1024):
            block = np.ascontiguousarray(channels[:, start:start + 1024])
            frame = av.AudioFrame.from_ndarray(block, format="fltp", layout="5.1")
            frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
            container.mux(sound.encode(frame))
        container.mux(sound.encode(None))
    samples = read_audio_file(path)
    middle = samples[len(samples) // 4: 3 * len(samples) // 4]
    assert np.sqrt(2 * np.mean(middle ** 2)) > 0.35   # an average of six would be ~0.08


@pytest.mark.parametrize("fmt", ["WAV", "FLAC"])
def test_surround_wav_and_flac_keep_the_dialogue_of_their_centre_channel(
        tmp_path: Path, fmt: str) -> None:
    # libsndfile reads these; an average of its six channels put the centre 15 dB down
    t = np.arange(SAMPLE_RATE_HZ * 2) / SAMPLE_RATE_HZ
    channels = np.zeros((len(t), 6), np.float32)     # 5.1: L R C LFE Ls Rs
    channels[:, 2] = 0.5 * np.sin(2 * np.pi * TONE_HZ * t)
    path = tmp_path / f"mix.{fmt.lower()}"
    soundfile.write(path, channels, SAMPLE_RATE_HZ, format=fmt)
    samples = read_audio_file(path)
    assert len(samples) == len(t)
    assert np.sqrt(2 * np.mean(samples ** 2)) > 0.35   # an average of six would be ~0.08


def test_a_file_named_mp3_that_is_not_one_is_one_line_and_no_decoder_notes(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """libsndfile's MP3 reader had printed three "Note: Illegal Audio-MPEG-Header …" lines
    on stderr before the error."""
    fake = tmp_path / "text.mp3"
    fake.write_text("hello\n")
    with pytest.raises(AudioError, match="not an audio file or unreadable"):
        read_audio_file(fake)
    assert "Note:" not in capfd.readouterr().err


def test_a_codec_ffmpeg_does_not_know_is_one_line(tmp_path: Path) -> None:
    """A WAV whose format tag no decoder knows: PyAV gives its stream no codec context,
    and reading its channel count had ended the command with an AttributeError."""
    import struct

    data = np.zeros(16_000, dtype="<i2").tobytes()
    fmt = struct.pack("<IHHIIHH", 16, 0x7777, 1, 16_000, 32_000, 2, 16)
    path = tmp_path / "odd.wav"
    path.write_bytes(b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " + fmt
                     + b"data" + struct.pack("<I", len(data)) + data)
    with pytest.raises(AudioError, match=r"cannot decode the audio of .*odd\.wav: its codec"):
        read_audio_file(path)
