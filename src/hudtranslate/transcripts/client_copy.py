"""The wearer's own copy of a streamed session (``hudtranslate stream --out DIR``).

The server keeps every session it transcribes, but on its own machine: a server on
another box that dies, is wiped or cannot be reached afterwards takes the transcript with
it. With ``--out`` the streaming side appends each final caption to
``DIR/<session id>.jsonl`` as it arrives (one fsync'd line each, as the server does) and
writes ``<session id>.srt`` / ``.vtt`` from it when the stream ends, however it ends.
"""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path

from hudtranslate.errors import DataError, ensure_writable_folder
from hudtranslate.events import Transcript, Translation
from hudtranslate.transcripts.store import TranscriptWriter, export_transcript

_SAFE_STEM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def _stem(session_id: str) -> str:
    """The file name for ``session_id``: the id itself (the server's are
    ``20261204-122402-d26171``), else a local time, so that an id the server made up
    ("../x", "") never names a path."""
    if _SAFE_STEM.fullmatch(session_id):
        return session_id
    return time.strftime("hudtranslate-stream-%Y%m%d-%H%M%S")


class ClientTranscript:
    """Final captions of one stream, written to ``folder`` as they arrive.

    ``start(session_id)`` when the server names the session, ``add(event)`` for every
    event (finals are kept, the rest ignored), ``close()`` at the end: it returns the
    JSONL, SRT and VTT paths, or None if no sentence came back (and keeps no file).
    Raises ``ConfigError`` (``folder`` not writable) from ``check`` and ``start``,
    ``DataError`` when a line cannot be written (it names the server's copy); after
    that, ``close`` reports an export that fails too as a warning, not as the error."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._writer: TranscriptWriter | None = None
        self._stem = self._session = ""
        self._failed = False

    def check(self) -> None:
        """Before streaming: can the folder be written? (It is made only at ``start``.)"""
        ensure_writable_folder("--out", self.folder, create=False)

    def start(self, session_id: str) -> None:
        if self._writer is not None:
            return
        ensure_writable_folder("--out", self.folder)
        self._stem, self._session = _stem(session_id), session_id
        self._writer = TranscriptWriter(self.folder / f"{self._stem}.jsonl")

    def add(self, event: Transcript | Translation | None) -> None:
        if self._writer is not None and isinstance(event, Translation) and event.final:
            try:
                self._writer.append(event)
            except DataError as exc:  # a full disk: the server's copy is whole
                self._failed = True
                raise DataError(f"{exc} (the server keeps the session: on its machine, "
                                f"hudtranslate transcripts export {self._session})") from None

    def close(self) -> tuple[Path, Path, Path] | None:
        writer, self._writer = self._writer, None
        if writer is None:
            return None
        writer.close()
        if not writer.count:  # nothing came back: no empty subtitles, nor an empty JSONL
            with contextlib.suppress(OSError):
                if writer.path.stat().st_size == 0:
                    writer.path.unlink()
            return None
        exports = export_transcript(writer.path, self.folder, self._stem,
                                    after_failure=self._failed)
        return None if exports is None else (writer.path, *exports)
