"""Exceptions hudtranslate raises on purpose; anything else is a bug.

::

    HudTranslateError          base: the CLI prints its message as one line and exits 1
    ├── ConfigError            a bad option value, config file or environment variable
    ├── AudioError             no microphone, unreadable/empty/non-audio file
    ├── ImageError             not an image, truncated, too large, no camera
    ├── ModelError             a model is missing, partial or corrupt (message names the fix)
    │   └── ModelFetchError    downloading or assembling a model failed
    ├── DependencyError        an optional package is not installed (message names it)
    ├── BackendError           a translation backend failed (remote HTTP, timeout, ...)
    │   └── RejectedAnswerError   the remote answered, but not with a usable translation
    └── DataError              a manifest or reference file is malformed (names file and line)
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


class HudTranslateError(Exception):
    """Base class: an expected failure with a message meant for the user."""


class ConfigError(HudTranslateError):
    """An option, config file or environment variable has a bad value."""


def one_line(exc: BaseException) -> str:
    """A library's error as one line for a user: its ``strerror`` when it has one (an
    OSError's, without the path and errno PyAV and the os module put around it), else its
    text, whitespace collapsed; its type's name when both are empty."""
    message = getattr(exc, "strerror", None) or str(exc)
    return " ".join(str(message).split()) or type(exc).__name__


def check_range(name: str, value: float, low: float, high: float) -> None:
    """Raises ``ConfigError`` naming the setting unless ``low <= value <= high``."""
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value!r}")


def check_folder(name: str, folder: os.PathLike[str] | str) -> None:
    """Raises ``ConfigError`` naming the option when ``folder`` cannot be a folder: it is
    a file, or the nearest part of its path that exists is one (checked before any model
    loads, so a typo does not end a long run with a traceback)."""
    path = Path(folder).absolute()
    existing = next((part for part in (path, *path.parents) if part.exists()), None)
    if existing is not None and not existing.is_dir():
        where = "is a file" if existing == path else f"is under {existing}, which is a file"
        raise ConfigError(f"{name} {folder} {where}, not a folder")


def ensure_writable_folder(name: str, folder: os.PathLike[str] | str, *,
                           create: bool = True) -> None:
    """Create ``folder`` (with its parents) and check a file can be written there, before
    a long run rather than after it; raises ``ConfigError`` naming the option otherwise (a
    file in its path, no permission, a read-only file system). With ``create=False`` a
    folder that does not exist yet is not made, its nearest existing parent is checked
    instead: for a command that may still fail before it writes anything (no microphone,
    a missing model), which then leaves no empty folder behind; it calls this again with
    ``create=True`` when it starts writing."""
    check_folder(name, folder)
    path = Path(folder)
    where = path if create or path.is_dir() else next(
        part for part in path.absolute().parents if part.exists())
    try:
        if create:
            path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=where, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise ConfigError(f"{name} {folder}: cannot write there: "
                          f"{one_line(exc)}") from None


class AudioError(HudTranslateError):
    """Audio could not be read: no device, unreadable, empty or not audio."""


class ImageError(HudTranslateError):
    """An image or camera frame could not be read: not an image, truncated, too large,
    or no camera."""


class ModelError(HudTranslateError):
    """A model is missing, partial or corrupt; the message names the command that fixes it."""


class ModelFetchError(ModelError):
    """Downloading or assembling a model failed."""


class DependencyError(HudTranslateError):
    """An optional dependency is missing; the message names the package to install."""


class BackendError(HudTranslateError):
    """A translation backend failed to answer."""


class RejectedAnswerError(BackendError):
    """A remote model answered, but nothing of it can be shown: the stream ended without
    its end marker ("unfinished") or at the token limit ("cut"), or the answer was empty
    ("empty"), chatter with no clear translation ("chatter") or far longer than the
    source allows ("too_long"). ``reason`` is that word, for logs and metrics; the
    sentence is translated locally, and the remote stays in use (it did answer)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"remote answer rejected ({reason})" + (f": {detail}" if detail else ""))
        self.reason = reason


class DataError(HudTranslateError):
    """An evaluation manifest or reference file is malformed; names the file and line."""
