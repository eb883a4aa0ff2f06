"""Crash-safe transcript store: fsync per line, torn-line tolerance, atomic exports."""

from __future__ import annotations

import errno
import io
import json
import logging
import os
from pathlib import Path

import pytest

from hudtranslate.errors import DataError, HudTranslateError
from hudtranslate.events import StreamEnd, Transcript, Translation
from hudtranslate.transcripts import (
    TranscriptRecord,
    TranscriptWriter,
    read_transcript,
    to_srt,
    to_vtt,
    write_exports,
)


def final(uid: int, en: str, zh: str = "你好") -> Translation:
    return Translation(uid, zh, en, "", uid * 2.0, uid * 2.0 + 1.5, True, uid * 2.0 + 2, "qwen")


def test_each_append_is_fsynced_before_returning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "session.jsonl"
    writer = TranscriptWriter(path)
    synced: list[int] = []
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        # by the time fsync runs the line must already be out of Python's buffer
        synced.append(len(path.read_bytes().splitlines()))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting_fsync)
    for uid in range(1, 4):
        writer.append(final(uid, f"Sentence {uid}."))
        # readable by another process without close(): nothing waits in a buffer
        assert len(read_transcript(path)) == uid
    assert synced == [1, 2, 3]
    writer.close()
    writer.close()


def test_round_trip_and_sink_interface(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "session.jsonl"
    with TranscriptWriter(path) as writer:
        writer.update(Transcript(1, "你好", "", 0.0, 1.0, True, 1.0))
        writer.update(Translation(1, "你好", "Hel", "lo", 0.0, 1.0, False, 1.0))
        writer.update(final(1, "Hello."))
        writer.update(final(2, "", zh="嗯"))  # no English yet: the Chinese is still kept
        writer.update(StreamEnd(10.0))
    records = read_transcript(path)
    assert records == [
        TranscriptRecord(1, 2.0, 3.5, "你好", "Hello.", "qwen"),
        TranscriptRecord(2, 4.0, 5.5, "嗯", "", "qwen"),
    ]
    assert "你好" in path.read_text(encoding="utf-8")  # not \u-escaped
    with TranscriptWriter(path) as writer, pytest.raises(ValueError, match="final"):
        writer.append(Translation(3, "", "x", "", 0, 1, False, 1))


def test_reopening_continues_numbering(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    with TranscriptWriter(path) as writer:
        writer.append(final(1, "One."))
    with TranscriptWriter(path) as writer:
        assert writer.count == 1
        record = writer.append(final(2, "Two."))
    assert record.index == 2
    assert [r.en for r in read_transcript(path)] == ["One.", "Two."]


def test_torn_last_line_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "session.jsonl"
    with TranscriptWriter(path) as writer:
        writer.append(final(1, "One."))
        writer.append(final(2, "Two."))
    whole = path.read_bytes()
    torn = TranscriptRecord(3, 6.0, 7.0, "第三句话", "Three.", "q").to_json().encode()
    for cut in (5, len(torn) - 1, torn.index("三".encode()) + 1):  # incl. inside a UTF-8 char
        path.write_bytes(whole + torn[:cut])
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            records = read_transcript(path)
        assert [r.en for r in records] == ["One.", "Two."]
        assert "torn" in caplog.text


def test_appending_after_a_crash_drops_only_the_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    with TranscriptWriter(path) as writer:
        writer.append(final(1, "One."))
    path.write_bytes(path.read_bytes() + b'{"index": 2, "start_s": 4.0, "en')
    with TranscriptWriter(path) as writer:
        writer.append(final(3, "Three."))
    assert [r.en for r in read_transcript(path)] == ["One.", "Three."]


def test_complete_last_line_without_newline_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    path.write_text(TranscriptRecord(1, 0.0, 1.0, "一", "One.").to_json(), encoding="utf-8")
    with TranscriptWriter(path) as writer:
        writer.append(final(2, "Two."))
    assert [r.en for r in read_transcript(path)] == ["One.", "Two."]


def test_damage_before_the_last_line_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    good = TranscriptRecord(1, 0.0, 1.0, "一", "One.").to_json()
    path.write_text(f"{good}\nnot json\n{good}\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"session\.jsonl:2"):
        read_transcript(path)
    path.write_text(f'{good}\n{{"index": 2}}\n{good}\n', encoding="utf-8")
    with pytest.raises(DataError, match="start_s"):
        read_transcript(path)


def test_a_byte_that_is_not_utf8_is_named_by_its_line(tmp_path: Path) -> None:
    """It had been "not UTF-8 text: ... in position 50", which a user cannot find, for
    damage the JSON checks name by line."""
    path = tmp_path / "session.jsonl"
    good = TranscriptRecord(1, 0.0, 1.0, "一", "One.").to_json().encode()
    path.write_bytes(good + b"\n" + good.replace("一".encode(), b"\xff") + b"\n" + good + b"\n")
    with pytest.raises(DataError, match=r"session\.jsonl:2: .*not UTF-8 text"):
        read_transcript(path)


def test_a_session_past_100_hours_reads_back_and_exports_whole(tmp_path: Path) -> None:
    """What the writer stores the reader takes: a session of days is not "damaged" (its
    last sentence was dropped as a torn line, others failed the export)."""
    path = tmp_path / "long.jsonl"
    late = [Translation(uid, "还在", f"Still here {uid}.", "", start, start + 1.5, True,
                        start + 2, "qwen") for uid, start in ((1, 359_990.0), (2, 360_005.0),
                                                              (3, 400_000.0))]
    with TranscriptWriter(path) as writer:
        for translation in late:
            writer.append(translation)
    records = read_transcript(path)
    assert [r.start_s for r in records] == [359_990.0, 360_005.0, 400_000.0]
    srt_path, vtt_path = write_exports(records, tmp_path, "long")
    assert "111:06:40,000 --> 111:06:41,500" in srt_path.read_text(encoding="utf-8")
    assert "111:06:40.000 --> 111:06:41.500" in vtt_path.read_text(encoding="utf-8")


def test_unreadable_files_raise_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read"):
        read_transcript(tmp_path / "missing.jsonl")
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b"\xff\xfe\x00garbage\n{}\n")
    with pytest.raises(HudTranslateError):
        read_transcript(binary)
    with pytest.raises(DataError):
        read_transcript(tmp_path)  # a directory


def test_write_exports_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "talk.jsonl"
    with TranscriptWriter(path) as writer:
        for uid, text in enumerate(["Good morning.", "Let us begin."], start=1):
            writer.append(final(uid, text))
    records = read_transcript(path)
    srt_path, vtt_path = write_exports(records, tmp_path, "talk")
    assert (srt_path, vtt_path) == (tmp_path / "talk.srt", tmp_path / "talk.vtt")
    assert srt_path.read_text(encoding="utf-8") == to_srt(records)
    assert vtt_path.read_text(encoding="utf-8") == to_vtt(records)

    # a failure while writing leaves the previous export whole and no temp file behind
    def failing_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(DataError, match="No space left"):
        write_exports([*records, final(9, "More.")], tmp_path, "talk")
    assert srt_path.read_text(encoding="utf-8") == to_srt(records)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["talk.jsonl", "talk.srt", "talk.vtt"]


def test_jsonl_lines_are_single_objects(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    with TranscriptWriter(path) as writer:
        writer.append(final(1, "Line with\nnewline inside."))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["en"] == "Line with\nnewline inside."


def test_exports_are_readable_by_others_like_any_new_file(tmp_path: Path) -> None:
    from hudtranslate.transcripts.store import write_text_atomic

    path = tmp_path / "talk.srt"
    write_text_atomic(path, "1\n")
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


class _FullDisk(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_is_the_append_error_and_closing_does_not_raise_it_again(
        tmp_path: Path) -> None:
    """The unwritten line stayed in the buffer and close() raised a bare OSError that
    replaced the DataError: a served wearer was told "[Errno 28] No space left on device"
    with no word of the transcript, and the server logged two tracebacks."""
    writer = TranscriptWriter(tmp_path / "session.jsonl")
    writer._file.close()  # type: ignore[union-attr]
    writer._file = io.BufferedWriter(_FullDisk())  # type: ignore[assignment]
    with pytest.raises(DataError, match=r"cannot write transcript .*No space left"):
        writer.append(final(1, "Hello."))
    writer.close()
    writer.close()
