"""Qwen on the en→zh prompt sets, for real: two sentences written for this test (the
wearer's speech with a time and a price, and a dictated message), which must come out
as Chinese with the numbers kept as digits, translated rather than answered."""

from __future__ import annotations

import re
from typing import Any

import pytest

from hudtranslate.translate.prompts import DRAFT_MESSAGE, ENGLISH_SPEECH
from hudtranslate.translate.to_chinese import translate_to_chinese

pytestmark = [pytest.mark.real, pytest.mark.timeout(600)]

HANZI = re.compile(r"[\u4e00-\u9fff]")


def test_english_speech_and_a_drafted_message_come_out_in_chinese(real_engines: Any) -> None:
    speech = translate_to_chinese(
        real_engines.translator, "Could you tell me if the 7:40 bus still costs 12 yuan?",
        prompts=ENGLISH_SPEECH)
    draft = translate_to_chinese(
        real_engines.translator,
        "tell her I'll be 15 minutes late and ask if room 302 is still free",
        prompts=DRAFT_MESSAGE)
    assert speech and draft
    for chinese, numbers in ((speech, ("7:40", "12")), (draft, ("15", "302"))):
        assert len(HANZI.findall(chinese)) >= 5, chinese
        assert all(number in chinese for number in numbers), chinese
        assert not re.search(r"[A-Za-z]{3,}", chinese), chinese  # no English left over
    assert speech.endswith(("？", "吗")), speech  # the question stays a question
    assert not re.search(r"告诉(她|他)", draft), draft  # written to her, not about her


def test_the_wearers_thanks_is_translated_not_answered(real_engines: Any) -> None:
    """Qwen 1.5B had answered "Thank you." with "不客气。" (You're welcome), with or without
    context: the other person was told "you're welcome" for their own help."""
    context = [("Excuse me, do you speak English?", "对不起，您能讲英语吗？"),
               ("I'll bring you a cup of water.", "我帮你倒一杯水。")]
    for english in ("Thank you.", "Thanks a lot."):
        chinese = translate_to_chinese(real_engines.translator, english, context)
        assert chinese and "谢" in chinese and "客气" not in chinese, (english, chinese)


def test_a_dollar_price_and_an_evening_time_keep_their_meaning(real_engines: Any) -> None:
    """Qwen 1.5B wrote "$25.50" as "25.50元" (its one worked price is in yuan) and
    "7.30pm" as "7:30": the other person heard yuan and a morning time
    (``kept_amounts``)."""
    chinese = translate_to_chinese(
        real_engines.translator, "The taxi was $25.50, and we can meet at 7.30pm.")
    assert chinese and "25.5" in chinese and "7" in chinese, chinese
    assert re.search(r"25\.50?\s*美元|美元\s*25\.50?", chinese), chinese
    assert re.search(r"(晚上|傍晚|今晚|下午)\s*7|19[:：]30", chinese), chinese
