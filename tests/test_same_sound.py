"""Same-sound repair of recognised Mandarin (``asr/same_sound.py``), with jieba's real
word-frequency dictionary. The sentences are written for these tests: each misspelt word
has the right word's toneless pinyin."""

import pytest

from hudtranslate.asr.same_sound import SameSoundRepair, same_sound_repair


@pytest.fixture(scope="module")
def repairer() -> SameSoundRepair:
    return same_sound_repair()


@pytest.mark.parametrize(("heard", "meant"), [
    ("他在学校学习计算机科血。", "他在学校学习计算机科学。"),
    ("这个问题很负杂。", "这个问题很复杂。"),
    ("我们明天去参观博物管。", "我们明天去参观博物馆。"),
    ("我对这件事情不感性趣。", "我对这件事情不感兴趣。"),
    ("他们正在讨论环境保户的问题。", "他们正在讨论环境保护的问题。"),
    # two repairs in one sentence, text that is not Chinese around them kept
    ("OK，这个问题很负杂，我们去参观博物管吧", "OK，这个问题很复杂，我们去参观博物馆吧"),
])
def test_words_written_with_other_characters_of_their_sound_are_repaired(
        repairer: SameSoundRepair, heard: str, meant: str) -> None:
    assert repairer.repair(heard) == meant


@pytest.mark.parametrize("correct", [
    "请把窗户关上，外面很冷。",
    "他的电话号码是多少？",
    "你今天吃饭了吗？",
    "她是一位很有名的医生。",
    "我想买一张去上海的火车票。",
    "春节的时候大家都放鞭炮。",
    "菜里盐放多了，太咸。",  # 太咸 "too salty" is no word, but 苔藓 "moss" gains too little
    "Tom说他可以通灵。",
    "汤姆和玛丽都很和蔼，对吗？",
    "",
    "Hello, world! 123",
])
def test_correct_text_is_kept(repairer: SameSoundRepair, correct: str) -> None:
    assert repairer.repair(correct) == correct


def test_a_small_gain_is_not_enough(repairer: SameSoundRepair) -> None:
    """A stretch that is no word but whose same-sound word adds only a little stays:
    with a margin of 1 nat 太咸 "too salty" would become 苔藓 "moss"."""
    eager = SameSoundRepair(repairer._tokenizer, margin=1.0)
    assert eager.repair("菜里盐放多了，太咸。") != "菜里盐放多了，太咸。"
    assert repairer.repair("菜里盐放多了，太咸。") == "菜里盐放多了，太咸。"


def test_the_text_keeps_its_length(repairer: SameSoundRepair) -> None:
    heard = "我对这件事情不感性趣。他在学校学习计算机科血"
    assert len(repairer.repair(heard)) == len(heard)


def test_a_margin_must_be_positive(repairer: SameSoundRepair) -> None:
    with pytest.raises(ValueError, match="> 0 nats"):
        SameSoundRepair(repairer._tokenizer, margin=0.0)
