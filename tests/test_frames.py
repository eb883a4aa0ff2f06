"""Frames at each display's exact resolution and colour depth, and the frame sink."""

from __future__ import annotations

import dataclasses
import json
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hudtranslate.captions import (
    PROFILES,
    FrameSink,
    HudEngine,
    HudFrame,
    PacingOptions,
    find_ffmpeg,
    get_profile,
    make_frame_sink,
    png_bytes,
    preview_image,
    render_frame,
)
from hudtranslate.captions import replay as replay_module
from hudtranslate.captions.frames import FAST_RUN_LATENCY_S
from hudtranslate.captions.replay import frame_durations_s, write_replay
from hudtranslate.config import DisplayOptions, Settings
from hudtranslate.errors import DataError, DependencyError
from hudtranslate.events import StreamEnd, Translation
from hudtranslate.testing import scripted_captions

SEGMENTS = [
    (0.5, 1.8, "鱼要做熟了再吃。", "Cook the fish thoroughly before eating."),
    (2.7, 5.9, "他很快便与小区里新来的男孩交上了朋友。",
     "He quickly made friends with the new boy on the block."),
    (7.0, 8.8, "她还没听到这个消息。", "She still hasn't heard this news."),
    (9.8, 13.0, "通常情况下，我们在这间房间睡觉。", "We usually sleep in this room."),
]


def state(profile_name: str, committed: str, tentative: str = "",
          source: str = "你好") -> HudFrame:
    engine = HudEngine(get_profile(profile_name), PacingOptions.unpaced())
    engine.update(Translation(1, source, committed, tentative, 0, 1, not tentative, 0), 0)
    return engine.frame(0)


def png_bit_depth(data: bytes) -> int:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    _width, _height, depth = struct.unpack(">IIB", data[16:25])
    return int(depth)


@pytest.mark.parametrize(("name", "mode"), [("rokid", "RGB"), ("even-g1", "1"),
                                            ("meta-display", "RGB")])
def test_frames_have_the_exact_device_size_and_mode(name: str, mode: str) -> None:
    frame = state(name, "Hello there, how are you?", "Fine thanks")
    image = render_frame(frame)
    assert image.size == (PROFILES[name].width_px, PROFILES[name].height_px)
    assert image.mode == mode
    assert image.getbbox() is not None  # something was drawn
    empty = render_frame(HudFrame(PROFILES[name]))
    assert empty.size == image.size and empty.getbbox() is None  # all black (transparent)


def test_rokid_frames_are_green_only_with_a_dimmer_tentative_tail() -> None:
    committed = np.asarray(render_frame(state("rokid", "Committed words", source="")))
    tentative = np.asarray(render_frame(state("rokid", "", "Tentative words", source="")))
    for pixels in (committed, tentative):
        assert pixels[..., 0].max() == 0 and pixels[..., 2].max() == 0
    assert committed[..., 1].max() == 255
    assert 0 < tentative[..., 1].max() <= get_profile("rokid").tentative_rgb[1]


def test_one_bit_frames_are_one_bit_and_dither_the_tentative_tail() -> None:
    frame = state("even-g1", "", "tentative only", source="")
    image = render_frame(frame)
    data = png_bytes(image)
    assert png_bit_depth(data) == 1
    lit = np.argwhere(np.asarray(image, dtype=bool))
    assert len(lit) > 50
    assert {int(y + x) % 2 for y, x in lit} == {0}  # a checkerboard: half the pixels
    solid = np.argwhere(np.asarray(render_frame(state("even-g1", "committed", source="")),
                                   dtype=bool))
    assert {int(y + x) % 2 for y, x in solid} == {0, 1}
    preview = np.asarray(preview_image(image, frame.profile))
    assert {tuple(p) for p in preview.reshape(-1, 3)} == {(0, 0, 0), (0, 255, 0)}


def test_meta_display_is_colour() -> None:
    pixels = np.asarray(render_frame(state("meta-display", "White text", "grey tail",
                                           source="中文")))
    colours = {tuple(p) for p in pixels.reshape(-1, 3)}
    assert (255, 255, 255) in colours
    assert any(r > 200 and b < 150 for r, g, b in colours)  # the amber Chinese line


def test_rendering_is_deterministic() -> None:
    frame = state("rokid", "Same text", "same tail")
    assert png_bytes(render_frame(frame)) == png_bytes(render_frame(frame))


def play(sink: FrameSink) -> None:
    for event in scripted_captions(SEGMENTS):
        sink.handle(event)
    sink.handle(StreamEnd(13.5))
    sink.close()


def test_frame_sink_writes_one_frame_per_change_and_an_index(tmp_path: Path) -> None:
    sink = FrameSink(get_profile("even-g1"), tmp_path / "frames")
    play(sink)
    frames = sink.frames_written
    assert len(frames) > 10
    assert frames[0].name == "frame_00001.png"
    index = [json.loads(line) for line in
             (tmp_path / "frames" / "frames.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [row["frame"] for row in index] == [f.name for f in frames]
    times = [row["t_s"] for row in index]
    assert times == sorted(times)
    previous = None
    for path in frames:
        with Image.open(path) as image:
            assert image.mode == "1" and image.size == (576, 136)
            data = image.tobytes()
        assert data != previous  # a frame per change, never a repeat
        previous = data
    assert any("We usually sleep in this room." in row["english"] for row in index)
    sink.close()  # twice is fine


def test_frame_sink_replay_as_animated_png_keeps_real_time(tmp_path: Path) -> None:
    sink = FrameSink(get_profile("rokid"), None, tmp_path / "replay.png")
    play(sink)
    assert sink.video_written == tmp_path / "replay.png"
    with Image.open(tmp_path / "replay.png") as image:
        assert image.size == (480, 640)
        assert getattr(image, "n_frames", 1) > 10
        total_ms = 0
        for index in range(image.n_frames):
            image.seek(index)
            total_ms += image.info["duration"]
    assert 13_500 <= total_ms <= 13_500 + 8_000  # the session, then the last caption read


def test_video_falls_back_to_animated_png_without_ffmpeg(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(replay_module, "find_ffmpeg", lambda: None)
    image = Image.new("RGB", (32, 32))
    written = write_replay([(0.0, image), (1.0, image)], 2.0, tmp_path / "out.mp4")
    assert written == tmp_path / "out.png" and written.exists()
    assert "no ffmpeg" in caplog.text


def test_gif_replay(tmp_path: Path) -> None:
    frames = [(0.0, Image.new("RGB", (40, 20), (0, 0, 0))),
              (0.5, Image.new("RGB", (40, 20), (0, 255, 0)))]
    path = write_replay(frames, 1.5, tmp_path / "out.gif")
    with Image.open(path) as gif:
        assert gif.n_frames == 2


@pytest.mark.skipif(find_ffmpeg() is None, reason="no ffmpeg (apt install ffmpeg, or "
                                                   "pip install imageio-ffmpeg)")
def test_mp4_replay_with_ffmpeg(tmp_path: Path) -> None:
    sink = make_frame_sink(Settings(display=DisplayOptions(profile="meta-display")),
                           tmp_path / "frames", tmp_path / "replay.mp4", realtime=True)
    play(sink)
    assert sink.video_written == tmp_path / "replay.mp4"
    assert (tmp_path / "replay.mp4").stat().st_size > 1000
    assert sink.frames_written


def test_frame_durations_follow_event_times() -> None:
    assert frame_durations_s([0.0, 0.5, 2.0], 3.0) == pytest.approx([0.5, 1.5, 1.0])
    assert frame_durations_s([1.0], 0.5) == pytest.approx([0.001])
    assert frame_durations_s([], 1.0) == []


def test_bad_replay_names_and_empty_sinks() -> None:
    from hudtranslate.errors import ConfigError

    with pytest.raises(ConfigError):
        write_replay([(0.0, Image.new("RGB", (8, 8)))], 1.0, Path("out.avi"))
    with pytest.raises(ValueError):
        FrameSink(get_profile("rokid"))



def test_a_file_run_faster_than_real_time_is_replayed_at_speech_pace(tmp_path: Path) -> None:
    """In a fast run every event is stamped with the end of the audio; the replay places
    each at most ``FAST_RUN_LATENCY_S`` after the speech it covers instead."""
    events = [dataclasses.replace(e, emitted_s=14.0) for e in scripted_captions(SEGMENTS)]
    sink = make_frame_sink(Settings(), tmp_path, None, realtime=False)
    for event in events:
        sink.handle(event)
    sink.handle(StreamEnd(14.0))
    sink.close()
    rows = [json.loads(line) for line in (tmp_path / "frames.jsonl").read_text("utf-8")
            .splitlines()]
    first_english = next(row["t_s"] for row in rows if row["english"])
    assert first_english <= SEGMENTS[0][1] + FAST_RUN_LATENCY_S
    assert len({row["t_s"] for row in rows}) > 5  # spread over the talk, not bunched at 14 s


def test_a_replay_the_disk_has_no_room_for_leaves_no_broken_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A disk that filled up while the replay was written left a cut-short replay.gif
    next to the error saying it could not be written."""
    save = Image.Image.save

    def full(image: Image.Image, fp: object, *args: object, **kwargs: object) -> None:
        if str(fp).endswith(".gif"):
            Path(str(fp)).write_bytes(b"GIF89a cut short")
            raise OSError(28, "No space left on device")
        save(image, fp, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Image.Image, "save", full)
    image = Image.new("RGB", (32, 32))
    with pytest.raises(DataError, match=r"cannot write the replay .*No space left"):
        write_replay([(0.0, image), (1.0, image)], 2.0, tmp_path / "replay.gif")
    assert list(tmp_path.iterdir()) == []  # nor the part written


def test_a_replay_encode_stopped_by_a_second_ctrl_c_leaves_no_broken_video(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``hudtranslate file --video``: the first Ctrl-C ends the run and the replay is
    encoded; a second one during the encode left a cut-short replay.mp4 (48 bytes, or a
    video that stops partway) where the replay was asked for. The subtitles are written
    after it either way (measured, thirty-seventh session)."""
    def stopped(command: list[str], **kwargs: object) -> None:
        Path(command[-1]).write_bytes(b"\x00\x00\x00\x18ftypisom cut short")
        raise KeyboardInterrupt

    monkeypatch.setattr(replay_module, "find_ffmpeg", lambda: "ffmpeg")
    monkeypatch.setattr(replay_module.subprocess, "run", stopped)
    image = Image.new("RGB", (32, 32))
    with pytest.raises(KeyboardInterrupt):
        write_replay([(0.0, image), (1.0, image)], 2.0, tmp_path / "replay.mp4")
    assert list(tmp_path.iterdir()) == []

    def failed(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        Path(command[-1]).write_bytes(b"cut short")
        return subprocess.CompletedProcess(command, 1, "", "Error writing trailer: No space")

    monkeypatch.setattr(replay_module.subprocess, "run", failed)
    with pytest.raises(DependencyError, match=r"could not write \S*/replay\.mp4: .*No space"):
        write_replay([(0.0, image), (1.0, image)], 2.0, tmp_path / "replay.mp4")
    assert list(tmp_path.iterdir()) == []  # the user's name in the error, no file left


def test_a_long_ffmpeg_error_keeps_its_end_in_whole_words() -> None:
    from hudtranslate.captions.replay import _last_words

    message = "frame= 1 " * 80 + "\n[out] Error writing trailer: No space left on device\n"
    detail = _last_words(message)
    assert detail.endswith("No space left on device")
    assert detail.startswith("… ") and len(detail) <= 402
    assert _last_words("Unknown encoder 'libx264'") == "Unknown encoder 'libx264'"
