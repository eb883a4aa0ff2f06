"""The check of a remote model's answer: the translation inside it kept, or the reason why not."""

from __future__ import annotations

import pytest

from hudtranslate.errors import RejectedAnswerError
from hudtranslate.translate.answers import clean_answer, first_line_done, max_answer_chars

ZH = "人们普遍认为这个办法行不通。"
EN = "It is generally believed that this method won't work."


@pytest.mark.parametrize(("answer", "source", "expected"), [
    # good answers are kept as they are, "sure" and "note" inside them too
    (EN, ZH, EN),
    ("I'm not sure it will work.", "我不确定这个会行。", "I'm not sure it will work."),
    ("Make sure you note the time.", "一定要记下时间。", "Make sure you note the time."),
    ("Be sure to read the notes: they explain it.", "一定要看笔记：里面有解释。",
     "Be sure to read the notes: they explain it."),
    ("Sure, I'll be there.", "当然，我会去的。", "Sure, I'll be there."),
    ("OK.", "好的。", "OK."),
    ("Here is the report you asked for.", "这是你要的报告。", "Here is the report you asked for."),
    ("This is a translation agency.", "这是一家翻译公司。", "This is a translation agency."),
    ("Note: the meeting starts at 3.", "注意：会议三点开始。", "Note: the meeting starts at 3."),
    ("The match was intense. The Chinese team won.", "比赛很激烈。中国队赢了。",
     "The match was intense. The Chinese team won."),
    ('He said "go." Then he left.', "他说“走”。然后他走了。", 'He said "go." Then he left.'),
    ("We went to Beijing. 李明 came too.", "我们去了北京。李明也来了。",
     "We went to Beijing. 李明 came too."),
    ("  " + EN + "  \n", ZH, EN),
    # preambles
    (f"Sure! Here is the translation: {EN}", ZH, EN),
    (f"Sure! Here's the translation:\n\n{EN}", ZH, EN),
    (f"Certainly. Here's the English translation of the sentence:\n{EN}", ZH, EN),
    (f"Here is the translation.\n{EN}", ZH, EN),
    (f"Translation: {EN}", ZH, EN),
    (f"English: {EN}", ZH, EN),
    (f"Sure. {EN}", ZH, EN),
    (f"Sure, here you go: {EN}", "当然，" + ZH, EN),
    # quotes around all of it
    (f'"{EN}"', ZH, EN),
    (f"“{EN}”", ZH, EN),
    (f'Here\'s the translation: "{EN[:-1]}".', ZH, EN),
    # notes and explanations after the translation
    (f"{EN} (Note: 行不通 literally means 'cannot get through'.)", ZH, EN),
    (f"{EN}\n\nNote: this is a common saying.", ZH, EN),
    (f"{EN} Note: the tone is informal.", ZH, EN),
    (f"{EN} The phrase 行不通 literally means it cannot pass.", ZH, EN),
    (f"{EN} This is a literal translation.", ZH, EN),
    (f'{EN} "行不通" is a common saying.', ZH, EN),
    (f"{EN} 行不通 means it will not get through.", ZH, EN),
    ("It is generally believed (note: formal) that this won't work.", ZH,
     "It is generally believed that this won't work."),
    (f"Sure! Here's the translation:\n\n\"{EN}\"\n\n(Note: 普遍 means widely.)", ZH, EN),
])
def test_the_translation_inside_is_kept(answer: str, source: str, expected: str) -> None:
    assert clean_answer(answer, source) == expected


@pytest.mark.parametrize(("answer", "source", "reason"), [
    ("", ZH, "empty"),
    (" \n\n ", ZH, "empty"),
    ("Sure! Here's the translation:", ZH, "chatter"),
    ("Sure.", "走吧。", "chatter"),
    ("Here is the English translation:\n\nNote: I kept the tone.", ZH, "chatter"),
    ("I cannot translate this sentence without more context.", ZH, "chatter"),
    ("The translation of this sentence is uncertain.", ZH, "chatter"),
    (" ".join([EN] * 4), ZH, "too_long"),
    ("Let's go. " * 10, "走吧。", "too_long"),
])
def test_an_answer_without_a_clear_translation_is_rejected(answer: str, source: str,
                                                           reason: str) -> None:
    with pytest.raises(RejectedAnswerError) as caught:
        clean_answer(answer, source)
    assert caught.value.reason == reason


def test_the_length_limit_follows_the_source() -> None:
    assert max_answer_chars("你好。") == 8 * 2 + 40
    assert max_answer_chars(ZH) == 8 * 13 + 40
    # glossary terms written in count per letter; the "(Terms: …)" list not at all
    assert max_answer_chars("StarSea今年很好。\n(Terms: 星海 = StarSea)") == 8 * 4 + 2 * 7 + 40
    longest_reference = ("During the reign of Emperor Zhenzong of Song, Li Ruogu passed the "
                         "imperial examination as a jinshi and was appointed sheriff of "
                         "Changshe County.")
    source = "宋真宗时，李若谷举进士，补长社县尉。"
    assert clean_answer(longest_reference, source) == longest_reference


@pytest.mark.parametrize(("streamed", "done"), [
    ("It is generally", False),
    (f"{EN}", False),
    (f"{EN}\n", True),
    ("Sure! Here's the translation:\n", False),
    ("Sure! Here's the translation:\n\n", False),
    (f"Sure! Here's the translation:\n\n{EN}\nNote:", True),
    ("Note: informal.\n", False),
])
def test_a_streamed_answer_is_done_once_its_translation_line_ends(streamed: str,
                                                                   done: bool) -> None:
    assert first_line_done(streamed, ZH) is done
