"""Audio that comes through a pipe (`file -`, `<(ffmpeg …)`, /dev/stdin): read whole, and
the outputs written where the user is, not into /dev as `stdin.jsonl`."""

import io
import os
import threading
import types
from pathlib import Path

import pytest
import soundfile

from hudtranslate.audio import read_audio_file
from hudtranslate.cli import main
from hudtranslate.errors import AudioError
from hudtranslate.pipeline import Engines
from hudtranslate.runner import _outputs_for
from hudtranslate.testing import FakeBackend, FakeDecoder, FakeVad, tone_and_silence


def wav_bytes() -> bytes:
    data = io.BytesIO()
    soundfile.write(data, tone_and_silence([(0.3, False), (1.0, True), (0.8, False)]), 16_000,
                    format="WAV")
    return data.getvalue()


def piped_stdin(data: bytes, *, terminal: bool = False) -> types.SimpleNamespace:
    return types.SimpleNamespace(buffer=io.BytesIO(data), isatty=lambda: terminal)


@pytest.fixture
def fake_engines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hudtranslate.runner.load_engines", lambda settings: Engines(
        asr=FakeDecoder(["我们走吧。"], chars_per_s=8.0), translator=FakeBackend(),
        vad_factory=FakeVad))


@pytest.mark.parametrize(("given", "out_dir", "folder", "named_after_input"), [
    ("talks/talk.wav", None, "talks", True),
    ("talks/talk.wav", "out", "out", True),
    ("-", None, ".", False),
    ("-", "out", "out", False),
    ("/dev/stdin", None, ".", False),
    ("/proc/self/fd/0", None, ".", False),
])
def test_where_a_file_run_writes(given: str, out_dir: str | None, folder: str,
                                 named_after_input: bool) -> None:
    target, stem, _ = _outputs_for(Path(given), None if out_dir is None else Path(out_dir))
    assert target == Path(folder)
    assert (stem == "talk") if named_after_input else stem.startswith("hudtranslate-file-")


def test_file_dash_reads_standard_input_and_writes_here(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_engines: None) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", piped_stdin(wav_bytes()))
    assert main(["file", "-"]) == 0
    (jsonl,) = tmp_path.glob("hudtranslate-file-*.jsonl")
    assert jsonl.read_text().count("\n") == 1
    assert len(list(tmp_path.glob("hudtranslate-file-*.srt"))) == 1


def test_a_named_pipe_writes_here_not_beside_the_pipe(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_engines: None) -> None:
    """`hudtranslate file <(ffmpeg …)` names /dev/fd/63: its outputs had gone to /dev/fd."""
    pipes, here = tmp_path / "fd", tmp_path / "here"
    pipes.mkdir()
    here.mkdir()
    pipe = pipes / "63"
    os.mkfifo(pipe)
    writer = threading.Thread(target=pipe.write_bytes, args=(wav_bytes(),))
    writer.start()
    monkeypatch.chdir(here)
    assert main(["file", str(pipe)]) == 0
    writer.join()
    assert list(pipes.iterdir()) == [pipe]
    assert len(list(here.glob("hudtranslate-file-*.jsonl"))) == 1


def test_a_terminal_on_standard_input_is_one_clear_line(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", piped_stdin(b"", terminal=True))
    assert main(["file", "-"]) != 0
    err = capsys.readouterr().err.strip()
    assert "no audio on standard input (it is a terminal)" in err and len(err.splitlines()) == 1


def test_an_empty_pipe_says_nothing_came(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", piped_stdin(b""))
    with pytest.raises(AudioError, match=r"no audio came through stdin \(0 bytes\)"):
        read_audio_file("-")


def test_a_pipe_of_something_else_names_the_pipe_not_its_gone_copy(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The error had named the temporary copy (/tmp/hudtranslate-pipe-…/stdin), deleted
    by the time the user reads it."""
    monkeypatch.setattr("sys.stdin", piped_stdin(b"this is not audio\n"))
    with pytest.raises(AudioError, match="standard input") as raised:
        read_audio_file("-")
    assert "hudtranslate-pipe-" not in str(raised.value)
