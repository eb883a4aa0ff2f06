"""Spoken Mandarin clean-up and the sentence-continuation rule (pure, table-driven)."""

from __future__ import annotations

import pytest

from hudtranslate.translate.spoken import clean_spoken, continues_sentence


@pytest.mark.parametrize(("heard", "cleaned"), [
    ("嗯，我觉得可以。", "我觉得可以。"),
    ("呃呃我们明天去吧", "我们明天去吧"),
    ("啊，那我们走吧", "那我们走吧"),
    ("他说，额，这个不行", "他说，这个不行"),
    ("这这个问题很难", "这个问题很难"),
    ("我我我不知道", "我不知道"),
    ("就是就是说他不来", "就是说他不来"),
    ("你能来吗", "你能来吗？"),
    ("你能来吗？", "你能来吗？"),
    # real doubled words and word boundaries are left alone
    ("妈妈谢谢你，我们看看吧", "妈妈谢谢你，我们看看吧"),
    ("对对方有有效的帮助", "对对方有有效的帮助"),
    ("金额是三百", "金额是三百"),
    ("我不太能喝酒，", "我不太能喝酒，"),
    ("嗯", "嗯"),  # nothing would be left: unchanged
])
def test_clean_spoken(heard: str, cleaned: str) -> None:
    assert clean_spoken(heard) == cleaned


@pytest.mark.parametrize(("chinese", "speech_continued", "continues"), [
    ("你如果有疑问，", False, True),
    ("我们明天去。", True, False),
    ("你最喜欢哪一个？", False, False),
    ("我上学的时候学的是金融因为", False, True),
    ("但是我们要在", False, True),
    ("他今天不来", False, False),
    ("他今天不来", True, True),
    ("", True, False),
])
def test_continues_sentence(chinese: str, speech_continued: bool, continues: bool) -> None:
    assert continues_sentence(chinese, speech_continued=speech_continued) is continues
