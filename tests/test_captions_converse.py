"""Captions in a conversation: the wearer's HUD keeps the other person's English, echoes
the wearer's own words in one dim row, and never wraps Chinese as English; the terminal
labels both directions."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from tests.test_hud_layout import assert_lines_fit, frame_of

from hudtranslate.captions import (
    CaptionTrack,
    HudEngine,
    PacingOptions,
    TerminalCaptions,
    get_profile,
    load_font,
    rollup_lines,
)
from hudtranslate.captions.layout import ECHO_MARK, echo_line
from hudtranslate.captions.text import display_width, head_line
from hudtranslate.config import CaptionOptions
from hudtranslate.events import Transcript, Translation

ZH_SAID = "不好意思，我大概会晚到十分钟，请你们先开始吧。"
EN_SAID = "Sorry, I'll be about ten minutes late, please start without me."


def partner(uid: int, chinese: str, english: str, *, final: bool = True,
            t: float = 0.0) -> list[Transcript | Translation]:
    return [Transcript(uid, chinese, "", t, t + 1, final, t + 1),
            Translation(uid, chinese, english, "", t, t + 1, final, t + 1.5)]


def wearer(uid: int, english: str, chinese: str, tentative: str = "", *, final: bool = True,
           draft: bool = False, t: float = 0.0) -> list[Transcript | Translation]:
    return [Transcript(uid, english, "", t, t + 1, final, t + 1, language="en", draft=draft),
            Translation(uid, english, chinese, tentative, t, t + 1, final, t + 1.5,
                        source_language="en", draft=draft)]


def conversation() -> list[Transcript | Translation]:
    return [*partner(0, "你什么时候到？", "When will you arrive?"),
            *wearer(1, EN_SAID, ZH_SAID, t=2.0)]


def test_the_track_keeps_the_directions_apart() -> None:
    track = CaptionTrack()
    for event in conversation():
        track.update(event)
    assert [t.utterance_id for t in track.translations()] == [0]
    assert [t.text for t in track.wearer_translations()] == [ZH_SAID]
    assert track.source() == "你什么时候到？"  # the wearer's English never goes there
    track.update(Transcript(2, "I mean", "", 4.0, 5.0, False, 5.0, language="en"))
    assert track.source() == "你什么时候到？"
    track.update(Transcript(3, "好的", "", 6.0, 7.0, False, 7.0))
    assert track.source() == "好的"


def test_the_wearer_gets_one_dim_echo_row_once_the_chinese_is_final() -> None:
    track = CaptionTrack()
    events = conversation()
    for event in [*events[:2], *wearer(1, "Sorry, I'll", "不好意思，", "我", final=False)]:
        track.update(event)
    assert [line.line.text for line in rollup_lines(track, 42)] == ["When will you arrive?"]
    for event in events[2:]:
        track.update(event)
    lines = rollup_lines(track, 42)
    assert [line.key for line in lines] == [(0, 0), (1, 0)]
    echo = lines[1].line
    assert [span.style for span in echo.spans] == ["tentative"]
    assert echo.text.startswith(ECHO_MARK + "Sorry, I'll be") and echo.text.endswith("…")
    assert display_width(echo.text) <= 42
    assert not any("晚到" in line.line.text for line in lines)


def test_a_draft_says_draft_ready_and_short_echoes_are_whole() -> None:
    draft = wearer(2, "tell her I'll be late", "不好意思，我会晚到。", draft=True)[1]
    assert isinstance(draft, Translation)
    line = echo_line(draft, 42)
    assert line is not None and line.text == "› draft ready: tell her I'll be late"
    said = wearer(3, "See you soon.", "一会儿见。")[1]
    assert isinstance(said, Translation)
    line = echo_line(said, 42)
    assert line is not None and line.text == "› See you soon."
    english = partner(4, "好", "OK")[1]
    assert isinstance(english, Translation) and echo_line(english, 42) is None


@pytest.mark.parametrize("profile", ["rokid", "even-g1", "meta-display"])
def test_hud_frames_show_the_partners_english_and_never_the_wearers_chinese(
        profile: str) -> None:
    frame = frame_of(get_profile(profile), *conversation())
    assert frame.english[0] == "When will you arrive?"
    assert frame.english[-1].startswith(ECHO_MARK)
    assert frame.source == "你什么时候到？"
    assert not any(char in run.text for run in frame.runs for char in "晚钟始")
    assert_lines_fit(frame)


def test_head_line_cuts_at_a_word_and_fits_pixels() -> None:
    assert head_line("short", 42) == "short"
    assert head_line("one two three four", 10) == "one two…"
    assert head_line("abcdefghijklmnop", 6) == "abcde…"
    font = load_font(28)
    line = head_line(EN_SAID, 200, measure=font.measure)
    assert font.measure(line) <= 200 and line.endswith("…")
    assert EN_SAID.startswith(line[:-1])


def test_listen_mode_rows_are_unchanged_by_the_echo_code() -> None:
    engine = HudEngine(get_profile("rokid"), PacingOptions.unpaced())
    for uid in range(3):
        for event in partner(uid, f"句子{uid}", f"Sentence number {uid}.", t=2.0 * uid):
            engine.update(event, event.emitted_s)
    assert engine.frame(10.0).english == ("Sentence number 0.", "Sentence number 1.",
                                          "Sentence number 2.")[-get_profile("rokid").lines:]


def plain_console() -> Console:
    return Console(file=io.StringIO(), force_terminal=False, width=100, color_system=None)


def test_terminal_labels_both_directions_from_the_wearers_first_words() -> None:
    console = plain_console()
    captions = TerminalCaptions(CaptionOptions(), console)
    for event in [*conversation(),
                  *wearer(2, "tell her I'll be late", "不好意思，我会晚到。", draft=True, t=4.0),
                  *partner(3, "没关系。", "No problem.", t=6.0)]:
        captions.update(event)
    captions.close()
    out = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert out == ["When will you arrive?", "你什么时候到？",
                   f"EN→ZH  {ZH_SAID}", EN_SAID,
                   "EN→ZH draft  不好意思，我会晚到。", "tell her I'll be late",
                   "ZH→EN  No problem.", "没关系。"]
    console = plain_console()  # converse mode: labelled from the first sentence on
    labelled = TerminalCaptions(CaptionOptions(show_source=False), console, directions=True)
    for event in [*partner(0, "好", "OK"), *wearer(1, "Thanks.", "谢谢。", t=2.0)]:
        labelled.update(event)
    assert labelled.history() == [] and labelled.outgoing() == "EN→ZH  谢谢。"
    labelled.close()
    out = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert out == ["ZH→EN  OK", "EN→ZH  谢谢。", "Thanks."]  # the wearer's English stays
    console = plain_console()  # `stream` to a converse server: told by its session message
    told = TerminalCaptions(CaptionOptions(show_source=False), console)
    told.label_directions()
    for event in [*partner(0, "好", "OK"), *wearer(1, "Thanks.", "谢谢。", t=2.0)]:
        told.update(event)
    told.close()
    assert console.file.getvalue().splitlines() == out  # type: ignore[attr-defined]


def test_terminal_panel_echoes_and_shows_what_went_to_the_partner() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=100)
    with TerminalCaptions(CaptionOptions(), console) as captions:
        for event in conversation():
            captions.update(event)
        assert captions.outgoing() == f"EN→ZH  {ZH_SAID}"
        rows = [line.text for line in captions.view().english_lines]
        assert rows[0] == "When will you arrive?" and rows[1].startswith(ECHO_MARK)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert ZH_SAID in out and "\x1b[" in out


def test_terminal_prints_english_said_in_listen_mode_once() -> None:
    """English said to the Mandarin recogniser is its own source: the terminal had printed
    "Excuse me, do you speak English?" twice, and a sentence cut after its period with a
    space before it (" Please have your tickets ready")."""
    console = plain_console()
    captions = TerminalCaptions(CaptionOptions(), console)
    for event in [*partner(0, "Excuse me, do you speak English?",
                           "Excuse me, do you speak English?"),
                  *partner(1, "Thank you", "Thank you.", t=2.0),
                  *partner(2, " Please have your tickets ready", "Please have your tickets.",
                           t=4.0)]:
        captions.update(event)
    captions.close()
    out = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert out == ["Excuse me, do you speak English?", "Thank you.",
                   "Please have your tickets.", "Please have your tickets ready"]


def test_english_said_in_listen_mode_has_no_source_line_under_it() -> None:
    """Its source is the same English: the glasses had shown it twice."""
    track = CaptionTrack()
    said = "Excuse me, do you speak English?"
    track.update(Transcript(0, said, "", 0.0, 2.0, True, 2.0))
    assert track.source() == ""
    track.update(Translation(0, said, said, "", 0.0, 2.0, True, 3.0))
    assert track.source() == ""
    track.update(Transcript(1, "好的", "", 3.0, 4.0, False, 4.0))
    assert track.source() == "好的"
