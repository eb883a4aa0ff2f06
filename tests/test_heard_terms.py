"""Glossary terms restored by their sound in recognised Chinese (``heard_terms``)."""

from __future__ import annotations

import pytest

from hudtranslate.translate import heard_terms
from hudtranslate.translate.heard_terms import TermsBySound

NAMES = ("汤姆", "玛丽", "约翰")


@pytest.mark.parametrize(("terms", "heard", "restored"), [
    # Whisper base on shared/cases/06-nonstop-speech.wav
    (NAMES, "汤墓叫马利买一份礼物给约翰，", "汤姆叫玛丽买一份礼物给约翰，"),
    (NAMES, "汤木想多把时间花在他的家庭上，", "汤姆想多把时间花在他的家庭上，"),
    (NAMES, "我和玛莉成了好朋友。", "我和玛丽成了好朋友。"),
    # an ordinary word that sounds like a term stays
    (("字幕",), "二十六个字母", "二十六个字母"),
    (NAMES, "发动机有三百马力。", "发动机有三百马力。"),
    # a word across the stretch's edge: 完工 | 但, 索马里 (Somalia), 蒙哥马利
    (("工单",), "该项目于八月完工但直到三月才通车", "该项目于八月完工但直到三月才通车"),
    (NAMES, "索马里是一个国家", "索马里是一个国家"),
    (NAMES, "蒙哥马利通了公共汽车", "蒙哥马利通了公共汽车"),
    # one-character terms are too ambiguous; letters and digits are not sounds
    (("王",), "忘了", "忘了"),
    (NAMES, "Tom汤墓2", "Tom汤姆2"),
    ((), "汤墓", "汤墓"),
])
def test_terms_are_restored_by_sound_unless_a_word_stands_there(
        terms: tuple[str, ...], heard: str, restored: str) -> None:
    result = TermsBySound(terms).restore(heard)
    assert result == restored
    assert len(result) == len(heard)


def test_no_terms_loads_no_dictionary(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> None:
        raise AssertionError("CC-CEDICT loaded for an empty glossary")

    monkeypatch.setattr(heard_terms, "cedict_words", refuse)
    restorer = TermsBySound(["王"])  # only a one-character term: nothing to match
    assert not restorer
    assert restorer.restore("汤墓") == "汤墓"


def test_the_longest_term_wins() -> None:
    words = (frozenset(), frozenset())
    restorer = TermsBySound(["玛丽", "玛丽亚"], words=words)
    assert restorer.restore("马利亚来了") == "玛丽亚来了"


def test_a_term_already_written_right_is_passed_over_whole() -> None:
    words = (frozenset(), frozenset())
    restorer = TermsBySound(["玛丽亚", "利亚"], words=words)
    # 玛丽亚 is right as it stands: its 丽亚 must not be read as a stretch of 利亚
    assert restorer.restore("玛丽亚来了") == "玛丽亚来了"
    assert restorer.restore("力压来了") == "利亚来了"
