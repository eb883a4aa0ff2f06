"""Spoken Mandarin clean-up and the sentence-continuation rule (pure, table-driven)."""

from __future__ import annotations

import pytest

from hudtranslate.translate.spoken import (
    arabic_numbers,
    clean_spoken,
    continues_sentence,
    only_hesitation,
)


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
    # a question the recogniser left unpunctuated stays a question
    ("比如具体一点，他觉得最大的不同是在什么地方", "比如具体一点，他觉得最大的不同是在什么地方？"),
    ("你去哪儿", "你去哪儿？"),
    ("你知道他在哪儿", "你知道他在哪儿？"),
    ("你说什么", "你说什么？"),
    ("现在几点", "现在几点？"),
    ("我们明天去不去", "我们明天去不去？"),
    ("给妈妈买个礼物好不好呀", "给妈妈买个礼物好不好呀？"),
    ("你去么", "你去么？"),
    ("他想去哪儿", "他想去哪儿？"),
    ("她说了什么", "她说了什么？"),
    ("学校在哪儿", "学校在哪儿？"),
    ("你最近有没有和他联络", "你最近有没有和他联络？"),
    ("你会在这里逗留多久", "你会在这里逗留多久？"),
    ("你觉得跟以前不一样的是什么", "你觉得跟以前不一样的是什么？"),
    ("他没买的是哪一本", "他没买的是哪一本？"),
    # ... but not the words' other uses
    ("汤姆还没对我们说他希望我们买什么呢", "汤姆还没对我们说他希望我们买什么呢"),
    ("我不知道他去哪儿了", "我不知道他去哪儿了"),
    ("我不知道他来不来", "我不知道他来不来"),
    ("什么都可以", "什么都可以"),
    ("谁也不知道", "谁也不知道"),
    ("想吃什么就吃什么", "想吃什么就吃什么"),
    ("这就是为什么我喜欢他", "这就是为什么我喜欢他"),
    ("水果啊蔬菜什么的", "水果啊蔬菜什么的"),
    ("没什么", "没什么"),
    ("他不是什么好人", "他不是什么好人"),
    ("你不用管是什么", "你不用管是什么"),
    ("我没想到是谁", "我没想到是谁"),
    ("哪怕下雨我也去", "哪怕下雨我也去"),
    ("我有几个问题", "我有几个问题"),
    ("他不怎么喜欢", "他不怎么喜欢"),
    ("就这么", "就这么"),
    ("需要什么就给我打电话", "需要什么就给我打电话"),
    ("你不必为我买什么", "你不必为我买什么"),
    ("他对自己没有多少信心", "他对自己没有多少信心"),
    ("谁能赢这场比赛还说不定", "谁能赢这场比赛还说不定"),
    ("让我们看看他怎么做", "让我们看看他怎么做"),
    ("汤姆忘了怎么做", "汤姆忘了怎么做"),
    ("这就是我为什么回来的原因", "这就是我为什么回来的原因"),
    ("她似乎比以往任何时候都漂亮", "她似乎比以往任何时候都漂亮"),
    ("我的天哪", "我的天哪"),
    ("我不太明白你在说甚么", "我不太明白你在说甚么"),
    ("你叫什么名字，", "你叫什么名字，"),  # the sentence goes on
])
def test_clean_spoken(heard: str, cleaned: str) -> None:
    assert clean_spoken(heard) == cleaned


@pytest.mark.parametrize(("heard", "only"), [
    ("呃", True), ("呃。", True), ("呃，呃", True), ("额…", True), (" 呃！", True),
    ("嗯", False),  # said alone, the listener's "mm-hmm": an answer
    ("嗯。", False),
    ("呃，我们走吧", False),
    ("额头", False),
    ("", False),
    ("。", False),
])
def test_only_hesitation(heard: str, only: bool) -> None:
    assert only_hesitation(heard) is only


@pytest.mark.parametrize(("chinese", "speech_continued", "continues"), [
    ("你如果有疑问，", False, True),
    ("我们明天去。", True, False),
    ("你最喜欢哪一个？", False, False),
    ("我上学的时候学的是金融因为", False, True),
    ("但是我们要在", False, True),
    ("我上学的时候", False, True),
    ("这个问题我们已经", False, True),
    ("他觉得这个非常", False, True),
    ("游戏玩家看电影的时候再", False, True),  # an adverb waits for its verb
    ("我们明天也", False, True),
    ("我不想再", False, True),
    ("他们都很喜欢这个", False, False),
    ("这个东西很重要", False, False),
    ("那是很久以前的时候了", False, False),
    ("他今天不来", False, False),
    ("他今天不来", True, True),
    ("他说：“走吧。”", True, False),  # the mark inside the quotation ends the sentence
    ("当然如果是有机会能", False, True),  # a modal verb alone waits for its verb
    ("我们一定要", False, True),
    ("这个可能", False, False),  # 可能 "possible" is a word of its own
    ("我不能", False, False),
    ("这个很重要", False, False),
    ("能", False, False),  # said alone it is an answer: "can"
    ("", True, False),
])
def test_continues_sentence(chinese: str, speech_continued: bool, continues: bool) -> None:
    assert continues_sentence(chinese, speech_continued=speech_continued) is continues


@pytest.mark.parametrize(("said", "written"), [
    ("这件衣服三百五。", "这件衣服350。"),
    ("那台电脑两千三", "那台电脑2,300"),
    ("我的房租一个月一万二。", "我的房租一个月12,000。"),
    ("帮我算一下一百二十加三百五。", "帮我算一下120加350。"),
    ("他去年挣了三万五", "他去年挣了35,000"),
    ("大了两万六千平方公里", "大了26,000平方公里"),
    ("二十多个", "20多个"),
    # left as said: no unit, starts with a unit, vague, too large, round millions, idioms
    ("一个人", "一个人"), ("三心二意", "三心二意"), ("千万别忘了", "千万别忘了"),
    ("万一下雨", "万一下雨"), ("十分感谢", "十分感谢"), ("好几百", "好几百"),
    ("一百多万", "一百多万"), ("三千亿", "三千亿"), ("两三百块", "两三百块"),
    ("九九八十一", "九九八十一"), ("超过一百万美元", "超过一百万美元"), ("一块五", "一块五"),
    ("公元六七年", "公元六七年"), ("三号会议室", "三号会议室"),
])
def test_arabic_numbers(said: str, written: str) -> None:
    assert arabic_numbers(said) == written
