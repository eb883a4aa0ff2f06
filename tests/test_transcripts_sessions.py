"""The server's session archive: index + one JSONL per session, readable after any crash."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from hudtranslate.errors import DataError
from hudtranslate.events import StreamEnd, Translation
from hudtranslate.transcripts.sessions import SessionStore, default_data_dir

pytestmark = pytest.mark.timeout(30)


def final(uid: int, en: str, zh: str = "你好") -> Translation:
    return Translation(uid, zh, en, "", uid * 2.0, uid * 2.0 + 1.5, True, uid * 2.0 + 2.0,
                       model="qwen")


def test_sessions_are_recorded_as_they_go(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    recorder = store.open(client="rokid-7", peer="127.0.0.1")
    recorder.handle(final(0, "Hello."))
    recorder.handle(Translation(1, "我", "", "I", 2, 3, False, 3))  # partials are not stored
    assert [r.en for r in store.records(recorder.session_id)] == ["Hello."]
    [info] = store.sessions()
    # not ended, and this process (which serves it) still runs
    assert info.outcome == "live" and info.sentences == 1 and info.client == "rokid-7"
    assert info.duration_s == 1.5  # not ended yet: the end of its last sentence
    recorder.handle(final(1, "Goodbye.", "再见"))
    recorder.handle(StreamEnd(4.0))
    recorder.close()
    recorder.finish("completed")
    recorder.finish("again")  # once only
    store.close()
    [info] = SessionStore(tmp_path).sessions()
    # the audio the session took (4 s), not where its last sentence ended (3.5 s)
    assert info.outcome == "completed" and info.sentences == 2 and info.duration_s == 4.0
    assert info.started_at and info.ended_at
    records = SessionStore(tmp_path).records(info.session_id)
    assert [(r.index, r.zh, r.model) for r in records] == [(1, "你好", "qwen"), (2, "再见", "qwen")]


def test_torn_lines_and_missing_index_entries_are_survived(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = SessionStore(tmp_path)
    recorder = store.open()
    recorder.handle(final(0, "Kept."))
    recorder.close()
    store.close()
    with (tmp_path / "index.jsonl").open("ab") as index:
        index.write(b'{"event": "end", "id": "')  # killed mid-write
    with recorder.path.open("ab") as transcript:
        transcript.write(b'{"index": 2, "start_s": 1.0, "en": "hal')
    orphan = tmp_path / "20260101-000000-abcdef.jsonl"
    orphan.write_text('{"index": 1, "start_s": 0, "end_s": 1, "zh": "", "en": "Orphan"}\n')
    (tmp_path / "notes.jsonl").write_text("not a session\n")
    infos = SessionStore(tmp_path).sessions()
    assert [i.session_id for i in infos] == sorted([recorder.session_id, orphan.stem])
    assert {i.session_id: i.sentences for i in infos}[recorder.session_id] == 1
    again = SessionStore(tmp_path)
    later = again.open()  # the torn index line does not swallow the next entry
    later.finish("completed")
    again.close()
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        outcomes = {i.session_id: i.outcome for i in SessionStore(tmp_path).sessions()}
    assert outcomes[later.session_id] == "completed"
    assert outcomes[recorder.session_id] == "live"  # never ended; its process runs
    # the torn line was cut off (and logged) when the index was next written, so
    # listing the sessions no longer warns about it every time
    assert "unreadable line" not in caplog.text
    lines = (tmp_path / "index.jsonl").read_text().splitlines()
    assert all(json.loads(line) for line in lines) and len(lines) == 3


def test_a_damaged_session_is_listed_as_such_beside_the_others(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    good, bad = store.open(), store.open()
    good.handle(final(0, "Kept."))
    bad.handle(final(0, "Lost?"))
    for recorder in (good, bad):
        recorder.close()
    store.close()
    lines = bad.path.read_text().splitlines()
    bad.path.write_text("\n".join(["not json", *lines]) + "\n")  # damage before the end
    infos = {i.session_id: i for i in SessionStore(tmp_path).sessions()}
    assert infos[good.session_id].sentences == 1
    assert infos[bad.session_id].outcome == "damaged"
    with pytest.raises(DataError, match=":1: not a transcript record"):
        SessionStore(tmp_path).records(bad.session_id)  # exporting it names the line


def test_find_by_id_or_prefix(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    for suffix in ("aaaaaa", "aaaabb", "cccccc"):
        (tmp_path / f"20260101-000000-{suffix}.jsonl").write_text("")
    assert store.find("20260101-000000-cc").endswith("cccccc")
    assert store.find("20260101-000000-aaaaaa").endswith("aaaaaa")
    with pytest.raises(DataError, match="matches 3"):
        store.find("2026")
    with pytest.raises(DataError, match="no session"):
        store.find("1999")
    with pytest.raises(DataError, match="not a session id"):
        store.records("../../etc/passwd")
    assert SessionStore(tmp_path / "missing").sessions() == []


def test_a_session_whose_transcript_is_gone_is_missing_not_empty(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    recorder = store.open()
    recorder.handle(final(0, "Kept."))
    recorder.finish("completed")
    store.close()
    recorder.path.unlink()
    [info] = SessionStore(tmp_path).sessions()
    assert info.outcome == "missing" and info.sentences == 0
    assert SessionStore(tmp_path).find(recorder.session_id[:10]) == recorder.session_id
    with pytest.raises(DataError, match=r"transcript file of session .* is missing"):
        SessionStore(tmp_path).records(recorder.session_id)


def test_the_store_knows_its_own_files(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions")
    recorder = store.open()
    recorder.finish("completed")
    store.close()
    assert store.holds(recorder.path)
    assert store.holds(tmp_path / "sessions" / ".." / "sessions" / "index.jsonl")
    assert not store.holds(tmp_path / "sessions" / f"{recorder.session_id}.srt")
    assert not store.holds(tmp_path / f"{recorder.session_id}.jsonl")  # another folder


def test_default_data_dir() -> None:
    assert default_data_dir({"HUDTRANSLATE_DATA_DIR": "/data/x"}) == Path("/data/x")
    assert default_data_dir({"XDG_DATA_HOME": "/xdg"}) == Path("/xdg/hudtranslate/sessions")
    assert default_data_dir({}).parts[-4:] == (".local", "share", "hudtranslate", "sessions")
    assert SessionStore.new_id() != SessionStore.new_id()
