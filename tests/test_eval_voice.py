"""``bench --voice``: the sentences, the scoring normalisation, and the report plumbing (the
measurement itself runs the real voice and Whisper: ``hudtranslate bench --voice``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hudtranslate.cli import main
from hudtranslate.errors import DataError
from hudtranslate.eval.voice import bench_sentences, normalise, summarise, voice_targets


def test_twenty_sentences_each_with_a_number() -> None:
    sentences = bench_sentences()
    assert len(sentences) == 20 == len(set(sentences))
    assert all(any(char.isdigit() for char in text) for text in sentences)
    kinds = {"time": ":", "price": "$", "phone": "-", "percent": "%"}
    for kind, mark in kinds.items():
        assert any(mark in text for text in sentences), kind


def test_bad_sentence_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read"):
        bench_sentences(tmp_path / "missing.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("# only a comment\n\n", encoding="utf-8")
    with pytest.raises(DataError, match="no sentences"):
        bench_sentences(empty)


@pytest.mark.parametrize(("meant", "heard"), [
    ("Your train leaves at 5:30 pm.", "Your train leaves at 5.30 p.m."),
    ("It costs $12.99 today.", "It costs twelve dollars and ninety-nine cents today"),
    ("Call 138-1234-5678.", "Call 138 1234 5678."),
    ("It's 31°C.", "it's thirty-one degrees Celsius"),
])
def test_normalise_makes_the_same_words_equal(meant: str, heard: str) -> None:
    assert normalise(meant) == normalise(heard)


def test_normalise_keeps_real_differences() -> None:
    assert normalise("at 5:30 pm") != normalise("at 5:13 pm")
    assert normalise("Hello, World!") == "hello world"


def row(text: str, heard: str, rtf: float) -> dict[str, Any]:
    return {"text": text, "heard": heard, "audio_s": 2.0, "real_time_factor": rtf,
            "cpu_real_time_factor": rtf / 2, "wer": 0.0}


def test_summary_and_targets() -> None:
    items = [row("one two three four", "one two three four", 0.1),
             row("five six seven eight", "five six seven eighty", 0.2),
             row("nine ten", "nine ten", 0.5)]
    summary = summarise(items)
    assert summary["wer"] == pytest.approx(1 / 10)
    assert summary["real_time_factor_median"] == 0.2 and summary["real_time_factor_max"] == 0.5
    assert summary["sentences_heard_exactly"] == 2 and summary["audio_s"] == 6.0
    targets = voice_targets(summary)
    assert targets["voice real_time_factor_median"]["met"] is True
    assert targets["voice wer"]["met"] is True  # 0.1 is within "<= 0.1"


def test_bench_voice_writes_its_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    items = [row("Hello 5 pm.", "Hello 5 p.m.", 0.12)]
    fake = {"summary": summarise(items), "items": items,
            "targets": voice_targets(summarise(items))}
    monkeypatch.setattr("hudtranslate.eval.voice.run_voice_bench",
                        lambda settings, **_: fake)
    assert main(["bench", "--voice", "--out-dir", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["voice"]["summary"]["wer"] == 0.0
    assert report["targets"]["voice wer"]["met"] is True
    markdown = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "## Voice (English, one thread)" in markdown and "Hello 5 p.m." in markdown
