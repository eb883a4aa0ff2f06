"""``hudtranslate transcripts``: bad input is one error line and never costs a transcript."""

from __future__ import annotations

from pathlib import Path

import pytest

from hudtranslate.cli import main
from hudtranslate.events import Translation
from hudtranslate.transcripts.sessions import SessionRecorder, SessionStore

pytestmark = pytest.mark.timeout(30)


def _stored_session(data_dir: Path, sentences: int = 1) -> SessionRecorder:
    store = SessionStore(data_dir)
    recorder = store.open(client="test")
    for uid in range(sentences):
        recorder.handle(Translation(uid, "你好", "Hello.", "", uid, uid + 1.0, True, uid + 1.5))
    recorder.finish("completed")
    store.close()
    return recorder


@pytest.mark.parametrize("target", ["transcript", "index"])
def test_export_refuses_to_overwrite_the_stored_files(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str) -> None:
    recorder = _stored_session(tmp_path)
    out = recorder.path if target == "transcript" else tmp_path / "index.jsonl"
    before = out.read_bytes()
    assert main(["transcripts", "export", recorder.session_id, "--data-dir", str(tmp_path),
                 "--out", str(out)]) == 1
    assert "is one of the stored session files" in capsys.readouterr().err
    assert out.read_bytes() == before


def test_an_export_beside_the_stored_files_is_allowed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recorder = _stored_session(tmp_path)
    out = tmp_path / f"{recorder.session_id}.srt"
    assert main(["transcripts", "export", recorder.session_id, "--data-dir", str(tmp_path),
                 "--out", str(out)]) == 0
    assert "Hello." in out.read_text()


def test_a_missing_transcript_file_is_an_error_not_an_empty_export(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recorder = _stored_session(tmp_path)
    recorder.path.unlink()
    assert main(["transcripts", "export", recorder.session_id, "--data-dir", str(tmp_path)]) == 1
    assert "is missing" in capsys.readouterr().err
    assert main(["transcripts", "list", "--data-dir", str(tmp_path)]) == 0
    assert "missing" in capsys.readouterr().out


def test_an_empty_session_exports_with_a_note(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    recorder = _stored_session(tmp_path, sentences=0)
    assert main(["transcripts", "export", recorder.session_id, "--data-dir", str(tmp_path)]) == 0
    assert "has no sentences" in caplog.text


def test_a_damaged_transcript_is_reported_once(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    recorder = _stored_session(tmp_path, sentences=2)
    with recorder.path.open("ab") as transcript:
        transcript.write(b'{"index": "x"}\n')  # a torn last line
    assert main(["transcripts", "export", recorder.session_id, "--data-dir", str(tmp_path)]) == 0
    assert caplog.text.count("skipping torn last line") == 1
    assert capsys.readouterr().out.count("Hello.") == 2


def test_a_data_dir_that_is_not_there_or_not_a_folder_is_an_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["transcripts", "list", "--data-dir", str(tmp_path / "typo")]) == 1
    assert "does not exist" in capsys.readouterr().err
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    assert main(["transcripts", "list", "--data-dir", str(a_file)]) == 1
    assert "is a file, not a folder" in capsys.readouterr().err


def test_the_default_data_dir_may_not_exist_yet(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUDTRANSLATE_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "never-served"))
    assert main(["transcripts", "list"]) == 0
    assert "nothing served yet" in capsys.readouterr().out


def test_a_data_dir_named_in_the_environment_is_checked_like_the_flag(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A typo in HUDTRANSLATE_DATA_DIR had listed "no sessions" with status 0."""
    monkeypatch.setenv("HUDTRANSLATE_DATA_DIR", str(tmp_path / "typo"))
    assert main(["transcripts", "list"]) == 1
    assert "HUDTRANSLATE_DATA_DIR" in capsys.readouterr().err


def test_an_export_keeps_an_earlier_file_of_that_name(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recorder = _stored_session(tmp_path / "data")
    out = tmp_path / "talk.srt"
    out.write_text("1\nedited by hand\n")
    assert main(["transcripts", "export", recorder.session_id, "--data-dir",
                 str(tmp_path / "data"), "--out", str(out)]) == 0
    assert "Hello." in out.read_text()
    (kept,) = tmp_path.glob("talk.*.srt")
    assert kept.read_text() == "1\nedited by hand\n"
    assert "kept the earlier talk.srt" in capsys.readouterr().err


def test_a_line_cut_off_mid_json_is_named_so(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from hudtranslate.transcripts.store import read_transcript

    recorder = _stored_session(tmp_path)
    with recorder.path.open("ab") as transcript:
        transcript.write(b'{"index": 2, "start_s": 1.0, "en": "hal')
    assert len(read_transcript(recorder.path)) == 1
    assert "not a JSON line (cut off or damaged)" in caplog.text
    assert "Expecting" not in caplog.text  # no JSON parser internals


def test_an_export_to_a_folder_is_refused_and_the_folder_kept(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``file --out`` takes a folder, ``export --out`` a file: a folder given by mistake
    was moved aside and replaced by the export."""
    recorder = _stored_session(tmp_path / "data")
    folder = tmp_path / "Documents"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    assert main(["transcripts", "export", recorder.session_id, "--data-dir",
                 str(tmp_path / "data"), "--out", str(folder)]) == 1
    assert "is a folder: give the export's file name" in capsys.readouterr().err
    assert folder.is_dir() and (folder / "notes.txt").read_text() == "mine"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["Documents", "data"]


def test_an_export_to_a_pipe_is_written_into_it(tmp_path: Path) -> None:
    """A named pipe (or /dev/stdout) is written into, not moved aside and replaced."""
    import os
    import threading

    recorder = _stored_session(tmp_path / "data")
    pipe = tmp_path / "captions.srt"
    os.mkfifo(pipe)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_text()))
    reader.start()
    assert main(["transcripts", "export", recorder.session_id, "--data-dir",
                 str(tmp_path / "data"), "--out", str(pipe)]) == 0
    reader.join(10)
    assert "Hello." in received[0]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["captions.srt", "data"]


@pytest.mark.parametrize("command", [["list"], ["export", "SESSION"]])
def test_a_reader_that_went_away_ends_the_output_quietly(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        command: list[str]) -> None:
    """`| head -1` closes the pipe: no traceback, the SIGPIPE exit status."""
    import sys

    recorder = _stored_session(tmp_path / "data")
    command = [recorder.session_id if word == "SESSION" else word for word in command]

    def closed(text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys.stdout, "write", closed)
    assert main(["transcripts", *command, "--data-dir", str(tmp_path / "data")]) == 141
    assert capsys.readouterr().err == ""


def test_a_full_disk_on_standard_output_is_one_error_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    recorder = _stored_session(tmp_path / "data")

    def full(text: str) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sys.stdout, "write", full)
    assert main(["transcripts", "export", recorder.session_id, "--data-dir",
                 str(tmp_path / "data")]) == 1
    assert "cannot write to standard output: No space left on device" in capsys.readouterr().err


def test_an_ambiguous_id_lists_the_sessions_it_matches(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = _stored_session(tmp_path), _stored_session(tmp_path)
    prefix = first.session_id[:4]  # the date both start with
    assert main(["transcripts", "export", prefix, "--data-dir", str(tmp_path)]) == 1
    error = capsys.readouterr().err
    assert "matches 2 sessions" in error
    assert first.session_id in error and second.session_id in error


def test_out_dash_is_standard_output(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``--out -`` had written a file called "-" in the current folder."""
    recorder = _stored_session(tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    assert main(["transcripts", "export", recorder.session_id, "--data-dir",
                 str(tmp_path / "data"), "--out", "-"]) == 0
    assert "Hello." in capsys.readouterr().out
    assert not (tmp_path / "-").exists()


def test_an_unknown_id_points_at_the_listing_of_that_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The hint had been a bare ``transcripts list``, which lists the default folder, not
    the --data-dir the id was looked for in."""
    monkeypatch.delenv("HUDTRANSLATE_DATA_DIR", raising=False)
    data = tmp_path / "my data"
    _stored_session(data)
    assert main(["transcripts", "export", "nope", "--data-dir", str(data)]) == 1
    error = " ".join(capsys.readouterr().err.split())
    assert f"(see: hudtranslate transcripts list --data-dir '{data}')" in error
    monkeypatch.setenv("HUDTRANSLATE_DATA_DIR", str(data))
    assert main(["transcripts", "export", "nope"]) == 1
    assert "(see: hudtranslate transcripts list)" in capsys.readouterr().err


@pytest.mark.parametrize(("name", "given", "first"), [
    ("talk.vtt", None, "WEBVTT"), ("talk.jsonl", None, '{"index": 1'),
    ("talk.srt", None, "1"), ("talk.txt", None, "1"), ("talk.txt", "vtt", "WEBVTT")])
def test_the_format_follows_the_out_files_extension(
        tmp_path: Path, name: str, given: str | None, first: str) -> None:
    """``--out talk.vtt`` had written SRT (the default format) into a file named .vtt."""
    recorder = _stored_session(tmp_path / "data")
    out = tmp_path / name
    argv = ["transcripts", "export", recorder.session_id, "--data-dir",
            str(tmp_path / "data"), "--out", str(out)]
    assert main(argv + (["--format", given] if given else [])) == 0
    assert out.read_text().startswith(first)


def test_a_format_the_out_file_contradicts_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recorder = _stored_session(tmp_path / "data")
    out = tmp_path / "talk.vtt"
    assert main(["transcripts", "export", recorder.session_id, "--data-dir",
                 str(tmp_path / "data"), "--out", str(out), "--format", "srt"]) == 1
    assert "--format srt and --out" in capsys.readouterr().err
    assert not out.exists()


def test_bilingual_jsonl_is_refused_not_ignored(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recorder = _stored_session(tmp_path / "data")
    out = tmp_path / "talk.jsonl"
    assert main(["transcripts", "export", recorder.session_id, "--data-dir",
                 str(tmp_path / "data"), "--out", str(out), "--bilingual"]) == 1
    assert "--bilingual applies to srt and vtt" in capsys.readouterr().err
    assert not out.exists()


def test_the_folder_above_the_sessions_points_to_them(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _stored_session(tmp_path / "sessions")
    assert main(["transcripts", "list", "--data-dir", str(tmp_path)]) == 0
    assert f"(try --data-dir {tmp_path / 'sessions'})" in capsys.readouterr().out


def test_a_null_client_in_the_index_is_listed_as_none_given(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recorder = _stored_session(tmp_path)
    index = tmp_path / "index.jsonl"
    index.write_text(index.read_text().replace('"client": "test"', '"client": null'))
    assert main(["transcripts", "list", "--data-dir", str(tmp_path)]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines()
               if line.startswith(recorder.session_id))
    assert row.rstrip().endswith(" -") and "None" not in row


@pytest.mark.parametrize(("name", "hint"), [("talk.json", "talk.jsonl"), ("talk.ASS", "talk.srt")])
def test_an_out_file_named_for_another_format_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, hint: str) -> None:
    """``--out talk.json`` had silently been written as SRT."""
    recorder = _stored_session(tmp_path / "data")
    argv = ["transcripts", "export", recorder.session_id, "--data-dir",
            str(tmp_path / "data"), "--out", str(tmp_path / name)]
    assert main(argv) == 1
    assert f"name it {hint}, or add --format" in " ".join(capsys.readouterr().err.split())
    assert not (tmp_path / name).exists()
    assert main([*argv, "--format", "jsonl"]) == 0  # asked for by name: written
    assert (tmp_path / name).read_text().startswith('{"index": 1')


def test_a_transcript_file_of_file_or_stream_out_exports_like_a_session(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`file --mode converse` writes the partner's Chinese only into talk.jsonl; the way to
    bilingual subtitles, `transcripts export talk.jsonl --bilingual`, had answered "no
    session 'talk.jsonl' in ~/.local/share/hudtranslate/sessions"."""
    from hudtranslate.transcripts import TranscriptWriter

    folder = tmp_path / "my talks"
    folder.mkdir()
    talk = folder / "talk.jsonl"
    with TranscriptWriter(talk) as writer:
        writer.append(Translation(1, "你好", "Hello.", "", 0.0, 1.0, True, 1.5))
    monkeypatch.setenv("HUDTRANSLATE_DATA_DIR", str(tmp_path / "never served"))
    assert main(["transcripts", "export", str(talk), "--bilingual"]) == 0
    assert "Hello.\n你好" in capsys.readouterr().out
    assert main(["transcripts", "export", str(talk), "--out", str(talk)]) == 1
    assert "is the transcript being exported" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["talk.mp3", "talk.WAV", "talk.m4a", "talk.mp4"])
def test_an_out_file_named_like_a_recording_is_refused_and_the_recording_kept(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    """`--out talk.mp3` (the recording's name typed by mistake) had moved the recording
    aside and written the subtitles as talk.mp3, with exit 0."""
    recorder = _stored_session(tmp_path)
    recording = tmp_path / name
    recording.write_bytes(b"ID3 audio")
    assert main(["transcripts", "export", recorder.session_id, "--data-dir", str(tmp_path),
                 "--out", str(recording)]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert f"names an audio or video file: name it {Path(name).stem}.srt" in err
    assert recording.read_bytes() == b"ID3 audio"
    assert sorted(path.name for path in tmp_path.glob("talk*")) == [name]
