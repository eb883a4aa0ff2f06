import pytest

from hudtranslate.events import join_english
from hudtranslate.translate.prompts import EXAMPLES, IM_END, SYSTEM_PROMPT, build_prompt
from hudtranslate.translate.text import (
    after_open_part,
    clean_translation,
    has_cjk,
    without_full_stop,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Translation: I am here.", "I am here."),
        ('"Let us go."', "Let us go."),
        ("I like 北京 very much", "I like Beijing very much"),
        ("Tom's teacher is 马力's coach.", "Tom's teacher is Mali's coach."),
        ("  Hello，world。 ", "Hello,world."),
        ("It costs 3.50 yuan at 10:30.", "It costs 3.50 yuan at 10:30."),
        ("", ""),
    ],
)
def test_clean_translation(raw: str, expected: str) -> None:
    assert clean_translation(raw) == expected


def test_has_cjk() -> None:
    assert has_cjk("abc 中")
    assert not has_cjk("abc 10:30 $5")


def test_prompt_prefix_is_stable_for_kv_cache_reuse() -> None:
    first = build_prompt("我们走吧。")
    second = build_prompt("今天下雨。", context=[("我们走吧。", "Let's go.")])
    fixed = build_prompt("")
    stable = fixed[: fixed.rindex("<|im_start|>user")]
    assert first.startswith(stable)
    assert second.startswith(stable)
    assert SYSTEM_PROMPT in stable
    assert all(zh in stable for zh, _ in EXAMPLES)


def test_prompt_forces_committed_english_as_assistant_prefix() -> None:
    prompt = build_prompt("你如果有疑问，就问汤姆吧", forced_prefix="If you have questions,")
    assert prompt.endswith("<|im_start|>assistant\nIf you have questions,")
    assert prompt.count(IM_END) == 1 + 2 * len(EXAMPLES) + 1


@pytest.mark.parametrize(("english", "continued"), [
    ("I think running is the most important thing.", "I think running is the most important thing"),
    ("We'll meet at the gate. ", "We'll meet at the gate"),
    ("We'll meet tomorrow at 8 a.m.", "We'll meet tomorrow at 8 a.m."),
    ("I asked Mr.", "I asked Mr."),
    ("He moved to the U.S.", "He moved to the U.S."),
    ("Is it true?", "Is it true?"),
    ("Stop!", "Stop!"),
    ("And then...", "And then"),
    ("If I go back to my situation then …", "If I go back to my situation then"),
    ("...", "..."),
    ("If you have questions,", "If you have questions,"),
    ("", ""),
])
def test_without_full_stop(english: str, continued: str) -> None:
    assert without_full_stop(english) == continued


@pytest.mark.parametrize(("committed", "more", "joined"), [
    ("The problem still exists", ", and it grows.", "The problem still exists, and it grows."),
    ("If you have questions,", " ask Tom.", "If you have questions, ask Tom."),
    ("It costs 20", "% more", "It costs 20% more"),
    ("", " ask Tom.", "ask Tom."),
    ("Hello ", "", "Hello"),
])
def test_join_english(committed: str, more: str, joined: str) -> None:
    assert join_english(committed, more) == joined


@pytest.mark.parametrize(("open_english", "alone", "same_caption", "expected"), [
    # after a clause mark the sentence goes on: closed-class words lose their capital
    ("If possible,", "To see it for yourself.", True, "to see it for yourself."),
    ("If possible,", "The price is fair.", False, "the price is fair."),
    ("When we arrived;", "It was raining.", True, "it was raining."),
    # a name, "I" or any open-class word keeps it (it may be a name)
    ("If possible,", "I will go.", True, "I will go."),
    ("After lunch,", "Zhang Wei left.", True, "Zhang Wei left."),
    ("Too much salt,", "Too salty.", False, "Too salty."),
    # a bare word whose full stop was taken away: the stop comes back in the same caption
    ("We went there", "The next day it rained.", True, ". The next day it rained."),
    ("We went there", "The next day it rained.", False, "The next day it rained."),
    # a sentence that ended, or nothing to join
    ("Is it far?", "Take a taxi.", True, "Take a taxi."),
    ("", "Take a taxi.", True, "Take a taxi."),
    ("If possible,", "", True, ""),
])
def test_a_part_translated_alone_reads_on_from_the_open_sentence(
        open_english: str, alone: str, same_caption: bool, expected: str) -> None:
    assert after_open_part(open_english, alone, full_stop_back=same_caption) == expected
