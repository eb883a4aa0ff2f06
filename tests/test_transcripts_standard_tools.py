"""Exports open in the standard subtitle tools (srt, webvtt-py, and ffmpeg where present)."""

from __future__ import annotations

import itertools
import subprocess
from pathlib import Path

import pytest
import srt
import webvtt

from hudtranslate.captions.replay import find_ffmpeg
from hudtranslate.events import Translation
from hudtranslate.transcripts import to_srt, to_vtt

SENTENCES = [
    Translation(0, "会议在三号会议室举行。", "The meeting is in Room 3.", "", 0.25, 2.4, True, 3.1),
    Translation(1, "你如果有疑问，", "If you have questions,", "", 2.9, 4.0, True, 4.8),
    Translation(2, "就问汤姆吧。", "just ask Tom.", "", 4.1, 5.2, True, 6.0),
    Translation(3, "长句子" * 10,
                "This is a deliberately long sentence that has to be split over more than "
                "one cue because two lines of forty-two characters cannot hold all of it.",
                "", 6.0, 12.0, True, 13.0),
]


def test_srt_parses_with_the_srt_library() -> None:
    cues = list(srt.parse(to_srt(SENTENCES)))
    assert len(cues) >= len(SENTENCES)
    assert cues[0].content.startswith("The meeting is in Room 3.")
    assert all(c.start < c.end for c in cues)
    assert all(a.end <= b.start for a, b in itertools.pairwise(cues))
    assert "Tom" in " ".join(c.content for c in cues)


def test_vtt_parses_with_webvtt_py(tmp_path: Path) -> None:
    path = tmp_path / "talk.vtt"
    path.write_text(to_vtt(SENTENCES, bilingual=True), encoding="utf-8")
    captions = webvtt.read(str(path))
    assert len(captions) >= len(SENTENCES)
    assert captions[0].start == "00:00:00.250"
    assert "会议在三号会议室举行" in captions[0].text


def test_ffmpeg_converts_srt_to_vtt(tmp_path: Path) -> None:
    ffmpeg = find_ffmpeg()
    if ffmpeg is None:
        pytest.skip("no ffmpeg (install Debian ffmpeg or imageio-ffmpeg)")
    source = tmp_path / "talk.srt"
    source.write_text(to_srt(SENTENCES), encoding="utf-8")
    target = tmp_path / "converted.vtt"
    subprocess.run([ffmpeg, "-loglevel", "error", "-y", "-i", str(source), str(target)],
                   check=True, timeout=60)
    assert "The meeting is in Room 3." in target.read_text(encoding="utf-8")
