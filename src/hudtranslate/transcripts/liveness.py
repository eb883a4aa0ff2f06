"""Whether the server that wrote an unfinished session is still running it.

A session's end line is written when it ends, so one without it is either still being
served or was cut off by a server that died (SIGKILL, power loss, OOM). ``transcripts
list`` showed both as "unfinished"; a user could not tell whether to wait or to export
what is there. Each session's start line therefore records the process that serves it
(``ServerMark``: host, pid and the process's start identity), and the listing asks whether
that very process still exists.

The pid alone is not enough: after a reboot or a long uptime another process may hold it.
On Linux the mark also holds the boot id and the process's start time in clock ticks
(``/proc/<pid>/stat``), which no other process shares; elsewhere only the pid is checked.
A session served from another host (a shared data folder) cannot be checked from here.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

LIVE = "live"
INTERRUPTED = "interrupted (server stopped without ending it)"
UNFINISHED = "unfinished"
"""Outcomes of a session without an end line: served now, cut off, or unknown (written by
an older server, or on another host)."""

_PROC = Path("/proc")


@dataclass(frozen=True)
class ServerMark:
    """The process serving a session, as recorded in its start line."""

    host: str
    pid: int
    started: str = ""
    """``<boot id>:<start time in ticks>`` on Linux, "" where it cannot be read."""

    @classmethod
    def current(cls) -> ServerMark:
        """This process."""
        pid = os.getpid()
        return cls(socket.gethostname(), pid, _start_identity(pid) or "")

    def to_json(self) -> dict[str, object]:
        return {"host": self.host, "pid": self.pid, "started": self.started}

    @classmethod
    def from_json(cls, value: object) -> ServerMark | None:
        """The mark a start line holds; None for none (an older server) or a garbled one."""
        if not isinstance(value, Mapping):
            return None
        host, pid, started = value.get("host"), value.get("pid"), value.get("started", "")
        if (not isinstance(host, str) or not isinstance(pid, int) or isinstance(pid, bool)
                or pid <= 0 or not isinstance(started, str)):
            return None
        return cls(host, pid, started)


def unfinished_outcome(mark: ServerMark | None) -> str:
    """What to call a session without an end line whose start line holds ``mark``."""
    if mark is None:
        return UNFINISHED
    if mark.host != socket.gethostname():
        return f"{UNFINISHED} (served on {mark.host})"
    return LIVE if is_running(mark) else INTERRUPTED


def is_running(mark: ServerMark) -> bool:
    """Whether the process ``mark`` names (on this host) still exists: the same process,
    not another that was given its pid since."""
    if mark.started:
        now = _start_identity(mark.pid)
        if now is not None or _PROC.joinpath("self", "stat").exists():
            return now == mark.started
    try:
        os.kill(mark.pid, 0)  # signal 0: checks the pid exists, sends nothing
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by another user
        return True
    return True


def _start_identity(pid: int) -> str | None:
    """``<boot id>:<start ticks>`` of process ``pid``; None where /proc cannot say (no
    such process, or not Linux)."""
    try:
        boot_id = (_PROC / "sys" / "kernel" / "random" / "boot_id").read_text().strip()
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # the command name (field 2) is in parentheses and may hold spaces and ")": the
    # fields after its last ")" start at field 3 (state); start time is field 22
    fields = stat.rpartition(")")[2].split()
    return f"{boot_id}:{fields[19]}" if len(fields) > 19 else None
