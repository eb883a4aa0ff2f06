"""Crash-safe session store: nothing a user produced is ever lost.

Each final sentence is appended to a JSONL file as one line and flushed to disk (fsync) at
once, so a crash or SIGKILL loses at most the sentence still being spoken. A line torn by a
crash mid-write is skipped on reading and cut off when the file is appended to again.
Exports (SRT, WebVTT) are derived files, written to a temporary file and renamed into
place, so a reader never sees half of one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from rich.console import Console
from rich.markup import escape

from hudtranslate.errors import ConfigError, DataError, one_line
from hudtranslate.events import StreamEnd, Transcript, Translation
from hudtranslate.transcripts.export import Sentence, TranscriptRecord, to_srt, to_vtt

logger = logging.getLogger(__name__)


class TranscriptWriter:
    """Append final translations to ``path`` (JSONL), one fsync'd line each.

    Appending to an existing file continues its numbering. Usable as a sink (``update``)
    and as a context manager.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._last_index = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            created = not self.path.exists()
            if not created:
                self._last_index = max((r.index for r in read_transcript(self.path)), default=0)
                end_last_line(self.path, _is_record)
            self._file: BinaryIO | None = self.path.open("ab")
            if created:
                _fsync_dir(self.path.parent)
        except OSError as exc:
            raise DataError(f"cannot write transcript {self.path}: {one_line(exc)}") from exc

    @property
    def count(self) -> int:
        """Index of the last record in the file (records written, across sessions)."""
        return self._last_index

    def append(self, translation: Translation) -> TranscriptRecord:
        """Write one final translation and make it durable before returning."""
        if not translation.final:
            raise ValueError("only final translations are stored")
        if self._file is None:
            raise ValueError(f"transcript {self.path} is closed")
        record = TranscriptRecord.from_translation(translation, self._last_index + 1)
        line = (record.to_json() + "\n").encode("utf-8")
        try:
            self._file.write(line)
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError as exc:
            raise DataError(f"cannot write transcript {self.path}: {one_line(exc)}") from exc
        self._last_index = record.index
        return record

    def update(self, event: Transcript | Translation | StreamEnd) -> None:
        """Sink interface: store final translations, ignore everything else."""
        if isinstance(event, Translation) and event.final:
            self.append(event)

    def close(self) -> None:
        """Close the file; every line is already on disk. Safe to call twice. A line whose
        ``append`` failed (a full disk) is still in the buffer: closing does not raise its
        error again as a bare OSError over the DataError that named the transcript."""
        file, self._file = self._file, None
        if file is None:
            return
        try:
            file.close()
        except OSError as exc:  # flushing what append already reported; the fd is closed
            logger.debug("closing %s: %s", self.path, one_line(exc))

    def __enter__(self) -> TranscriptWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def read_transcript(path: str | os.PathLike[str]) -> list[TranscriptRecord]:
    """Read a session JSONL back into records.

    A bad last line is what a crash mid-write leaves, so it is skipped with a warning; a
    bad line anywhere else means the file is damaged, and raises DataError naming the line.
    """
    path = Path(path)
    try:
        lines = path.read_bytes().split(b"\n")  # decoded line by line: damage has a line
    except OSError as exc:
        raise DataError(f"cannot read transcript {path}: {one_line(exc)}") from exc
    last_number = max((n for n, line in enumerate(lines, 1) if line.strip()), default=0)
    records: list[TranscriptRecord] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            try:
                data = json.loads(line.decode("utf-8"))
            except UnicodeDecodeError:
                raise ValueError("not UTF-8 text (cut off or damaged)") from None
            except json.JSONDecodeError:
                raise ValueError("not a JSON line (cut off or damaged)") from None
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            records.append(TranscriptRecord.from_dict(data))
        except ValueError as exc:
            if number == last_number:
                logger.warning("skipping torn last line %d of %s: %s", number, path, exc)
                continue
            raise DataError(f"{path}:{number}: not a transcript record: {exc}") from None
    return records


def write_exports(
    records: Iterable[Sentence],
    out_dir: str | os.PathLike[str],
    stem: str,
    bilingual: bool = False,
) -> tuple[Path, Path]:
    """Write ``<stem>.srt`` and ``<stem>.vtt`` into ``out_dir``; return their paths."""
    sentences = list(records)
    directory = Path(out_dir)
    srt_path, vtt_path = directory / f"{stem}.srt", directory / f"{stem}.vtt"
    write_text_atomic(srt_path, to_srt(sentences, bilingual))
    write_text_atomic(vtt_path, to_vtt(sentences, bilingual))
    return srt_path, vtt_path


def export_transcript(path: Path, out_dir: str | os.PathLike[str], stem: str, *,
                      after_failure: bool) -> tuple[Path, Path] | None:
    """``write_exports`` of the transcript at ``path``; raises DataError when it fails,
    unless the run had already failed (``after_failure``: a full disk under the JSONL):
    then the run's own error is the one to report, and this one is a warning (None)."""
    try:
        return write_exports(read_transcript(path), out_dir, stem)
    except DataError as exc:
        if not after_failure:
            raise
        logger.warning("%s", exc)
        return None


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()
"""The process's umask, read once at import (reading it means setting it)."""


def write_text_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` all at once: temp file, fsync, rename."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(handle, "wb") as temp:
                temp.write(text.encode("utf-8"))
                temp.flush()
                os.fsync(temp.fileno())
            os.chmod(temp_name, 0o666 & ~_UMASK)  # mkstemp's 0600 is for secrets
            os.replace(temp_name, path)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        _fsync_dir(path.parent)
    except OSError as exc:
        raise DataError(f"cannot write {path}: {one_line(exc)}") from exc


def check_frames_folder(frames_dir: Path, *inputs: Path) -> None:
    """Raises ``ConfigError`` when ``frames_dir`` is or holds one of the ``inputs`` (files
    or a folder of photos) or the current folder: a run moves an earlier frames folder
    aside whole (``keep_previous``), which would move the recordings or photos and
    whatever lies beside them (``--frames .`` was a traceback once the models had loaded;
    ``look photos/*.jpg --frames photos`` lost its own second photo)."""
    frames, here = frames_dir.resolve(), Path.cwd().resolve()
    held = next((f"the input {source}" for source in inputs
                 if frames == source.resolve() or frames in source.resolve().parents), "")
    if not held and (frames == here or frames in here.parents):
        held = "the current folder"
    if held:
        raise ConfigError(f"--frames {frames_dir} holds {held}, and a run moves an earlier "
                          "frames folder aside whole: give the frames a folder of their own "
                          f"(e.g. {frames_dir / 'frames'})")


def keep_previous(output: Path, console: Console, *, folder: bool = False) -> Path:
    """``output``, after moving a file an earlier run left there aside (to
    ``<stem>.<time><suffix>``): a new run writes its own transcript and subtitles, the old
    ones (perhaps edited by hand) are kept. A pipe or a device there (``/dev/stdout``) is
    left in place, to be written into. ``folder``: ``output`` is a folder of the run's
    files (``--frames``), moved aside to ``<name>.<time>`` unless empty. Raises DataError
    for a folder where a file is wanted, or when the earlier output cannot be moved."""
    if folder:
        if not output.is_dir() or not any(output.iterdir()):
            return output
    elif output.is_dir():
        raise DataError(f"{output} is a folder, not a file: name the file to write")
    elif not output.is_file():  # nothing there, or a pipe or a device
        return output
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(output.stat().st_mtime))
    named = output if output.name else output.resolve()  # "." has no name to stamp
    stem, suffix = (named.name, "") if folder else (named.stem, named.suffix)
    kept = named.with_name(f"{stem}.{stamp}{suffix}")
    number = 1
    while kept.exists():
        number += 1
        kept = named.with_name(f"{stem}.{stamp}-{number}{suffix}")
    try:
        output.rename(kept)
    except OSError as exc:
        raise DataError(f"cannot move the earlier {output} aside: "
                          f"{one_line(exc)}") from None
    console.print(escape(f"kept the earlier {output.name} as {kept}"), highlight=False,
                  soft_wrap=True)  # a path to copy: one line, never broken at a space
    return output


def end_last_line(path: Path, complete: Callable[[bytes], bool]) -> None:
    """Make sure new lines do not glue onto an unterminated last line of ``path``.

    A line ``complete`` accepts, just missing its newline, gets one; a torn line is cut
    off (it was already unreadable, and it is logged so its bytes are not silently gone;
    left in place, every later reader would warn about it again).
    """
    with path.open("rb+") as handle:
        data = handle.read()
        if not data or data.endswith(b"\n"):
            return
        keep = data.rfind(b"\n") + 1
        if complete(data[keep:]):
            handle.write(b"\n")
        else:
            logger.warning("dropping torn last line of %s: %r", path, data[keep:])
            handle.truncate(keep)
        handle.flush()
        os.fsync(handle.fileno())


def _is_record(line: bytes) -> bool:
    try:
        data = json.loads(line.decode("utf-8"))
        if isinstance(data, dict):
            TranscriptRecord.from_dict(data)
            return True
    except ValueError:
        pass
    return False


def _fsync_dir(directory: Path) -> None:
    """Make a new directory entry durable; not every platform can open a directory."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
