"""Paths ``file`` prints are whole lines, however narrow the terminal: rich wrapped "wrote
…/会议 录音.jsonl, …" at the space in a file name, so the path a user copies from the
terminal did not exist."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import fake_file_run

from hudtranslate.cli import main

pytestmark = pytest.mark.timeout(60)


def test_written_and_kept_paths_are_never_wrapped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    wav = fake_file_run(tmp_path, monkeypatch, "会议 录音 with spaces.wav")
    monkeypatch.setenv("COLUMNS", "40")
    out = tmp_path / "my transcripts"
    for _ in range(2):  # the second run moves the first run's files aside and says so
        assert main(["file", str(wav), "--out", str(out)]) == 0
    shown = capsys.readouterr().out.splitlines()
    stem = out / wav.stem
    assert f"wrote {stem}.jsonl, {stem}.srt, {stem}.vtt" in shown
    kept = [line for line in shown if line.startswith("kept the earlier")]
    assert len(kept) == 3 and all(line.endswith((".jsonl", ".srt", ".vtt")) for line in kept)
    assert all(str(out) in line for line in kept)
