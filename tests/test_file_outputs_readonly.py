"""``hudtranslate file`` with an output that cannot be written (read-only mount): one error
line naming the option, before the models load, never a traceback after the run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from tests.test_models_readonly import _read_only

from hudtranslate import runner
from hudtranslate.cli import main


@pytest.mark.parametrize(("flag", "name"), [("--frames", "frames"), ("--out", "out"),
                                            ("--video", "replay.gif")])
def test_an_unwritable_output_is_one_line_before_the_models_load(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        flag: str, name: str) -> None:
    clip = tmp_path / "clip.wav"
    sf.write(clip, np.zeros(16_000, dtype=np.float32), 16_000)
    locked = tmp_path / "locked"
    locked.mkdir()
    _read_only(monkeypatch, locked)

    def no_models(*args: object, **kwargs: object) -> None:
        raise AssertionError("the models loaded before the outputs were checked")

    monkeypatch.setattr(runner, "load_engines", no_models)
    outputs = {"--out": str(tmp_path / "out"), flag: str(locked / name)}
    argv = ["file", str(clip)] + [part for pair in outputs.items() for part in pair]
    assert main(argv) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert err.startswith(f"error: {flag}") and "Read-only file system" in err


def test_an_unwritable_input_folder_is_not_blamed_on_an_out_never_given(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A recording on a read-only mount, with no --out: the error had named "--out", a flag
    the user never gave, without saying it was the default."""
    locked = tmp_path / "locked"
    locked.mkdir()
    clip = locked / "clip.wav"
    sf.write(clip, np.zeros(16_000, dtype=np.float32), 16_000)
    _read_only(monkeypatch, locked)
    monkeypatch.setattr(runner, "load_engines", lambda *args, **kwargs: None)
    assert main(["file", str(clip)]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert err.startswith(f"error: the input's folder (where --out defaults to) {locked}: "
                          "cannot write there")


def test_a_transcript_that_cannot_be_written_is_the_error_not_the_exports_after_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A disk that fills during a run: the JSONL's error had been replaced by the SRT/VTT
    export's, written after it in a ``finally``, so the user never heard that sentences
    were not stored."""
    from hudtranslate.errors import DataError
    from hudtranslate.pipeline import Engines
    from hudtranslate.testing import FakeBackend, FakeDecoder, FakeVad, tone_and_silence
    from hudtranslate.transcripts import TranscriptWriter

    clip = tmp_path / "clip.wav"
    sf.write(clip, tone_and_silence([(0.3, False), (1.0, True), (0.8, False)]), 16_000)
    monkeypatch.setattr(runner, "load_engines", lambda settings: Engines(
        asr=FakeDecoder(["我们走吧。"], chars_per_s=8.0), translator=FakeBackend(),
        vad_factory=FakeVad))

    def full(*args: object, **kwargs: object) -> None:
        raise DataError("cannot write transcript clip.jsonl: No space left on device")

    def full_exports(*args: object, **kwargs: object) -> None:
        raise DataError("cannot write clip.vtt: No space left on device")

    monkeypatch.setattr(TranscriptWriter, "append", full)
    monkeypatch.setattr("hudtranslate.transcripts.store.write_exports", full_exports)
    assert main(["file", str(clip)]) == 1
    err = capsys.readouterr().err
    assert "error: cannot write transcript clip.jsonl" in " ".join(err.split())
    assert "Traceback" not in err
