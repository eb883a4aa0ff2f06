"""Frame sources and the grab policy, without a camera: photo folders, a video written
here with OpenCV, a fake capture device for the camera's reader thread, and table tests
of when a frame is read."""

from __future__ import annotations

import io
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from tests.conftest import forbid_look_models

from hudtranslate.config import VisionOptions
from hudtranslate.errors import ImageError
from hudtranslate.vision.camera import (
    CameraSource,
    EnterKey,
    Frame,
    FrameSource,
    GrabOptions,
    GrabPolicy,
    ImageFolderSource,
    VideoFileSource,
    mean_difference,
    open_source,
    run_camera,
    thumbnail,
)
from hudtranslate.vision.scene import SceneText

cv2 = pytest.importorskip("cv2")

pytestmark = pytest.mark.timeout(60)


def pattern(seed: int, size: tuple[int, int] = (160, 120)) -> Image.Image:
    """A picture of coarse random blocks: each seed a clearly different view."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 256, size=(size[1] // 20, size[0] // 20, 3), dtype=np.uint8)
    return Image.fromarray(blocks).resize(size, Image.Resampling.NEAREST)


def grey(level: float) -> np.ndarray[Any, Any]:
    return np.full((48, 64), level, dtype=np.float32)


class FakeLooker:
    """Records the frames it is asked to read; answers an empty scene."""

    def __init__(self) -> None:
        self.options = VisionOptions()
        self.seen: list[tuple[Image.Image, str]] = []

    def look(self, image: Image.Image, source: str = "", **_: Any) -> SceneText:
        self.seen.append((image, source))
        return SceneText(source, image.width, image.height, ())


def run(source: FrameSource, options: GrabOptions | None = None) -> tuple[FakeLooker,
                                                                          list[SceneText]]:
    looker, shown = FakeLooker(), []
    status = run_camera("unused", looker, shown.append,  # type: ignore[arg-type]
                        options=options, enter=False, source=source)
    assert status == 0
    return looker, shown


# --- the grab policy, table-driven ------------------------------------------------------

# Each row: (grey level of the frame's thumbnail, time in s); grabbed: frame indexes read.
STEADY_CASES = {
    "moving, then held 0.65 s": (
        [(0, 0.0), (50, 0.1), (100, 0.2), (100, 0.3), (101, 0.4), (100, 0.5), (100, 0.6),
         (101, 0.7), (100, 0.8), (100, 0.9), (100, 1.0)],
        [9]),
    "held too briefly, then moved": (
        [(0, 0.0), (100, 0.1), (100, 0.3), (100, 0.5), (160, 0.6), (220, 0.7)],
        []),
    "same view held on after the read is read once": (
        [(100, t / 10) for t in range(30)],
        [7]),
    "a new view held steady is read again": (
        [(100, t / 10) for t in range(10)] + [(200, 1.0 + t / 10) for t in range(10)],
        [7, 17]),
    "a small drift is not a new view": (
        [(100 + t * 0.2, t / 10) for t in range(30)],
        [7]),
    "noise under the steady threshold still counts as steady": (
        [(100 + (3 if t % 2 else 0), t / 10) for t in range(10)],
        [7]),
    "a slow source needs steady_frames frames, not just time": (
        [(100, 0.0), (100, 2.0), (100, 4.0)],
        [2]),
}


@pytest.mark.parametrize("name", sorted(STEADY_CASES))
def test_grab_policy_reads_steady_new_views(name: str) -> None:
    frames, expected = STEADY_CASES[name]
    policy = GrabPolicy(GrabOptions(steady_diff=4.0, steady_s=0.65, steady_frames=3,
                                    new_view_diff=10.0))
    grabbed = [index for index, (level, time_s) in enumerate(frames)
               if policy.update(grey(level), time_s)]
    assert grabbed == expected


def test_enter_reads_at_once_even_while_moving_and_the_same_view() -> None:
    policy = GrabPolicy()
    assert policy.update(grey(0), 0.0, requested=True)
    assert not policy.update(grey(80), 0.1)
    assert policy.update(grey(160), 0.2, requested=True)
    assert policy.update(grey(160), 0.3, requested=True)  # asked twice: read twice


def test_stills_are_read_unless_they_repeat_the_last_one() -> None:
    policy = GrabPolicy()
    levels = [10, 10, 200, 10, 12]
    assert [policy.update(grey(level), index, still=True)
            for index, level in enumerate(levels)] == [True, False, True, True, False]


def test_thumbnail_and_difference() -> None:
    image = pattern(1, (640, 480))
    small = thumbnail(image, 64)
    assert small.shape == (48, 64)
    assert mean_difference(small, thumbnail(image, 64)) == 0.0
    assert mean_difference(small, thumbnail(pattern(2, (640, 480)), 64)) > 30
    assert mean_difference(small, thumbnail(image, 32)) == float("inf")
    with pytest.raises(ValueError):
        GrabOptions(steady_frames=0)


# --- sources ------------------------------------------------------------------------------

def test_folder_source_reads_each_new_photo_in_name_order(tmp_path: Path) -> None:
    for name, seed in (("b.png", 2), ("a.jpg", 1), ("c.png", 2), ("d.webp", 3)):
        pattern(seed).save(tmp_path / name, quality=95)
    (tmp_path / "notes.txt").write_text("not a photo", encoding="utf-8")
    looker, shown = run(open_source(str(tmp_path)))
    # c.png repeats b.png: read once
    assert [Path(source).name for _, source in looker.seen] == ["a.jpg", "b.png", "d.webp"]
    assert [scene.source for scene in shown] == [source for _, source in looker.seen]
    assert looker.seen[0][0].mode == "RGB"


def test_iphone_and_avif_photos_in_a_folder_are_read(tmp_path: Path) -> None:
    pytest.importorskip("pi_heif")
    shutil.copy(Path(__file__).parent / "data" / "sign-no-smoking.heic", tmp_path / "a.heic")
    pattern(2).save(tmp_path / "b.avif")
    looker, _ = run(open_source(str(tmp_path)))
    assert [(Path(source).name, image.size[0] > 0) for image, source in looker.seen] == [
        ("a.heic", True), ("b.avif", True)]


def test_an_unreadable_photo_in_a_folder_is_skipped_not_the_end(tmp_path: Path) -> None:
    pattern(1).save(tmp_path / "a.png")
    (tmp_path / "b.jpg").write_text("not a photo", encoding="utf-8")
    pattern(2).save(tmp_path / "c.png")
    looker, shown = FakeLooker(), []
    source = open_source(str(tmp_path))
    status = run_camera("unused", looker, shown.append,  # type: ignore[arg-type]
                        enter=False, source=source)
    assert [Path(scene.source).name for scene in shown] == ["a.png", "c.png"]
    assert status == 1  # the user learns a photo was not read
    assert [path.name for path in source.skipped] == ["b.jpg"]


def test_folder_as_a_frame_sequence_applies_the_steady_rule(tmp_path: Path) -> None:
    paths = []
    for index, seed in enumerate([1, 2, 3, 4, 4, 4, 4, 4, 4, 4, 4]):
        path = tmp_path / f"frame{index:03d}.png"
        pattern(seed).save(path)
        paths.append(path)
    looker, _ = run(ImageFolderSource(paths, fps=10.0))
    assert [Path(source).name for _, source in looker.seen] == ["frame010.png"]


def test_folder_without_photos_and_missing_paths_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="no images"):
        open_source(str(tmp_path))
    with pytest.raises(ImageError, match="no such camera, video or folder"):
        open_source(str(tmp_path / "missing.mp4"))


def test_one_unreadable_photo_or_a_folder_of_them_fails_at_once(tmp_path: Path) -> None:
    notes = tmp_path / "notes.jpg"
    notes.write_text("not a photo", encoding="utf-8")
    with pytest.raises(ImageError, match=r"notes\.jpg: not an image"):
        open_source(str(notes))
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageError, match="none of its 2 photos can be read"):
        open_source(str(tmp_path))


def test_look_camera_on_an_unreadable_photo_fails_before_loading_models(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from hudtranslate.cli import main

    forbid_look_models(monkeypatch, "the models were loaded for a photo that cannot be read")
    notes = tmp_path / "notes.jpg"
    notes.write_text("not a photo", encoding="utf-8")
    assert main(["look", "--camera", str(notes)]) == 1
    err = capsys.readouterr().err
    assert "notes.jpg: not an image" in err and len(err.strip().splitlines()) == 1


def write_video(path: Path, seeds: list[int], fps: float = 10.0) -> None:
    fourcc = "MJPG" if path.suffix == ".avi" else "mp4v"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (160, 120))
    assert writer.isOpened(), f"OpenCV cannot write {path.suffix}"
    for seed in seeds:
        writer.write(np.asarray(pattern(seed))[:, :, ::-1].copy())
    writer.release()


@pytest.mark.parametrize("suffix", [".avi", ".mp4"])
def test_video_source_reads_each_steady_view_once(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"walk{suffix}"
    moving = list(range(100, 105))
    write_video(path, moving + [7] * 10 + list(range(200, 203)) + [8] * 10 + [8] * 5)
    frames = list(VideoFileSource(path))
    assert len(frames) == 33
    assert [round(frame.time_s, 3) for frame in frames[:3]] == [0.0, 0.1, 0.2]
    looker, shown = run(VideoFileSource(path))
    assert len(shown) == 2
    for (image, source), seed in zip(looker.seen, (7, 8), strict=True):
        expected = thumbnail(pattern(seed))
        assert mean_difference(thumbnail(image), expected) < 6, source
        assert source.startswith("walk-") and source.endswith("ms")


def test_not_a_video_is_an_image_error(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"not a video at all" * 10)
    with pytest.raises(ImageError, match="not a video"):
        open_source(str(path))


def test_missing_camera_names_the_device_and_how_to_list_cameras() -> None:
    index = next(n for n in range(40, 100) if not Path(f"/dev/video{n}").exists())
    for device in (str(index), f"/dev/video{index}"):
        with pytest.raises(ImageError) as caught:
            open_source(device)
        message = str(caught.value)
        assert f"/dev/video{index}" in message and "v4l2-ctl --list-devices" in message
        assert "\n" not in message


class FakeCapture:
    """A ``cv2.VideoCapture`` stand-in: frames of the given seeds at ``fps``, then
    failing reads (an unplugged camera)."""

    def __init__(self, seeds: list[int], *, opened: bool = True, fps: float = 200.0) -> None:
        self.seeds, self.opened, self.fps = list(seeds), opened, fps
        self.released = False
        self.reads = 0
        self.asked: dict[int, float] = {}

    def isOpened(self) -> bool:  # OpenCV's name
        return self.opened

    def read(self) -> tuple[bool, Any]:
        time.sleep(1 / self.fps)
        self.reads += 1
        if not self.seeds:
            return False, None
        return True, np.asarray(pattern(self.seeds.pop(0)))[:, :, ::-1]

    def release(self) -> None:
        self.released = True

    def set(self, prop: int, value: float) -> bool:
        self.asked[prop] = value
        return True


def test_camera_that_cannot_open_is_an_image_error() -> None:
    capture = FakeCapture([], opened=False)
    with pytest.raises(ImageError, match=r"cannot open the camera /dev/video3.*v4l2-ctl"):
        CameraSource(3, open_capture=lambda device: capture)
    assert capture.released


def test_camera_yields_current_frames_and_fails_clearly_when_unplugged() -> None:
    capture = FakeCapture([1] * 5 + [2] * 200, fps=500.0)
    camera = CameraSource("/dev/video9", open_capture=lambda device: capture)
    seen: list[Frame] = []
    with pytest.raises(ImageError, match="stopped delivering frames"), camera:
        for frame in camera:
            seen.append(frame)
            time.sleep(0.05)  # a slow reader: the camera must not queue stale frames
    indexes = [frame.index for frame in seen]
    assert indexes == sorted(set(indexes))
    assert len(seen) < capture.reads / 3  # frames in between were dropped, not queued
    assert seen[-1].index >= 150
    assert capture.asked[cv2.CAP_PROP_FRAME_WIDTH] == 1920
    assert capture.asked[cv2.CAP_PROP_FRAME_HEIGHT] == 1080
    assert mean_difference(thumbnail(seen[-1].image), thumbnail(pattern(2))) < 1
    assert capture.released


def test_ctrl_c_ends_the_run_cleanly() -> None:
    closed = threading.Event()

    class Interrupted(FrameSource):
        name = "test"

        def __iter__(self) -> Iterator[Frame]:
            yield Frame(pattern(1), 0.0, 0, "one", still=True)
            raise KeyboardInterrupt

        def close(self) -> None:
            closed.set()

    _, shown = run(Interrupted())
    assert len(shown) == 1 and closed.is_set()


def test_enter_key_reads_lines_from_a_stream() -> None:
    read_fd, write_fd = os.pipe()
    with os.fdopen(read_fd, "r") as reader, os.fdopen(write_fd, "w") as writer:
        keys = EnterKey(reader)
        assert not keys.take()
        writer.write("\n")
        writer.flush()
        deadline = time.monotonic() + 5
        while not keys.take():
            assert time.monotonic() < deadline, "Enter was never seen"
            time.sleep(0.01)
        assert not keys.take()
    assert EnterKey(io.StringIO("")).take() is False


# --- the command ----------------------------------------------------------------------------

def test_look_camera_without_a_camera_fails_before_loading_models(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from hudtranslate.cli import main

    forbid_look_models(monkeypatch, "the models were loaded for a camera that is not there")
    index = next(n for n in range(40, 100) if not Path(f"/dev/video{n}").exists())
    assert main(["look", "--camera", str(index)]) == 1
    err = capsys.readouterr().err
    assert f"/dev/video{index}" in err and "v4l2-ctl" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("as_json", [False, True])
def test_look_camera_on_a_folder_shows_each_photo(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], as_json: bool) -> None:
    import json

    from hudtranslate.cli import main
    from hudtranslate.vision import commands
    from hudtranslate.vision.scene import Box, SceneBlock

    class Reading(FakeLooker):
        def look(self, image: Image.Image, source: str = "", **_: Any) -> SceneText:
            self.seen.append((image, source))
            block = SceneBlock("出口", f"Exit {len(self.seen)}", Box(1, 2, 3, 4), 0.9, "fake")
            return SceneText(source, image.width, image.height, (block,))

    monkeypatch.setattr(commands, "load_looker", lambda settings: Reading())
    for name, seed in (("one.png", 1), ("two.png", 2)):
        pattern(seed).save(tmp_path / name)
    assert main(["look", "--camera", str(tmp_path), *(["--json"] if as_json else [])]) == 0
    out = capsys.readouterr().out
    if as_json:
        scenes = [json.loads(line) for line in out.splitlines()]
        assert [scene["blocks"][0]["en"] for scene in scenes] == ["Exit 1", "Exit 2"]
    else:
        assert "one.png" in out and "Exit 1" in out and "Exit 2" in out and "出口" in out
