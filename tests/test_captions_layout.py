"""Caption text rules: width, wrapping, layout/scrolling, pacing and the terminal view."""



from __future__ import annotations

import io
from itertools import pairwise

import pytest
from rich.console import Console

from hudtranslate.captions import (
    CaptionSpan,
    TerminalCaptions,
    display_width,
    layout_caption,
    min_display_s,
    render,
    tail_line,
    wrap_text,
)
from hudtranslate.config import CaptionOptions
from hudtranslate.events import Transcript, Translation

CLOSING = "，。！？、」"


def words_of(lines: list[str]) -> list[str]:
    return " ".join(lines).split()


# --- width -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "width"),
    [
        ("", 0),
        ("hello", 5),
        ("你好", 4),
        ("你好，world！", 4 + 2 + 5 + 2),
        ("ＡＢ", 4),  # fullwidth Latin
        ("e\u0301", 1),  # combining accent takes no column
        ("10:30 $3.50", 11),
    ],
)
def test_display_width(text: str, width: int) -> None:
    assert display_width(text) == width


# --- wrapping ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_wrap_empty_input_gives_no_lines(text: str) -> None:
    assert wrap_text(text, 42) == []


def test_wrap_long_sentence_keeps_words_whole_and_lines_short() -> None:
    text = (
        "The delegation from Shanghai will arrive tomorrow morning and we need to prepare "
        "the conference room, the projector and enough coffee for everyone attending."
    )
    lines = wrap_text(text, 42)
    assert len(lines) > 2
    assert all(display_width(line) <= 42 for line in lines)
    assert words_of(lines) == text.split()
    # greedy: the next line's first word would not have fitted on the line before
    for before, after in pairwise(lines):
        assert display_width(before) + 1 + display_width(after.split()[0]) > 42


def test_wrap_hard_breaks_only_a_word_longer_than_a_line() -> None:
    word = "Pneumonoultramicroscopicsilicovolcanoconiosis"  # 45 letters
    lines = wrap_text(f"a {word} b", 20)
    assert all(display_width(line) <= 20 for line in lines)
    assert "".join(lines).replace(" ", "") == f"a{word}b"
    assert lines[0] == "a"  # the long word starts on its own line
    assert lines[1] == word[:20]


@pytest.mark.parametrize("token", ["10:30", "$3.50", "3.14159", "1,000,000", "U.S.", "e-mail"])
def test_wrap_never_splits_numbers_or_punctuated_tokens(token: str) -> None:
    for width in range(10, 20):
        for prefix in ("", "x", "ab cd", "我们在"):
            lines = wrap_text(f"{prefix} meet at {token} today", width)
            assert any(token in line for line in lines), (width, prefix, lines)


def test_wrap_numbers_inside_chinese_stay_whole() -> None:
    text = "会议在10:30开始，门票$3.50一张，共1,000张。"
    for width in range(10, 30):
        lines = wrap_text(text, width)
        assert "".join(lines) == text
        joined_tokens = ["10:30", "$3.50", "1,000"]
        for token in joined_tokens:
            assert any(token in line for line in lines), (width, lines)
        assert all(display_width(line) <= width for line in lines)


def test_wrap_chinese_breaks_between_characters_and_loses_nothing() -> None:
    text = "我们明天上午十点在三楼的会议室开会然后一起去吃午饭"
    lines = wrap_text(text, 10)
    assert "".join(lines) == text
    assert all(display_width(line) == 10 for line in lines[:-1])  # 5 characters each


def test_wrap_keeps_closing_punctuation_off_line_start() -> None:
    text = "你好，我是小王。你呢？他说：「好的」、「行」！真的吗？是的。"
    for width in range(8, 24):  # narrower than one unbreakable group forces a hard break
        lines = wrap_text(text, width)
        assert "".join(lines) == text
        for line in lines[1:]:
            assert line[0] not in CLOSING, (width, lines)


def test_wrap_mixed_chinese_and_english() -> None:
    text = "我用iPhone给John Smith打电话，他说OK。"
    lines = wrap_text(text, 10)
    assert all(display_width(line) <= 10 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    for word in ("iPhone", "John", "Smith", "话，", "OK。"):
        assert any(word in line for line in lines), lines


def test_tail_line_shows_the_newest_words() -> None:
    text = "我们明天上午十点在三楼的会议室开会然后一起去吃午饭"
    tail = tail_line(text, 20)
    assert tail.startswith("…")
    assert text.endswith(tail[1:])
    assert display_width(tail) <= 20
    assert tail_line("短句", 20) == "短句"
    assert tail_line("", 20) == ""


# --- layout ------------------------------------------------------------------------------

OPTIONS = CaptionOptions(max_chars_per_line=20, max_lines=2, show_source=False)


def test_layout_scrolls_older_lines_off_the_top() -> None:
    committed = "one two three four five six seven eight nine ten eleven twelve"
    view = layout_caption(committed, "", "", OPTIONS)
    all_lines = wrap_text(committed, 20)
    assert len(all_lines) > 2
    assert [line.text for line in view.lines] == all_lines[-2:]
    assert all(span.style == "committed" for line in view.lines for span in line.spans)


def test_layout_tentative_style_starts_exactly_at_the_boundary() -> None:
    view = layout_caption("We will meet", "at ten tomorrow", "", OPTIONS)
    assert [line.text for line in view.lines] == ["We will meet at ten", "tomorrow"]
    assert view.lines[0].spans == (
        CaptionSpan("We will meet", "committed"),
        CaptionSpan(" at ten", "tentative"),
    )
    assert view.lines[1].spans == (CaptionSpan("tomorrow", "tentative"),)


@pytest.mark.parametrize(("committed", "tentative", "lines"), [
    # the model ended the sentence of the utterance before: the mark stays with it
    (". He might be late", "", ["He might be late"]),
    (", and then", "we wait", ["and then we wait"]),
    ("", ". He might", ["He might"]),
    ("He left.", "", ["He left."]),
])
def test_an_utterances_line_does_not_start_with_the_mark_of_the_one_before(
        committed: str, tentative: str, lines: list[str]) -> None:
    view = layout_caption(committed, tentative, "", OPTIONS)
    assert [line.text for line in view.lines] == lines


def test_layout_hard_broken_word_keeps_each_part_style() -> None:
    options = CaptionOptions(max_chars_per_line=10, max_lines=5, show_source=False)
    view = layout_caption("abcdefgh", "ijklmnopqrstu", "", options)
    styles = [(span.text, span.style) for line in view.lines for span in line.spans]
    assert styles[0] == ("abcdefgh", "committed")
    assert "".join(text for text, style in styles if style == "tentative").strip() == (
        "ijklmnopqrstu"
    )


def test_layout_committed_lines_do_not_move_when_tentative_changes() -> None:
    options = CaptionOptions(max_chars_per_line=20, max_lines=3, show_source=False)
    first = layout_caption("The meeting starts", "at ten", "", options)
    second = layout_caption("The meeting starts", "at half past ten today", "", options)
    assert first.lines[0].spans[0] == second.lines[0].spans[0]


def test_layout_adds_one_source_line_at_the_bottom() -> None:
    options = CaptionOptions(max_chars_per_line=20, max_lines=2, show_source=True)
    source = "我们明天上午十点在三楼的会议室开会然后一起去吃午饭"
    view = layout_caption("Tomorrow at ten", "", source, options)
    assert [line.is_source for line in view.lines] == [False, True]
    assert view.lines[-1].spans[0].style == "source"
    assert source.endswith(view.lines[-1].text.lstrip("…"))
    assert display_width(view.lines[-1].text) <= 20
    assert len(layout_caption("Hi", "", "   ", options).lines) == 1
    hidden = CaptionOptions(max_chars_per_line=20, show_source=False)
    assert not layout_caption("Hi", "", source, hidden).source_lines


def test_layout_empty_everything_is_an_empty_view() -> None:
    assert layout_caption("", "  ", "", CaptionOptions()).lines == ()


# --- pacing ------------------------------------------------------------------------------


def test_min_display_s_is_reading_time_clamped() -> None:
    assert min_display_s("") == 0.8
    assert min_display_s("Hi.") == 0.8
    assert min_display_s("x" * 34) == pytest.approx(2.0)
    assert min_display_s("x" * 1000) == 7.0
    assert min_display_s("中" * 17) == pytest.approx(2.0)  # 2 columns each
    with pytest.raises(ValueError):
        min_display_s("x", chars_per_s=0)


# --- terminal ----------------------------------------------------------------------------


def plain_console(width: int = 80) -> Console:
    return Console(file=io.StringIO(), force_terminal=False, width=width, color_system=None)


def translation(uid: int, committed: str, tentative: str = "", final: bool = False) -> Translation:
    return Translation(uid, f"源{uid}", committed, tentative, uid, uid + 1, final, uid + 1)


def test_render_draws_a_fixed_size_panel() -> None:
    options = CaptionOptions()
    console = plain_console()
    view = layout_caption("Hello there", "friend", "你好朋友", options)
    console.print(render(view, options, history=["Earlier sentence."]))
    out = console.file.getvalue()  # type: ignore[attr-defined]
    rows = out.splitlines()
    assert rows[0] == "Earlier sentence."
    panel = rows[1:]
    assert len(panel) == options.max_lines + 1 + 2
    assert {display_width(row) for row in panel} == {options.max_chars_per_line + 4}
    assert "Hello there friend" in out and "你好朋友" in out
    console = plain_console()
    console.print(render(layout_caption("", "", "", options), options))
    assert len(console.file.getvalue().splitlines()) == len(panel)  # type: ignore[attr-defined]


def test_terminal_shows_transcript_until_translation_exists() -> None:
    captions = TerminalCaptions(CaptionOptions(), plain_console())
    captions.update(Transcript(1, "你好", "世界", 0.0, 1.0, False, 1.0))
    assert [line.text for line in captions.view().lines] == ["你好世界"]
    captions.update(translation(1, "Hello", "world"))
    assert [line.text for line in captions.view().lines] == ["Hello world", "源1"]
    captions.update(translation(1, "Hello world.", final=True))
    captions.update(Transcript(2, "再见", "", 2.0, 3.0, False, 3.0))
    # English of utterance 1 stays up; the Chinese line already follows utterance 2
    assert [line.text for line in captions.view().lines] == ["Hello world.", "再见"]
    captions.update(translation(2, "Goodbye"))
    # roll-up, like the HUD: the new utterance starts a new line below the last one
    assert [line.text for line in captions.view().lines] == ["Hello world.", "Goodbye", "源2"]
    assert captions.history() == []  # still in the panel
    captions.close()
    captions.close()


def test_terminal_history_keeps_last_few_finals() -> None:
    captions = TerminalCaptions(CaptionOptions(), plain_console(), history_lines=2)
    for uid in range(1, 30):
        captions.update(translation(uid, f"Sentence {uid}.", final=True))
    # the panel rolls up the last three; history holds those that scrolled out of it
    assert [line.text for line in captions.view().english_lines] == [
        "Sentence 27.", "Sentence 28.", "Sentence 29."]
    assert captions.history() == ["Sentence 25.", "Sentence 26."]
    captions.close()


def test_terminal_without_a_terminal_prints_each_final_once() -> None:
    console = plain_console()
    captions = TerminalCaptions(CaptionOptions(), console)
    captions.update(translation(1, "Hel", "lo"))
    captions.update(translation(1, "Hello.", final=True))
    captions.update(translation(1, "Hello.", final=True))
    captions.close()
    assert console.file.getvalue() == "Hello.\n源1\n"  # type: ignore[attr-defined]


def test_terminal_live_redraws_on_a_terminal() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=80)
    with TerminalCaptions(CaptionOptions(), console) as captions:
        captions.update(translation(1, "Good", "morning"))
        captions.update(translation(1, "Good morning.", final=True))
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert "Good morning." in out
    assert "\x1b[" in out  # cursor control: the panel was redrawn in place
