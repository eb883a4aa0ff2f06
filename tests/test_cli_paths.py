"""Paths ``file`` prints are whole lines, however narrow the terminal: rich wrapped "wrote
…/会议 录音.jsonl, …" at the space in a file name, so the path a user copies from the
terminal did not exist."""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile

from hudtranslate.cli import main

pytestmark = pytest.mark.timeout(60)


def test_written_and_kept_paths_are_never_wrapped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from hudtranslate.pipeline import Engines
    from hudtranslate.testing import FakeBackend, FakeDecoder, FakeVad, tone_and_silence

    wav = tmp_path / "会议 录音 with spaces.wav"
    soundfile.write(wav, tone_and_silence([(0.3, False), (1.0, True), (0.8, False)]), 16_000)
    monkeypatch.setattr("hudtranslate.runner.load_engines", lambda settings: Engines(
        asr=FakeDecoder(["我们走吧。"], chars_per_s=8.0), translator=FakeBackend(),
        vad_factory=FakeVad))
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
