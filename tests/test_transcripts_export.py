"""SRT / WebVTT / JSONL exports, checked by parsing the output back."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from itertools import pairwise

import pytest

from hudtranslate.captions import display_width, min_display_s
from hudtranslate.events import Translation
from hudtranslate.transcripts import (
    TranscriptRecord,
    build_cues,
    format_timestamp,
    to_jsonl,
    to_srt,
    to_vtt,
)

LONG = (
    "This is a rather long sentence that the speaker kept going with, adding detail after "
    "detail about the schedule, the budget, the venue and the guests, so it cannot fit "
    "in a single two-line subtitle cue."
)


def final(start_s: float, end_s: float, en: str, zh: str = "中文", uid: int = 0) -> Translation:
    return Translation(uid, zh, en, "", start_s, end_s, True, end_s, "qwen-test")


@dataclass
class ParsedCue:
    index: int
    start_s: float
    end_s: float
    lines: list[str]


def parse_subtitles(text: str, decimal: str) -> list[ParsedCue]:
    """A small strict SRT/VTT cue parser: index, timing line, text lines, blank line."""
    stamp = rf"(\d{{2,}}):([0-5]\d):([0-5]\d){re.escape(decimal)}(\d{{3}})"
    timing = re.compile(rf"^{stamp} --> {stamp}$")
    assert text == "" or text.endswith("\n\n")
    cues = []
    for block in text.strip("\n").split("\n\n") if text.strip() else []:
        index, times, *lines = block.split("\n")
        match = timing.match(times)
        assert match, times
        h1, m1, s1, f1, h2, m2, s2, f2 = (int(group) for group in match.groups())
        start = h1 * 3600 + m1 * 60 + s1 + f1 / 1000
        end = h2 * 3600 + m2 * 60 + s2 + f2 / 1000
        assert lines and all(line.strip() for line in lines)
        cues.append(ParsedCue(int(index), start, end, lines))
    return cues


def parse_srt(text: str) -> list[ParsedCue]:
    return parse_subtitles(text, ",")


def parse_vtt(text: str) -> list[ParsedCue]:
    """The header and a blank line, then cue blocks separated by blank lines; the last
    block ends the file (webvtt-py writes no blank line after it)."""
    if text == "WEBVTT\n":
        return []
    assert text.startswith("WEBVTT\n\n") and text.endswith("\n") and not text.endswith("\n\n")
    return parse_subtitles(text[len("WEBVTT\n\n") :] + "\n", ".")


def check_cues(cues: list[ParsedCue]) -> None:
    assert [cue.index for cue in cues] == list(range(1, len(cues) + 1))
    for cue in cues:
        assert cue.end_s - cue.start_s >= 0.1 - 1e-9, cue
    for before, after in pairwise(cues):
        assert before.end_s < after.start_s, (before, after)


SESSION = [
    final(0.5, 1.2, "Hello everyone."),
    final(1.3, 2.0, "Welcome to the meeting about the new product launch next month."),
    final(2.05, 2.1, "OK."),  # next starts almost at once
    final(2.12, 6.0, LONG),
    final(7.0, 7.5, "   "),  # empty translation: skipped
    final(3725.25, 3727.0, "An hour later, <b> & </b> tags stay text."),
]


@pytest.mark.parametrize("bilingual", [False, True])
def test_srt_parses_back_with_valid_timing(bilingual: bool) -> None:
    srt = to_srt(SESSION, bilingual=bilingual)
    cues = parse_srt(srt)
    check_cues(cues)
    english = [line for cue in cues for line in cue.lines if not line.startswith("中")]
    assert all(display_width(line) <= 42 for line in english)
    assert all(len([ln for ln in cue.lines if not ln.startswith("中")]) <= 2 for cue in cues)
    assert " ".join(english).split() == " ".join(t.text for t in SESSION).split()
    assert any(line.startswith("中") for cue in cues for line in cue.lines) == bilingual
    assert "01:02:05,250 -->" in srt


def test_vtt_parses_back_and_escapes_markup() -> None:
    vtt = to_vtt(SESSION)
    cues = parse_vtt(vtt)
    check_cues(cues)
    assert len(cues) == len(parse_srt(to_srt(SESSION)))
    # wrapped as plain text (41 columns, one line), escaped afterwards
    assert cues[-1].lines == ["An hour later, &lt;b&gt; &amp; &lt;/b&gt; tags stay text."]
    assert "01:02:05.250 -->" in vtt
    assert to_vtt([]) == "WEBVTT\n"
    assert to_srt([]) == ""


def test_cue_lasts_at_least_reading_time_when_room() -> None:
    text = "Welcome to the meeting about the new product launch next month."
    cues = parse_srt(to_srt([final(10.0, 10.5, text), final(30.0, 31.0, "Next.")]))
    assert cues[0].start_s == 10.0
    assert cues[0].end_s == pytest.approx(10.0 + min_display_s(text), abs=0.001)
    assert cues[1].end_s == pytest.approx(30.0 + 1.0, abs=0.001)  # end_s beats 0.8 s floor


def test_cue_is_cut_short_by_the_next_one_but_keeps_minimum() -> None:
    cues = parse_srt(to_srt([final(1.0, 1.2, "Hi."), final(1.5, 2.5, "There.")]))
    assert cues[0].end_s == pytest.approx(1.499)
    cues = parse_srt(to_srt([final(1.0, 1.01, "Hi."), final(1.02, 2.5, "There.")]))
    assert cues[0].end_s == pytest.approx(1.1)
    assert cues[1].start_s > cues[0].end_s  # pushed later rather than overlapping


def test_long_sentence_is_split_into_consecutive_cues_across_its_span() -> None:
    cues = build_cues([final(2.0, 12.0, LONG)])
    assert len(cues) > 1
    assert cues[0].start_ms == 2000 and cues[-1].end_ms == 12000
    assert all(len(cue.lines) <= 2 for cue in cues)
    for before, after in pairwise(cues):
        assert after.start_ms == before.end_ms + 1
    # shares follow text length: a fuller cue lasts longer than a shorter last cue
    widths = [display_width(" ".join(cue.lines)) for cue in cues]
    durations = [cue.end_ms - cue.start_ms for cue in cues]
    assert (widths[0] > widths[-1]) == (durations[0] > durations[-1])


def test_a_split_sentence_shares_its_words_evenly_between_its_cues() -> None:
    """Shared by wrapped lines, a three-line SRT sentence (its speaker label made it one
    line longer) had left "changed." alone in its second cue."""
    text = ("Wearer (draft): tell her I will be 10 minutes late and ask if the meeting "
            "room changed.")
    cues = build_cues([final(0.0, 6.0, text)])
    assert len(cues) == 2 and all(len(cue.lines) <= 2 for cue in cues)
    assert " ".join(line for cue in cues for line in cue.lines) == text
    widths = [display_width(" ".join(cue.lines)) for cue in cues]
    assert min(widths) > 0.6 * max(widths), [cue.lines for cue in cues]


def test_long_sentence_in_a_tiny_span_still_gets_minimum_per_cue() -> None:
    cues = build_cues([final(2.0, 2.05, LONG), final(2.06, 3.0, "Next.")])
    assert all(cue.end_ms - cue.start_ms >= 100 for cue in cues)
    assert all(b.start_ms > a.end_ms for a, b in pairwise(cues))


def test_unsorted_input_is_timed_in_order() -> None:
    cues = build_cues([final(5.0, 6.0, "Second."), final(1.0, 2.0, "First.")])
    assert [cue.lines for cue in cues] == [("First.",), ("Second.",)]


@pytest.mark.parametrize(
    ("ms", "sep", "expected"),
    [
        (0, ",", "00:00:00,000"),
        (1, ".", "00:00:00.001"),
        (61_001, ",", "00:01:01,001"),
        (3_600_000 * 100 + 5, ".", "100:00:00.005"),
        (-5, ",", "00:00:00,000"),
    ],
)
def test_format_timestamp(ms: int, sep: str, expected: str) -> None:
    assert format_timestamp(ms, sep) == expected


def test_jsonl_round_trip_keeps_chinese_readable() -> None:
    jsonl = to_jsonl(SESSION)
    lines = jsonl.splitlines()
    assert len(lines) == len(SESSION)  # the blank English still has its Chinese
    assert "中文" in jsonl  # ensure_ascii=False
    rows = [json.loads(line) for line in lines]
    assert set(rows[0]) == {"index", "start_s", "end_s", "zh", "en", "model"}
    assert [row["index"] for row in rows] == list(range(1, len(SESSION) + 1))
    records = [TranscriptRecord.from_dict(row) for row in rows]
    assert records[1] == TranscriptRecord(2, 1.3, 2.0, "中文", SESSION[1].text, "qwen-test")
    assert to_jsonl(records) == jsonl
    assert to_srt(records) == to_srt(SESSION)


def test_jsonl_skips_sentences_with_no_text_at_all() -> None:
    assert to_jsonl([final(0, 1, "", zh="  ")]) == ""


@pytest.mark.parametrize(
    "row",
    [
        {"start_s": 0, "end_s": 1, "zh": "", "en": ""},
        {"index": "1", "start_s": 0, "end_s": 1, "zh": "", "en": ""},
        {"index": 1, "start_s": "0", "end_s": 1, "zh": "", "en": ""},
        {"index": 1, "start_s": 0, "end_s": 1, "zh": 5, "en": ""},
        # damage json.loads lets through (NaN, Infinity, 1e300) or no subtitle can carry
        {"index": 1, "start_s": float("nan"), "end_s": 1, "zh": "", "en": ""},
        {"index": 1, "start_s": 0, "end_s": float("inf"), "zh": "", "en": ""},
        {"index": 1, "start_s": 0, "end_s": 1e300, "zh": "", "en": ""},
        {"index": 1, "start_s": -3, "end_s": 1, "zh": "", "en": ""},
    ],
)
def test_record_from_bad_dict_names_the_field(row: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="must be"):
        TranscriptRecord.from_dict(row)


def test_bilingual_split_sentence_shows_chinese_with_its_first_cue() -> None:
    cues = build_cues([final(0.0, 10.0, LONG, zh="很长的一句话")], bilingual=True)
    assert len(cues) > 1
    assert cues[0].lines[-1] == "很长的一句话"
    assert all("很长的一句话" not in cue.lines for cue in cues[1:])


def test_times_past_99_hours_are_written() -> None:
    """A session left running for days: hours grow past two digits (webvtt-py >= 0.6)."""
    late = [final(360_000.0, 360_001.5, "Still here.")]
    assert "100:00:00,000 --> 100:00:01,500" in to_srt(late)
    assert parse_vtt(to_vtt(late))[0].start_s == 360_000.0


@pytest.mark.parametrize(("english", "shown"), [
    # the model ended the sentence before ("…ask Tom" + ". He might be late…")
    (". He might be late, and then we'll have to wait.",
     "He might be late, and then we'll have to wait."),
    (", and then we wait.", "and then we wait."),
    ("... then left.", "then left."),
    ("He left.", "He left."),
])
def test_a_cue_does_not_start_with_the_mark_that_ended_the_sentence_before(
        english: str, shown: str) -> None:
    sentences = [final(0.0, 2.0, "If you have a question, ask Tom", uid=0),
                 final(2.0, 5.0, english, uid=1)]
    cues = parse_srt(to_srt(sentences))
    assert " ".join(cues[1].lines) == shown
    assert " ".join(parse_vtt(to_vtt(sentences))[1].lines) == shown
    jsonl = [json.loads(line) for line in to_jsonl(sentences).splitlines()]
    assert jsonl[1]["en"] == english  # the transcript keeps the English as written


def test_a_sentence_that_is_only_a_mark_gets_no_cue() -> None:
    sentences = [final(0.0, 2.0, "We went there", uid=0), final(2.0, 3.0, ".", uid=1)]
    assert len(parse_srt(to_srt(sentences))) == 1


def test_bilingual_shows_english_said_in_listen_mode_once() -> None:
    """English said to the Mandarin recogniser is its own source: a bilingual export had
    shown "Excuse me, do you speak English?" twice in one cue."""
    cues = build_cues([final(0.0, 2.0, "Excuse me, do you speak English?",
                             zh="Excuse me, do you speak English?"),
                       final(2.5, 3.5, "Thank you.", zh="Thank you"),
                       final(4.0, 6.0, "The boring begins at 9:20.", zh="boring will begin at 920"),
                       final(6.5, 8.0, "Let's go.", zh="咱去吃饭吧")], bilingual=True)
    assert [cue.lines for cue in cues] == [
        ("Excuse me, do you speak English?",), ("Thank you.",),
        ("The boring begins at 9:20.", "boring will begin at 920"), ("Let's go.", "咱去吃饭吧")]
