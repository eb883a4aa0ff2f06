"""The server's session archive: one crash-safe JSONL transcript per session, and an index.

Layout under the data directory (default ``~/.local/share/hudtranslate/sessions``)::

    index.jsonl              one line when a session starts, one when it ends (fsync'ed)
    <session-id>.jsonl       its final sentences, appended and fsync'ed as committed

Both files are only ever appended to, so a server killed at any moment (SIGKILL, power
loss) leaves every committed sentence readable; a session whose end was never written is
listed as ``live`` while the process that serves it runs (each start line names it), as
``interrupted`` once that process is gone (``liveness``). Nothing is kept in memory that is
not already on disk.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shlex
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hudtranslate.errors import DataError, one_line
from hudtranslate.events import StreamEnd, Transcript, Translation
from hudtranslate.transcripts.export import TranscriptRecord
from hudtranslate.transcripts.liveness import ServerMark, unfinished_outcome
from hudtranslate.transcripts.store import (
    TranscriptWriter,
    _fsync_dir,
    end_last_line,
    read_transcript,
)

_SHOWN_MATCHES = 5
"""Session ids an ambiguous prefix error lists."""
log = logging.getLogger(__name__)

INDEX_NAME = "index.jsonl"
SESSION_ID = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{6}$")


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$HUDTRANSLATE_DATA_DIR``, else ``$XDG_DATA_HOME/hudtranslate/sessions``, else
    ``~/.local/share/hudtranslate/sessions``."""
    env = os.environ if env is None else env
    if env.get("HUDTRANSLATE_DATA_DIR"):
        return Path(env["HUDTRANSLATE_DATA_DIR"]).expanduser()
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "hudtranslate" / "sessions"


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


@dataclass(frozen=True)
class SessionInfo:
    """What ``transcripts list`` shows about one session."""

    session_id: str
    path: Path
    started_at: str = ""
    ended_at: str = ""
    outcome: str = "unfinished"
    client: str = ""
    sentences: int = 0
    duration_s: float = 0.0


def _seconds(value: object, fallback: float) -> float:
    """An index entry's number of seconds, or ``fallback`` for one it lacks or garbles."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return fallback


class SessionRecorder:
    """Pipeline sink of one session: appends each final translation durably.

    Put it first among the sinks: a caption reaches the wearer only after it is on disk.
    """

    def __init__(self, store: SessionStore, session_id: str) -> None:
        self.store, self.session_id = store, session_id
        self.path = store.transcript_path(session_id)
        self._writer = TranscriptWriter(self.path)
        self.sentences = 0
        self.audio_s: float | None = None
        """Seconds of audio the session's pipeline took, once it has ended."""
        self._finished = False

    def handle(self, event: Transcript | Translation | StreamEnd) -> None:
        if isinstance(event, Translation) and event.final:
            self._writer.append(event)
            self.sentences += 1
        elif isinstance(event, StreamEnd):
            self.audio_s = event.duration_s

    def close(self) -> None:
        self._writer.close()

    def finish(self, outcome: str) -> None:
        """Record how the session ended (once); the transcript is already complete."""
        if self._finished:
            return
        self._finished = True
        self._writer.close()
        entry: dict[str, object] = {"event": "end", "id": self.session_id, "at": _now_iso(),
                                    "outcome": outcome, "sentences": self.sentences}
        if self.audio_s is not None:
            entry["audio_s"] = round(self.audio_s, 3)
        self.store.append_index(entry)


@dataclass
class SessionStore:
    """The data directory of one or more servers (index lines are single appends)."""

    root: Path
    _index_file: int | None = field(default=None, repr=False)
    _server: ServerMark | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.root = Path(self.root).expanduser()

    @property
    def index_path(self) -> Path:
        return self.root / INDEX_NAME

    def transcript_path(self, session_id: str) -> Path:
        if not SESSION_ID.match(session_id):
            raise DataError(f"not a session id: {session_id!r}")
        return self.root / f"{session_id}.jsonl"

    @staticmethod
    def new_id() -> str:
        """Sortable by start time, unique without coordination between servers."""
        return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)

    def open(self, session_id: str | None = None, *, client: str = "",
             peer: str = "") -> SessionRecorder:
        """Start a session: its index line first, then its (empty) transcript file. The
        line names this process, which serves the session: a listing then tells a session
        still being served from one whose server died before ending it."""
        session_id = session_id or self.new_id()
        if self._server is None:
            self._server = ServerMark.current()
        self.append_index({"event": "start", "id": session_id, "at": _now_iso(),
                           "client": client[:100], "peer": peer,
                           "server": self._server.to_json()})
        return SessionRecorder(self, session_id)

    def append_index(self, entry: dict[str, object]) -> None:
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            if self._index_file is None:
                self.root.mkdir(parents=True, exist_ok=True)
                created = not self.index_path.exists()
                if not created:  # a line torn by a crash: cut off once, here
                    end_last_line(self.index_path, _is_index_entry)
                self._index_file = os.open(self.index_path,
                                           os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                if created:
                    _fsync_dir(self.root)
            os.write(self._index_file, line)
            os.fsync(self._index_file)
        except OSError as exc:
            raise DataError(f"cannot write session index {self.index_path}: "
                            f"{one_line(exc)}") from exc

    def close(self) -> None:
        if self._index_file is not None:
            os.close(self._index_file)
            self._index_file = None

    # --- reading (the CLI, after a restart) -----------------------------------------------

    def sessions(self) -> list[SessionInfo]:
        """Every session in the directory, oldest first, including ones missing from the
        index (a crash between the two writes) and unfinished ones (``live`` or
        ``interrupted``: ``liveness``). A session whose transcript file is gone is listed
        as ``missing``, one that cannot be read as ``damaged`` (with a warning)."""
        infos = []
        for session_id, meta in sorted(self._entries().items()):
            path = self.root / f"{session_id}.jsonl"
            outcome = (str(meta["outcome"]) if "outcome" in meta
                       else unfinished_outcome(ServerMark.from_json(meta.get("server"))))
            records: list[TranscriptRecord] = []
            if not path.exists():
                outcome = "missing"
            else:
                try:
                    records = read_transcript(path)
                except DataError as exc:  # one damaged file must not hide the other sessions
                    log.warning("%s", exc)
                    outcome = "damaged"
            infos.append(SessionInfo(
                session_id, path, started_at=str(meta.get("started_at", "")),
                ended_at=str(meta.get("ended_at", "")),
                outcome=outcome, client=str(meta.get("client") or ""),  # null: none given
                sentences=len(records),
                # the audio the session took; an index from before it was recorded, or a
                # session that did not end, has the end of its last sentence instead
                duration_s=_seconds(meta.get("audio_s"),
                                    max((r.end_s for r in records), default=0.0))))
        return infos

    def _entries(self) -> dict[str, dict[str, object]]:
        """Session id → what the index says about it, for every session with an index
        line or a transcript file (reads no transcript)."""
        entries: dict[str, dict[str, object]] = {}
        for entry in self._index_entries():
            session = entries.setdefault(str(entry.get("id")), {})
            if entry.get("event") == "start":
                session.update(started_at=entry.get("at", ""), client=entry.get("client", ""),
                               server=entry.get("server"))
            elif entry.get("event") == "end":
                session.update(ended_at=entry.get("at", ""),
                               outcome=entry.get("outcome", "ended"),
                               audio_s=entry.get("audio_s"))
        if self.root.is_dir():
            for path in self.root.glob("*.jsonl"):
                if SESSION_ID.match(path.stem):
                    entries.setdefault(path.stem, {})
        return {key: meta for key, meta in entries.items() if SESSION_ID.match(key)}

    def find(self, id_or_prefix: str) -> str:
        """The id of the session with this id, or of the only one starting with it.

        Raises DataError when none or several match.
        """
        matches = [key for key in self._entries() if key.startswith(id_or_prefix)]
        if id_or_prefix in matches:
            return id_or_prefix
        if len(matches) == 1 and id_or_prefix:
            return matches[0]
        if not matches:  # the listing of this folder, which need not be the default one
            where = ("" if self.root == default_data_dir()
                     else f" --data-dir {shlex.quote(str(self.root))}")
            raise DataError(f"no session {id_or_prefix!r} in {self.root} "
                            f"(see: hudtranslate transcripts list{where})")
        shown = ", ".join(sorted(matches)[:_SHOWN_MATCHES])
        more = f" and {len(matches) - _SHOWN_MATCHES} more" if len(matches) > _SHOWN_MATCHES else ""
        raise DataError(f"{id_or_prefix!r} matches {len(matches)} sessions ({shown}{more}): "
                        "give more of the id")

    def records(self, session_id: str) -> list[TranscriptRecord]:
        """The session's final sentences. Raises DataError when its transcript file is
        missing (the server creates it when the session starts) or damaged."""
        path = self.transcript_path(session_id)
        if not path.exists():
            raise DataError(f"the transcript file of session {session_id} is missing "
                            f"({path}): its sentences cannot be exported")
        return read_transcript(path)

    def holds(self, path: Path) -> bool:
        """Whether ``path`` is one of the store's own files (the index or a transcript),
        which an export must never overwrite."""
        try:
            resolved = path.resolve()
        except OSError:
            return False
        if resolved.parent != self.root.resolve():
            return False
        return resolved.name == INDEX_NAME or (
            resolved.suffix == ".jsonl" and bool(SESSION_ID.match(resolved.stem)))

    def _index_entries(self) -> list[dict[str, object]]:
        try:
            text = self.index_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise DataError(f"cannot read {self.index_path}: {one_line(exc)}") from exc
        entries = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                log.warning("skipping unreadable line %d of %s", number, self.index_path)
                continue
            if isinstance(entry, dict):
                entries.append(entry)
        return entries


def _is_index_entry(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line.decode("utf-8")), dict)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError both are
        return False
