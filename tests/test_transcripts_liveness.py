"""``transcripts list`` tells a session still being served ("live") from one whose server
died without ending it ("interrupted"): each start line records the serving process."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from hudtranslate.cli import main
from hudtranslate.transcripts.liveness import (
    INTERRUPTED,
    LIVE,
    UNFINISHED,
    ServerMark,
    unfinished_outcome,
)
from hudtranslate.transcripts.sessions import SessionStore

pytestmark = pytest.mark.timeout(30)


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(10)
    return child.pid


def _marks() -> list[tuple[str, object, str]]:
    here = ServerMark.current()
    return [
        ("this process", here.to_json(), LIVE),
        ("a process that exited", {**here.to_json(), "pid": _dead_pid()}, INTERRUPTED),
        ("its pid given to another process since", {**here.to_json(), "started": "x:1"},
         INTERRUPTED),
        ("another host", {**here.to_json(), "host": "other-box"},
         f"{UNFINISHED} (served on other-box)"),
        ("an older server: no mark", None, UNFINISHED),
        ("a garbled mark", {"host": 3, "pid": "12"}, UNFINISHED),
        ("a boolean pid", {"host": here.host, "pid": True}, UNFINISHED),
    ]


@pytest.mark.parametrize(("case", "mark", "outcome"), _marks(), ids=[m[0] for m in _marks()])
def test_an_unfinished_session_says_whether_its_server_runs(
        tmp_path: Path, case: str, mark: object, outcome: str) -> None:
    session_id = "20261204-101500-abcdef"
    start: dict[str, object] = {"event": "start", "id": session_id, "at": "x", "client": "g1"}
    if mark is not None:
        start["server"] = mark
    (tmp_path / "index.jsonl").write_text(json.dumps(start) + "\n")
    (tmp_path / f"{session_id}.jsonl").write_text("")
    [info] = SessionStore(tmp_path).sessions()
    assert info.outcome == outcome, case


def test_an_ended_session_keeps_its_outcome_whatever_its_server(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    recorder = store.open(client="g1")
    recorder.finish("completed")
    store.close()
    [info] = SessionStore(tmp_path).sessions()
    assert info.outcome == "completed"


def test_the_store_marks_each_session_with_the_process_serving_it(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    recorder = store.open(client="g1")
    recorder.close()
    store.close()
    start = json.loads((tmp_path / "index.jsonl").read_text().splitlines()[0])
    assert ServerMark.from_json(start["server"]) == ServerMark.current()
    [info] = SessionStore(tmp_path).sessions()
    assert info.outcome == LIVE and info.session_id == recorder.session_id


def test_list_shows_live_and_interrupted(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    here = ServerMark.current()
    lines = []
    for session_id, pid in (("20261204-101500-aaaaaa", here.pid),
                            ("20261204-101600-bbbbbb", _dead_pid())):
        mark = {**here.to_json(), "pid": pid} if pid != here.pid else here.to_json()
        lines.append(json.dumps({"event": "start", "id": session_id, "at": "x",
                                 "server": mark}))
        (tmp_path / f"{session_id}.jsonl").write_text("")
    (tmp_path / "index.jsonl").write_text("\n".join(lines) + "\n")
    assert main(["transcripts", "list", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert LIVE in next(line for line in out.splitlines() if "aaaaaa" in line)
    assert INTERRUPTED in next(line for line in out.splitlines() if "bbbbbb" in line)


def test_no_mark_and_another_host_are_left_unknown() -> None:
    assert unfinished_outcome(None) == UNFINISHED
    other = ServerMark(socket.gethostname() + "-elsewhere", 1)
    assert unfinished_outcome(other).startswith(UNFINISHED)
