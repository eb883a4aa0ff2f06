"""Frames from a camera, a video file or a folder of photos, and when to read one.

Every source is a ``FrameSource``: an iterator of ``Frame`` (an upright RGB PIL image with
its time in seconds), closed with ``close()`` or ``with``. ``open_source`` picks one from
the ``--camera`` argument: a V4L2 camera (an index such as ``0`` or a ``/dev/videoN``
path), a video file, a folder of photos (sorted by name) or one photo.

A live camera delivers 30 frames a second and reading one takes seconds, so the camera
source keeps only the newest frame (a reader thread); a file or folder is read frame by
frame and nothing is skipped.

``GrabPolicy`` (pure, no camera) decides which frames to read: one where the view has
been steady for ``steady_s`` (the mean absolute difference between consecutive downscaled
greyscale frames stays under ``steady_diff``) and looks different from the last frame read
(``new_view_diff``), or any frame when the user pressed Enter. A photo of a folder is a
still: steady by definition, read unless it repeats the one before.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

import numpy as np
from PIL import Image

from hudtranslate.errors import DependencyError, ImageError
from hudtranslate.vision.images import check_image, load_image
from hudtranslate.vision.look import Looker
from hudtranslate.vision.scene import SceneText

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".avif",
                            ".bmp", ".gif", ".tif", ".tiff"})
LIST_CAMERAS = "list cameras with `v4l2-ctl --list-devices` (v4l-utils) or `ls /dev/video*`"
_CAMERA_FAILURES = 30
"""Failed reads in a row after which a camera counts as gone (unplugged)."""
_CAMERA_WAIT_S = 5.0
"""How long to wait for a camera's next frame before giving up on it."""
CAMERA_SIZE_PX = (1920, 1080)
"""The frame size asked of a camera (it picks the nearest it has): webcams start at
640×480, too coarse for a menu's small print."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One picture: ``time_s`` from the start of the source (camera: wall clock; video:
    its position; folder: the file's place), ``name`` to label what is read from it,
    ``still`` for a photo of its own (a folder's file) rather than one of a stream."""

    image: Image.Image
    time_s: float
    index: int
    name: str
    still: bool = False


class FrameSource:
    """Base of the sources: iterate for frames, then ``close()`` (or use ``with``).
    ``skipped``: files the source could not read and went past (a folder of photos)."""

    name = "frames"
    skipped: Sequence[Path] = ()

    def __iter__(self) -> Iterator[Frame]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the device or file; iterating again afterwards yields nothing."""

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def _cv2() -> Any:
    try:
        import cv2
    except ImportError as exc:  # pragma: no cover - comes with rapidocr
        raise DependencyError(f"OpenCV is not installed ({exc}): pip install "
                              "opencv-python-headless") from None
    return cv2


def _rgb(pixels: Any) -> Image.Image:
    """An OpenCV BGR (or grey) array as an RGB image."""
    array = np.asarray(pixels)
    if array.ndim == 2:
        return Image.fromarray(array).convert("RGB")
    return Image.fromarray(np.ascontiguousarray(array[:, :, 2::-1]))


def _stem(label: str) -> str:
    return Path(label).stem.replace(".", "-") or "frame"


class ImageFolderSource(FrameSource):
    """Photos read one by one: ``paths`` (or every image in a folder, sorted by name).

    With ``fps`` the files are frames of a sequence at that rate (not stills), so the
    steady rule applies to them as to a video. A file that is not a readable image is
    skipped with a warning (and counted in ``skipped``): one bad photo in a folder does not
    hide the ones after it. When not one of them can be read (their headers are checked
    here, up to the first good one), ``ImageError`` says so at once, before ``look`` loads
    its models for nothing.
    """

    def __init__(self, paths: Path | Sequence[Path], *, fps: float | None = None,
                 max_megapixels: float = 50.0) -> None:
        if isinstance(paths, Path):
            self.name = str(paths)
            files = sorted(p for p in paths.iterdir()
                           if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if not files:
                raise ImageError(f"{paths}: no images in this folder "
                                 "(JPEG, PNG, WebP, HEIC or AVIF)")
        else:
            files = list(paths)
            self.name = str(files[0]) if files else "no images"
        _check_any_readable(files, self.name, max_megapixels)
        self.paths = files
        self.fps = fps
        self.max_megapixels = max_megapixels
        self.skipped: list[Path] = []
        self._closed = False

    def __iter__(self) -> Iterator[Frame]:
        for index, path in enumerate(self.paths):
            if self._closed:
                return
            try:
                image = load_image(path, max_megapixels=self.max_megapixels)
            except ImageError as exc:
                log.warning("skipped: %s", exc)
                self.skipped.append(path)
                continue
            time_s = index / self.fps if self.fps else float(index)
            yield Frame(image, time_s, index, str(path), still=self.fps is None)

    def close(self) -> None:
        self._closed = True


def _check_any_readable(paths: Sequence[Path], name: str, max_megapixels: float) -> None:
    """Raise ``ImageError`` unless one of ``paths`` is a readable image: the one photo's
    own error, or the first of a folder's."""
    first: ImageError | None = None
    for path in paths:
        try:
            check_image(path, max_megapixels=max_megapixels)
            return
        except ImageError as exc:
            first = first or exc
    if first is not None and len(paths) == 1:
        raise first
    if first is not None:
        raise ImageError(f"{name}: none of its {len(paths)} photos can be read ({first})")


class VideoFileSource(FrameSource):
    """Every frame of a video file OpenCV can read (MP4, AVI, MKV…), with its position."""

    def __init__(self, path: Path) -> None:
        self.name = str(path)
        self.path = path
        cv2 = _cv2()
        self._capture = cv2.VideoCapture(str(path))
        if not self._capture.isOpened():
            raise ImageError(f"{path}: not a video OpenCV can read")
        self._fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)

    def __iter__(self) -> Iterator[Frame]:
        cv2 = _cv2()
        index = 0
        while self._capture.isOpened():
            ok, pixels = self._capture.read()
            if not ok:
                return
            position_ms = float(self._capture.get(cv2.CAP_PROP_POS_MSEC) or 0.0)
            time_s = (position_ms / 1000 if position_ms > 0
                      else index / self._fps if self._fps > 0 else float(index))
            yield Frame(_rgb(pixels), time_s, index,
                        f"{_stem(self.name)}-{round(time_s * 1000):07d}ms")
            index += 1

    def close(self) -> None:
        self._capture.release()


class CameraSource(FrameSource):
    """A live camera through OpenCV; iterating yields the newest frame each time.

    A reader thread keeps taking frames so the camera's buffer never holds stale ones (a
    frame read after a look of several seconds is a current one). ``size_px`` is asked
    of the camera (MJPEG, so USB 2 cameras can deliver it). ``open_capture`` makes the
    ``cv2.VideoCapture``-like object (tests pass a fake). Raises ``ImageError`` when the
    camera cannot be opened; iteration raises it when the camera stops delivering.
    """

    def __init__(self, device: int | str, *,
                 size_px: tuple[int, int] | None = CAMERA_SIZE_PX,
                 open_capture: Callable[[int | str], Any] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.device = device
        self.name = f"/dev/video{device}" if isinstance(device, int) else device
        self._clock = clock
        if open_capture is None:
            cv2 = _cv2()

            def open_capture(target: int | str) -> Any:
                return cv2.VideoCapture(target)

        self._capture = open_capture(device)
        if not self._capture.isOpened():
            self._capture.release()
            raise ImageError(f"cannot open the camera {self.name}: {LIST_CAMERAS}")
        if size_px is not None:
            self._ask_size(size_px)
        self._changed = threading.Condition()
        self._latest: Any = None
        self._latest_index = -1
        self._failure = ""
        self._stopping = False
        self._started = clock()
        self._reader = threading.Thread(target=self._read_loop, name="camera", daemon=True)
        self._reader.start()

    def _ask_size(self, size_px: tuple[int, int]) -> None:
        """Ask for ``size_px`` in MJPEG; a camera without it keeps its own (no error)."""
        cv2 = _cv2()
        self._capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*"MJPG"))
        self._capture.set(cv2.CAP_PROP_FRAME_WIDTH, size_px[0])
        self._capture.set(cv2.CAP_PROP_FRAME_HEIGHT, size_px[1])
        self._capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)

    def _read_loop(self) -> None:
        failures = 0
        index = 0
        while not self._stopping:
            ok, pixels = self._capture.read()
            with self._changed:
                if ok and pixels is not None:
                    failures = 0
                    self._latest = (pixels, self._clock() - self._started, index)
                    self._latest_index = index
                    index += 1
                else:
                    failures += 1
                    if failures >= _CAMERA_FAILURES:
                        self._failure = f"the camera {self.name} stopped delivering frames"
                        self._stopping = True
                self._changed.notify_all()
            if not ok:
                time.sleep(0.01)

    def __iter__(self) -> Iterator[Frame]:
        seen = -1

        def fresh() -> bool:
            return self._latest_index > seen or self._stopping

        while True:
            with self._changed:
                ready = self._changed.wait_for(fresh, _CAMERA_WAIT_S)
                if self._failure:
                    raise ImageError(f"{self._failure}: {LIST_CAMERAS}")
                if self._stopping:
                    return
                if not ready:
                    raise ImageError(f"no frame from the camera {self.name} in "
                                     f"{_CAMERA_WAIT_S:g} s: {LIST_CAMERAS}")
                pixels, time_s, seen = self._latest
            yield Frame(_rgb(pixels), time_s, seen,
                        f"{_stem(self.name)}-{round(time_s * 1000):07d}ms")

    def close(self) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        self._reader.join(timeout=2.0)
        if self._reader.is_alive():  # a read still blocks: releasing under it could crash
            log.warning("the camera %s did not stop reading; leaving it open", self.name)
        else:
            self._capture.release()


def open_source(device: str, *, max_megapixels: float = 50.0) -> FrameSource:
    """The source ``device`` names: a camera index (``0``), a ``/dev/videoN`` path, a
    folder of photos, one photo, or a video file. ``ImageError`` (one line naming the
    device and how to list cameras) when there is no such camera or file."""
    text = device.strip()
    if not text:  # Path("") is the current folder: a shell variable left empty, not a choice
        raise ImageError(f"no camera given (--camera \"\"): name one, e.g. --camera 0; "
                         f"{LIST_CAMERAS}")
    if text.isdigit() or text.startswith("/dev/"):
        node = Path(f"/dev/video{text}") if text.isdigit() else Path(text)
        if sys.platform.startswith("linux") and not node.exists():
            raise ImageError(f"no camera {node}: {LIST_CAMERAS}")
        return CameraSource(int(text) if text.isdigit() else text)
    path = Path(text).expanduser()
    if path.is_dir():
        return ImageFolderSource(path, max_megapixels=max_megapixels)
    if not path.exists():
        raise ImageError(f"{device}: no such camera, video or folder "
                         f"(a camera is an index like 0 or /dev/video0; {LIST_CAMERAS})")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return ImageFolderSource([path], max_megapixels=max_megapixels)
    return VideoFileSource(path)


# --- when to read a frame ---------------------------------------------------------------


@dataclass(frozen=True)
class GrabOptions:
    """When a camera frame is read (units in the names; differences are mean absolute
    grey levels, 0–255, between ``thumbnail_px`` thumbnails).

    ``steady_diff``: consecutive frames closer than this are the same view held still
    (sensor noise and a steady hand stay under ~3). ``steady_s`` and ``steady_frames``: how
    long, and over at least how many frames, the view must stay still. ``new_view_diff``:
    how far from the last frame read a view must be to be read again (the same sign seen
    twice is read once).
    """

    steady_diff: float = 4.0
    steady_s: float = 0.7
    steady_frames: int = 3
    new_view_diff: float = 10.0
    thumbnail_px: int = 64

    def __post_init__(self) -> None:
        if self.steady_diff <= 0 or self.new_view_diff <= 0:
            raise ValueError("steady_diff and new_view_diff must be positive")
        if self.steady_s < 0 or self.steady_frames < 1 or self.thumbnail_px < 8:
            raise ValueError("steady_s >= 0, steady_frames >= 1, thumbnail_px >= 8")


def thumbnail(image: Image.Image, size_px: int = 64) -> np.ndarray[Any, np.dtype[np.float32]]:
    """``image`` as a small greyscale array (long side ``size_px``): cheap to compare, and
    blind to the sensor noise of single pixels."""
    grey = image.convert("L")
    factor = size_px / max(grey.size)
    size = (max(1, round(grey.width * factor)), max(1, round(grey.height * factor)))
    return np.asarray(grey.resize(size, Image.Resampling.BOX), dtype=np.float32)


def mean_difference(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> float:
    """Mean absolute difference of two thumbnails; infinite for different shapes (a
    camera that changed its resolution shows a new view)."""
    if a.shape != b.shape:
        return float("inf")
    return float(np.mean(np.abs(a.astype(np.float32) - b.astype(np.float32))))


class GrabPolicy:
    """Decides, frame by frame, which frames to read (see the module doc). Pure: feed it
    thumbnails and times; it keeps only the previous and the last grabbed thumbnail."""

    def __init__(self, options: GrabOptions | None = None) -> None:
        self.options = options or GrabOptions()
        self._previous: np.ndarray[Any, Any] | None = None
        self._grabbed: np.ndarray[Any, Any] | None = None
        self._previous_time = 0.0
        self._steady_since: float | None = None
        self._steady_frames = 0

    def update(self, thumb: np.ndarray[Any, Any], time_s: float, *, still: bool = False,
               requested: bool = False) -> bool:
        """Should the frame of ``thumb`` at ``time_s`` be read? ``requested``: the user
        asked (Enter); ``still``: a photo of its own, steady by definition."""
        options = self.options
        if (self._previous is not None
                and mean_difference(thumb, self._previous) < options.steady_diff):
            if self._steady_since is None:  # the still run began with the previous frame
                self._steady_since = self._previous_time
            self._steady_frames += 1
        else:
            self._steady_since = None
            self._steady_frames = 1
        self._previous, self._previous_time = thumb, time_s
        steady = still or (
            self._steady_since is not None and self._steady_frames >= options.steady_frames
            and time_s - self._steady_since >= options.steady_s)
        new_view = (self._grabbed is None
                    or mean_difference(thumb, self._grabbed) >= options.new_view_diff)
        if requested or (steady and new_view):
            self._grabbed = thumb
            return True
        return False


class EnterKey:
    """Reads lines from ``stream`` (stdin) in a daemon thread; ``take()`` says whether
    Enter was pressed since the last call. The thread ends at end of input."""

    def __init__(self, stream: TextIO) -> None:
        self._pressed = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(stream,), name="enter-key",
                                        daemon=True)
        self._thread.start()

    def _read(self, stream: TextIO) -> None:
        try:
            for _ in stream:
                self._pressed.set()
        except (OSError, ValueError):  # stdin closed under us: no more key presses
            log.debug("stdin closed")

    def take(self) -> bool:
        pressed = self._pressed.is_set()
        self._pressed.clear()
        return pressed


def run_camera(device: str, looker: Looker, show: Callable[[SceneText], None], *,
               options: GrabOptions | None = None, enter: bool | None = None,
               source: FrameSource | None = None,
               on_status: Callable[[str], None] | None = None) -> int:
    """Watch ``device`` (see ``open_source``), read and translate each grabbed frame with
    ``looker`` and pass the result to ``show``; returns 0 at the end of a file or folder
    source, or on Ctrl-C.

    ``enter``: also grab when a line arrives on stdin (default: when stdin is a terminal).
    ``source`` replaces ``device`` (tests, embedders). ``on_status`` gets one-line notices
    for the user. Raises ``ImageError`` when there is no such camera or file, or the camera
    stops delivering frames. Returns 1 when a folder source skipped unreadable images.
    """
    source = source if source is not None else open_source(
        device, max_megapixels=looker.options.max_megapixels)
    policy = GrabPolicy(options)
    terminal = sys.stdin is not None and sys.stdin.isatty()
    keys = EnterKey(sys.stdin) if (terminal if enter is None else enter) else None
    notice = on_status or (lambda text: log.info("%s", text))
    notice(f"watching {source.name}: hold the view steady to read it"
           + (", or press Enter" if keys is not None else "") + " (Ctrl-C stops)")
    grabbed = 0
    try:
        with source:
            for frame in source:
                requested = keys.take() if keys is not None else False
                if not policy.update(thumbnail(frame.image, policy.options.thumbnail_px),
                                     frame.time_s, still=frame.still, requested=requested):
                    continue
                grabbed += 1
                log.debug("grabbed frame %d of %s at %.2f s", frame.index, source.name,
                          frame.time_s)
                # a live frame of a scene without text is not turned: 3 more OCR passes
                show(looker.look(frame.image, frame.name, turn_when_empty=frame.still))
    except KeyboardInterrupt:
        notice("stopped")
    log.info("%s: %d frames read", source.name, grabbed)
    return 1 if source.skipped else 0
