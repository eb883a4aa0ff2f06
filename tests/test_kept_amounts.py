"""Prices and a.m./p.m. times of the wearer's English kept in the Chinese
(``translate/kept_amounts.py``), and ``translate_to_chinese`` applying it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
from tests.test_translate_to_chinese import ScriptedBackend

from hudtranslate.translate.kept_amounts import (
    ClockTime,
    clock_times,
    foreign_prices,
    keep_amounts,
)
from hudtranslate.translate.prompts import DRAFT_MESSAGE, SPEECH, PromptSet
from hudtranslate.translate.to_chinese import translate_to_chinese


def test_prices_and_clock_times_are_read_from_the_english() -> None:
    assert foreign_prices("The taxi was $25.50, the tip US$3 and lunch 30 euros.") == [
        (25.5, "美元"), (3.0, "美元"), (30.0, "欧元")]
    assert foreign_prices("£1,280 or 5 bucks or 7 pounds") == [
        (1280.0, "英镑"), (5.0, "美元"), (7.0, "英镑")]
    assert foreign_prices("NT$300, 12 yuan, $ and dollars") == []  # not one we can name
    assert clock_times("at 7.30pm, 9 a.m. or 12 PM; 7:40 and 10 am") == [
        ClockTime(7, 30, True), ClockTime(9, 0, False), ClockTime(12, 0, True),
        ClockTime(10, 0, False)]


@pytest.mark.parametrize(("english", "written", "kept"), [
    ("The taxi was $25.50.", "出租车是25.50元。", "出租车是25.50美元。"),
    ("The taxi was $25.50.", "出租车是25.5块钱。", "出租车是25.5美元。"),
    ("That is $1,280.", "那是1280元。", "那是1280美元。"),
    ("It costs 30 euros.", "这个30元。", "这个30欧元。"),
    ("Meet me at 7.30pm.", "7:30见。", "晚上7:30见。"),
    ("Meet me at 7:30 p.m. tomorrow.", "明天7点半见。", "明天晚上7点半见。"),
    ("See you at 9am.", "9点见。", "上午9点见。"),
    ("Lunch at 12 pm?", "12点吃午饭？", "中午12点吃午饭？"),
    ("The flight lands at 12:40am.", "航班12:40降落。", "航班午夜12:40降落。"),
    ("The flight lands at 4:40 AM.", "航班4点40分降落。", "航班凌晨4点40分降落。"),
    ("We can meet at 7.30pm.", "我们可以在7:30 pm见面。", "我们可以在晚上7:30见面。"),
    ("We can meet at 7.30pm.", "我们可以在晚上7:30 PM见面。", "我们可以在晚上7:30见面。"),
    ("It leaves at 3:15 p.m.", "3点15分出发。", "下午3点15分出发。"),
    ("The 7pm train, platform 7.", "7号站台，7点的火车。", "7号站台，晚上7点的火车。"),
])
def test_a_price_written_as_yuan_or_a_time_without_its_part_of_the_day_is_mended(
        english: str, written: str, kept: str) -> None:
    assert keep_amounts(english, written) == kept


@pytest.mark.parametrize(("english", "written"), [
    ("The taxi was $25.50.", "出租车是25.50美元。"),
    ("I paid $20 and he paid 20 yuan.", "我付了20美元，他付了20元。"),  # both said
    ("It was 12 yuan.", "12元。"),
    ("The bus at 7:40 costs 12 yuan.", "7:40的公交车12元。"),  # no a.m./p.m.: as written
    ("Meet me at 7.30pm.", "晚上7:30见。"),
    ("Meet me at 7.30pm.", "今晚7点半见。"),
    ("Meet me at 7.30pm.", "19:30见。"),  # the 24-hour clock says it already
    ("Meet me at 7.30pm.", "8:30见。"),  # another time: not ours to mend
])
def test_chinese_that_already_says_it_is_left_as_written(english: str, written: str) -> None:
    assert keep_amounts(english, written) == written


class GrowingBackend(ScriptedBackend):
    """Also hands its answer to ``on_text`` as it is written, a character at a time."""

    def translate(self, source: str, context: Sequence[tuple[str, str]], *,
                  forced_prefix: str, max_new_tokens: int, cancelled: Callable[[], bool],
                  on_text: Callable[[str], None] | None = None,
                  prompts: PromptSet = SPEECH) -> str | None:
        answer = super().translate(source, context, forced_prefix=forced_prefix,
                                   max_new_tokens=max_new_tokens, cancelled=cancelled,
                                   prompts=prompts)
        for end in range(1, len(answer or "") + 1):
            if on_text is not None:
                on_text((answer or "")[:end])
        return answer


def test_translate_to_chinese_keeps_prices_and_times_in_speech_and_drafts() -> None:
    backend = GrowingBackend({"The taxi was $25.50.": "出租车是25.50元。",
                               "tell him dinner is at 7.30pm": "晚饭7:30开始。"})
    shown: list[str] = []
    assert translate_to_chinese(backend, "The taxi was $25.50.",
                                on_text=shown.append) == "出租车是25.50美元。"
    assert shown and "元" not in shown[-1].replace("美元", "")  # never shown as yuan
    assert translate_to_chinese(backend, "tell him dinner is at 7.30pm",
                                prompts=DRAFT_MESSAGE) == "晚饭晚上7:30开始。"
