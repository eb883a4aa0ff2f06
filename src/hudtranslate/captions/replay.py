"""A replay of the HUD at real time: a video where ffmpeg exists, else animated PNG/GIF.

Each frame is shown from its own time to the next frame's time, so the replay keeps the
session's real pace. ffmpeg comes from ``PATH`` (Debian's ``ffmpeg``) or the
``imageio-ffmpeg`` package; without either, a video name falls back to an animated PNG
next to it (Pillow writes APNG and GIF itself), with a warning.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from PIL import Image

from hudtranslate.errors import (
    ConfigError,
    DataError,
    DependencyError,
    ensure_writable_folder,
    one_line,
)

log = logging.getLogger(__name__)

VIDEO_CODECS = {
    ".mp4": ["-c:v", "libx264", "-preset", "veryfast", "-crf", "16", "-pix_fmt", "yuv420p",
             "-movflags", "+faststart"],
    ".mkv": ["-c:v", "libx264", "-preset", "veryfast", "-crf", "16", "-pix_fmt", "yuv420p"],
    ".mov": ["-c:v", "libx264", "-preset", "veryfast", "-crf", "16", "-pix_fmt", "yuv420p"],
    ".webm": ["-c:v", "libvpx-vp9", "-b:v", "0", "-crf", "30", "-pix_fmt", "yuv420p"],
}
ANIMATION_SUFFIXES = (".png", ".apng", ".gif")
VIDEO_FPS = 25
_ENCODE_TIMEOUT_S = 600


def find_ffmpeg() -> str | None:
    """An ffmpeg executable: the one on PATH, else imageio-ffmpeg's bundled binary."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    try:
        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except RuntimeError:
        return None


def frame_durations_s(times_s: Sequence[float], end_s: float) -> list[float]:
    """How long each frame stays up: until the next one, the last until ``end_s``."""
    ends = [*times_s[1:], max(end_s, times_s[-1])] if times_s else []
    return [max(0.001, end - start) for start, end in zip(times_s, ends, strict=True)]


def check_replay_path(path: Path) -> None:
    """Raises ``ConfigError`` unless ``path`` names a replay format this module writes and
    a file that can be created there (checked before a run, not after it)."""
    if path.suffix.lower() not in VIDEO_CODECS and path.suffix.lower() not in ANIMATION_SUFFIXES:
        known = ", ".join([*VIDEO_CODECS, *ANIMATION_SUFFIXES])
        raise ConfigError(f"cannot write a replay as {path.name}: use one of {known}")
    if path.is_dir():
        raise ConfigError(f"--video {path} is a folder: name the replay file")
    ensure_writable_folder("--video's folder", path.parent, create=False)  # made when
    # written: a run that fails before then leaves no empty folder


def write_replay(frames: Sequence[tuple[float, Image.Image]], end_s: float,
                 path: Path) -> Path:
    """Write ``(time_s, image)`` frames to ``path``; returns the file actually written."""
    if not frames:
        raise ValueError("a replay needs at least one frame")
    check_replay_path(path)
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    durations = frame_durations_s([t for t, _ in frames], end_s)
    images = [image for _, image in frames]
    if suffix in VIDEO_CODECS:
        ffmpeg = find_ffmpeg()
        if ffmpeg is not None:
            with _whole_or_nothing(path) as partial:
                _write_video(ffmpeg, images, durations, partial, named=path)
            return path
        fallback = path.with_suffix(".png")
        log.warning("no ffmpeg found (apt install ffmpeg, or pip install imageio-ffmpeg): "
                    "writing an animated PNG, %s, instead of %s", fallback, path)
        path, suffix = fallback, ".png"
    try:
        with _whole_or_nothing(path) as partial:
            _write_animation(images, durations, partial, suffix)
    except OSError as exc:  # a full disk: no cut-short replay left behind
        raise DataError(f"cannot write the replay {path}: {one_line(exc)}") from None
    return path


@contextlib.contextmanager
def _whole_or_nothing(path: Path) -> Iterator[Path]:
    """A hidden file beside ``path`` (same suffix, so ffmpeg and Pillow pick the format)
    that becomes ``path`` once written whole; anything that stops the writing (an error,
    a full disk, a second Ctrl-C) removes it, so no cut-short replay is left at ``path``."""
    partial = path.with_name(f".{path.stem}.partial{path.suffix}")
    try:
        yield partial
        partial.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise


def _write_animation(images: list[Image.Image], durations: list[float], path: Path,
                     suffix: str) -> None:
    milliseconds = [max(1, round(d * 1000)) for d in durations]
    if suffix == ".gif":
        milliseconds = [max(20, ms) for ms in milliseconds]  # browsers round smaller up
    first, *rest = images
    first.save(path, format="GIF" if suffix == ".gif" else "PNG", save_all=True,
               append_images=rest, duration=milliseconds, loop=0)


def _write_video(ffmpeg: str, images: list[Image.Image], durations: list[float],
                 path: Path, *, named: Path) -> None:
    """Encode to ``path``; errors name ``named``, the replay the user asked for."""
    with tempfile.TemporaryDirectory(prefix="hudtranslate-replay-") as tmp:
        folder = Path(tmp)
        lines = ["ffconcat version 1.0"]
        for index, (image, duration) in enumerate(zip(images, durations, strict=True)):
            name = f"{index:06d}.png"
            image.save(folder / name, compress_level=1)
            lines += [f"file {name}", f"duration {duration:.6f}"]
        lines.append(f"file {len(images) - 1:06d}.png")  # concat ignores the last duration
        (folder / "frames.ffconcat").write_text("\n".join(lines) + "\n", encoding="utf-8")
        command = [
            ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
            "-f", "concat", "-safe", "0", "-i", str(folder / "frames.ffconcat"),
            "-vf", f"fps={VIDEO_FPS},pad=ceil(iw/2)*2:ceil(ih/2)*2",
            *VIDEO_CODECS[path.suffix.lower()], str(path),
        ]
        try:
            result = subprocess.run(command, capture_output=True, text=True,
                                    timeout=_ENCODE_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DependencyError(f"ffmpeg could not write {named}: {exc}") from None
        if result.returncode != 0:
            raise DependencyError(
                f"ffmpeg could not write {named}: {_last_words(result.stderr)}")


def _last_words(text: str, limit: int = 400) -> str:
    """The end of a tool's message (where its error is), whitespace collapsed, at most
    ``limit`` characters, starting at a whole word (it had begun "ft on device …")."""
    words = " ".join(text.split())
    if len(words) <= limit:
        return words
    tail = words[-limit:]
    return "…" + tail[tail.find(" "):] if " " in tail else "…" + tail
