"""Same-sound repair of recognised Mandarin (``asr/same_sound.py``), with jieba's real
word-frequency dictionary. The sentences are written for these tests: each misspelt word
has the right word's toneless pinyin."""

from collections.abc import Sequence

import pytest

from hudtranslate.asr.same_sound import (
    MOST_JUDGED,
    SameSoundRepair,
    repair_by_ear,
    same_sound_repair,
)


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


class Ear:
    """Whisper hearing the audio, faked: a text's log-probability is ``base`` plus
    ``bonus`` for each word of ``said`` it holds; records the texts it was asked about."""

    def __init__(self, said: dict[str, float], base: float = -30.0) -> None:
        self.said, self.base = said, base
        self.asked: list[list[str]] = []

    def __call__(self, texts: Sequence[str]) -> list[float]:
        self.asked.append(list(texts))
        return [self.base + sum(bonus for word, bonus in self.said.items() if word in text)
                for text in texts]


@pytest.mark.parametrize(("heard", "said", "repaired"), [
    # 金融血 → 金融学 gains ~4 nats as words: under the 10-nat margin, kept when the
    # audio does not argue against it (Whisper's own score of the repair: +1.6 nats)
    ("我上学的时候学的是金融血专业", {"金融学": 1.6}, "我上学的时候学的是金融学专业"),
    ("我上学的时候学的是金融血专业", {"金融学": -2.0}, "我上学的时候学的是金融学专业"),
    # the audio argues against it: kept as heard
    ("我上学的时候学的是金融血专业", {"金融学": -5.0}, "我上学的时候学的是金融血专业"),
    ("是不是受到了黑神话的起发", {"启发": 0.0}, "是不是受到了黑神话的启发"),
])
def test_repairs_the_word_model_favours_are_kept_when_the_audio_allows_them(
        repairer: SameSoundRepair, heard: str, said: dict[str, float], repaired: str) -> None:
    assert repair_by_ear(repairer, heard, 0, Ear(said), min_gain=3.5) == repaired


def test_text_before_start_is_never_changed_nor_judged(repairer: SameSoundRepair) -> None:
    ear = Ear({"金融学": 1.0})
    text = "金融血专业，我学的是金融血专业"
    start = text.index("，")
    assert repair_by_ear(repairer, text, start, ear, min_gain=3.5) == \
        "金融血专业，我学的是金融学专业"
    assert all(asked.startswith("金融血专业，") for asked in ear.asked[0])


def test_of_overlapping_repairs_the_one_both_judges_favour_wins(
        repairer: SameSoundRepair) -> None:
    """汤木的 (Tom's, heard as Tangmu's): 木的 → 目的 "purpose" adds more as words than
    汤木 → 汤姆 "Tom", but the audio prefers 汤姆 by more (a dev talk's real scores)."""
    gains = {word: gain for gain, _, _, word in repairer.options("汤木的体育老师是谁", 3.5)}
    assert gains["目的"] > gains["汤姆"]
    heard = Ear({"目的": -1.1, "汤姆": -0.5})
    repaired = repair_by_ear(repairer, "汤木的体育老师是谁", 0, heard, min_gain=3.5)
    assert repaired == "汤姆的体育老师是谁"


def test_a_repair_never_writes_a_number(repairer: SameSoundRepair) -> None:
    """摆椅 ("move the chair", heard from 把椅子) sounds like 百亿 "ten billion", 百一."""
    words = [word for *_, word in repairer.options("你把这个摆椅自挪一挪", 0.0)]
    assert "白衣" in words and "百亿" not in words and "百一" not in words


def test_correct_text_the_audio_says_is_kept(repairer: SameSoundRepair) -> None:
    """太咸 "too salty" is no word; 苔藓 "moss" and 泰县 gain 7 and 4 nats as words, but
    Whisper hears 太咸 (real scores: −20 and −11 nats for the repairs)."""
    said = "菜里盐放多了，太咸。"
    asked: list[str] = []

    def ear(texts: Sequence[str]) -> list[float]:
        asked.extend(texts)
        return [0.0 if text == said else -11.0 for text in texts]

    assert repair_by_ear(repairer, said, 0, ear, min_gain=3.5) == said
    assert "菜里盐放多了，苔藓。" in asked


@pytest.mark.parametrize("text", ["你好", "", "我应该读这本书。"])
def test_nothing_to_judge_is_not_heard_again(repairer: SameSoundRepair, text: str) -> None:
    ear = Ear({})
    assert repair_by_ear(repairer, text, len(text) // 2 if text == "你好" else len(text),
                         ear, min_gain=3.5) == text
    assert ear.asked == []


def test_at_most_the_repairs_adding_most_are_judged(repairer: SameSoundRepair) -> None:
    ear = Ear({})
    heard = "公焦期存定期发车前往新特兰"   # many same-sound candidates for 焦期
    repair_by_ear(repairer, heard, 0, ear, min_gain=2.0)
    assert len(ear.asked) == 1 and 2 <= len(ear.asked[0]) <= 1 + MOST_JUDGED
    assert ear.asked[0][0] == heard


def test_glossary_terms_are_never_repaired(repairer: SameSoundRepair) -> None:
    """A wearer's term is kept where the text has it, however the ear and the word model
    would repair it (a name 玛丽 heard as 马利 had become 马力 "horsepower")."""
    text = "我学的是金融血专业"
    assert repair_by_ear(repairer, text, 0, Ear({"金融学": 2.0}), min_gain=3.5) != text
    assert repair_by_ear(repairer, text, 0, Ear({"金融学": 2.0}), min_gain=3.5,
                         keep=("金融血",)) == text
