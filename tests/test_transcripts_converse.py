"""Transcripts of a conversation: records say which way each sentence went, old records
still load, and the SRT/WebVTT exports mark the speaker (checked with srt and webvtt-py,
and through ``hudtranslate transcripts export``)."""

from __future__ import annotations

import io
import json
from itertools import pairwise
from pathlib import Path

import pytest
import srt
import webvtt

from hudtranslate.captions import display_width, min_display_s
from hudtranslate.cli import main
from hudtranslate.events import Translation
from hudtranslate.transcripts import (
    SessionStore,
    TranscriptRecord,
    TranscriptWriter,
    build_cues,
    read_transcript,
    to_jsonl,
    to_srt,
    to_vtt,
)

CONVERSATION = [
    Translation(0, "你什么时候到？", "When will you arrive?", "", 0.4, 1.6, True, 2.2, "qwen"),
    Translation(1, "I'm stuck in traffic on the ring road, so I'll be there in about "
                   "twenty minutes or so.", "我在环路上堵车了，大概二十分钟后到。", "", 2.5, 6.8,
                True, 7.5, "qwen", source_language="en"),
    Translation(2, "tell her I'll be ten minutes late", "不好意思，我会晚到十分钟。", "",
                7.0, 7.0, True, 8.1, "qwen", source_language="en", draft=True),
    Translation(3, "没关系，慢慢来。", "No problem, take your time.", "", 9.0, 10.5, True, 11.0,
                "qwen"),
]


def test_records_carry_the_direction_and_both_languages() -> None:
    records = [TranscriptRecord.from_translation(t, n) for n, t in enumerate(CONVERSATION, 1)]
    wearer = records[1]
    assert (wearer.source_language, wearer.target_language, wearer.draft) == ("en", "zh", False)
    assert wearer.zh == "我在环路上堵车了，大概二十分钟后到。" and wearer.en.startswith("I'm stuck")
    assert (records[2].speaker, records[2].draft) == ("Wearer", True)
    assert records[0].speaker == "Partner"
    lines = [json.loads(record.to_json()) for record in records]
    assert lines[1]["source_language"] == "en" and lines[1]["target_language"] == "zh"
    assert lines[2]["draft"] is True
    # the other person's sentences are written exactly as before conversations existed
    assert list(lines[0]) == ["index", "start_s", "end_s", "zh", "en", "model"]
    assert [TranscriptRecord.from_dict(line) for line in lines] == records


def test_old_records_load_as_the_other_persons_mandarin() -> None:
    old = {"index": 1, "start_s": 0.0, "end_s": 1.0, "zh": "你好", "en": "Hello", "model": "m"}
    record = TranscriptRecord.from_dict(old)
    assert (record.source_language, record.target_language, record.draft) == ("zh", "en", False)


@pytest.mark.parametrize(("fields", "named"), [
    ({"source_language": "fr"}, "source_language"),
    ({"source_language": 1}, "source_language"),
    ({"source_language": "en", "target_language": "en"}, "target_language"),
    ({"source_language": "en", "draft": "yes"}, "draft"),
])
def test_bad_direction_fields_name_the_field(fields: dict[str, object], named: str) -> None:
    row = {"index": 1, "start_s": 0.0, "end_s": 1.0, "zh": "好", "en": "OK", **fields}
    with pytest.raises(ValueError, match=named):
        TranscriptRecord.from_dict(row)


def test_srt_names_the_speaker_of_each_sentence() -> None:
    cues = list(srt.parse(to_srt(CONVERSATION, bilingual=True)))
    assert all(a.end <= b.start for a, b in pairwise(cues))
    firsts = [cue.content.split("\n")[0] for cue in cues]
    assert firsts[0] == "Partner: When will you arrive?"
    assert firsts[1].startswith("Wearer: I'm stuck in traffic")
    assert any(first.startswith("Wearer (draft): tell her") for first in firsts)
    assert firsts[-1] == "Partner: No problem, take your time."
    text = "\n".join(cue.content for cue in cues)
    assert "我在环路上堵车了" in text and "不好意思，我会晚到十分钟。" in text
    for cue in build_cues(CONVERSATION, label_speakers=True):
        assert all(display_width(line) <= 42 for line in cue.lines)


def test_vtt_marks_each_cue_with_a_voice_span() -> None:
    captions = list(webvtt.from_buffer(io.StringIO(to_vtt(CONVERSATION))))
    voices = [caption.voice for caption in captions]
    assert voices[0] == "Partner" and voices[-1] == "Partner"
    assert set(voices[1:-1]) == {"Wearer"}
    drafted = [c for c in captions if c.raw_text.startswith("<v.draft Wearer>")]
    assert len(drafted) == 1 and drafted[0].text == "tell her I'll be ten minutes late"
    assert not any("Wearer:" in caption.text for caption in captions)  # the span says it


def test_drafts_typed_before_any_audio_stay_up_long_enough_to_read() -> None:
    """Typed drafts have no span (start = end = the audio so far: 0 s before any audio);
    they were squeezed to 0.1 s cues by the next one starting at the same moment."""
    def typed(uid: int, english: str, at_s: float = 0.0) -> Translation:
        return Translation(uid, english, "好的。", "", at_s, at_s, True, at_s + 1, "qwen",
                           source_language="en", draft=True)

    heard = Translation(3, "没关系。", "No problem.", "", 0.4, 1.6, True, 2.2, "qwen")
    later = Translation(5, "好。", "Fine.", "", 30.0, 31.0, True, 31.5, "qwen")
    sentences = [typed(0, "tell her I'll be ten minutes late"), typed(1, "and save me a seat"),
                 heard, typed(4, "thank you", at_s=29.9), later]
    for text, parse in ((to_srt(sentences), _srt_times), (to_vtt(sentences), _vtt_times)):
        times = parse(text)
        assert len(times) == len(sentences)
        assert all(a_end < b_start for (_, a_end), (b_start, _) in pairwise(times))
        for (start, end), sentence in zip(times, sentences, strict=True):
            english = sentence.source if sentence.draft else sentence.text
            assert end - start >= min_display_s(english) - 0.001, sentence
        assert times[2][0] > 0.4 and times[-1][0] > 30.0  # pushed later, not overlapped


def _srt_times(text: str) -> list[tuple[float, float]]:
    return [(cue.start.total_seconds(), cue.end.total_seconds()) for cue in srt.parse(text)]


def _vtt_times(text: str) -> list[tuple[float, float]]:
    return [(caption.start_time.in_milliseconds() / 1000,
             caption.end_time.in_milliseconds() / 1000)
            for caption in webvtt.from_buffer(io.StringIO(text))]


def test_one_speaker_sessions_have_no_speaker_marks() -> None:
    listen = [CONVERSATION[0], CONVERSATION[3]]
    assert "<v " not in to_vtt(listen) and "Partner" not in to_srt(listen)
    assert to_srt(listen).split("\n")[2] == "When will you arrive?"


def test_a_stored_conversation_exports_through_the_cli(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = SessionStore(tmp_path)
    recorder = store.open(client="test")
    for translation in CONVERSATION:
        recorder.handle(translation)
    recorder.finish("completed")
    assert [r.source_language for r in read_transcript(recorder.path)] == ["zh", "en", "en",
                                                                           "zh"]
    assert main(["transcripts", "export", recorder.session_id, "--format", "jsonl",
                 "--data-dir", str(tmp_path)]) == 0
    exported = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line.get("source_language", "zh") for line in exported] == ["zh", "en", "en", "zh"]
    assert main(["transcripts", "export", recorder.session_id, "--format", "vtt",
                 "--data-dir", str(tmp_path)]) == 0
    assert "<v Wearer>I'm stuck" in capsys.readouterr().out
    writer = TranscriptWriter(tmp_path / "again.jsonl")  # appending continues numbering
    writer.append(CONVERSATION[2])
    writer.close()
    assert to_jsonl(read_transcript(tmp_path / "again.jsonl")).count('"draft": true') == 1
