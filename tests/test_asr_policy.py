import pytest

from hudtranslate.asr.policy import (
    LocalAgreement,
    agreed_prefix,
    sentence_cut,
    sentence_pieces,
    spoken_length,
    within_spoken_length,
)


@pytest.mark.parametrize(
    ("hypotheses", "expected"),
    [
        # nothing is committed until two hypotheses agree
        (["我们"], [("", "我们")]),
        (["我们", "我们去"], [("", "我们"), ("我们", "去")]),
        (
            ["我们去", "我们去吃", "我们去吃饭"],
            [("", "我们去"), ("我们去", "吃"), ("我们去吃", "饭")],
        ),
        # a disagreement after the committed text stays tentative
        (["今天天", "今天下", "今天下雨"], [("", "今天天"), ("今天", "下"), ("今天下", "雨")]),
    ],
)
def test_local_agreement_commits_agreed_prefix(
    hypotheses: list[str], expected: list[tuple[str, str]]
) -> None:
    policy = LocalAgreement()
    assert [policy.update(h) for h in hypotheses] == expected


def test_committed_text_never_shrinks() -> None:
    policy = LocalAgreement()
    policy.update("我想去北京")
    policy.update("我想去北京玩")
    assert policy.committed == "我想去北京"
    committed, tentative = policy.update("我想")  # a shorter, diverging hypothesis
    assert committed == "我想去北京"
    assert tentative == ""


def test_finish_takes_final_hypothesis_and_reset_clears() -> None:
    policy = LocalAgreement()
    policy.update("你如果有1")
    policy.update("你如果有1问")
    assert policy.finish("你如果有疑问") == "你如果有疑问"
    assert policy.finish("") == "你如果有疑问"
    policy.reset()
    assert policy.committed == ""
    assert policy.update("新") == ("", "新")



@pytest.mark.parametrize(("previous", "hypothesis", "agreed"), [
    ("他皱了皱鼻子，我无法", "他皱了皱鼻子我无法想", "他皱了皱鼻子我无法"),
    ("他皱了皱鼻子我无法", "他皱了皱鼻子。我无法想", "他皱了皱鼻子。我无法"),
    ("你好。", "你好。我们", "你好"),  # a mark is committed only with words after it
    ("今天天", "今天下", "今天"),
    ("", "今天", ""),
])
def test_agreement_ignores_punctuation_and_keeps_the_newer_marks(
        previous: str, hypothesis: str, agreed: str) -> None:
    assert agreed_prefix(previous, hypothesis) == agreed


@pytest.mark.parametrize(("committed", "emitted", "min_chars", "clause_chars", "cut"), [
    ("你如果有疑问就问汤姆吧。她可能", 0, 4, 0, 12),
    ("你好。她可能", 0, 4, 0, 0),  # too short to stand alone
    ("你如果有疑问。就问汤姆吧。她", 0, 4, 0, 13),  # the last sentence end
    ("你如果有疑问。就问汤姆吧。她", 7, 4, 0, 13),
    ("你如果有疑问。就问汤姆吧。她", 13, 4, 0, 0),  # nothing after what was given out
    ("你如果有疑问，就问汤姆", 0, 4, 0, 0),  # clauses off
    ("汤姆叫玛丽买一份礼物给约翰，你最喜欢", 0, 4, 8, 14),  # a long clause
    ("你如果有疑问，就问汤姆", 0, 4, 8, 0),  # a short one
    ("我们走吧。汤姆叫玛丽买一份礼物给约翰，你", 0, 4, 8, 19),  # the last end of either
    ("你如果有疑问就问汤姆吧。她可能", 0, 0, 8, 0),  # off
])
def test_sentence_cut(committed: str, emitted: int, min_chars: int, clause_chars: int,
                      cut: int) -> None:
    assert sentence_cut(committed, emitted, min_chars, clause_chars) == cut


@pytest.mark.parametrize(("text", "min_chars", "pieces"), [
    ("汤姆叫玛丽买礼物。你最喜欢哪个浏览器？她皱了皱鼻子。", 4,
     ["汤姆叫玛丽买礼物。", "你最喜欢哪个浏览器？", "她皱了皱鼻子。"]),
    ("她可能迟到，然后我们就要等。", 4, ["她可能迟到，然后我们就要等。"]),  # clauses stay
    ("好。我们明天走吧。", 4, ["好。我们明天走吧。"]),  # too short to stand alone
    ("我们明天走吧。好。", 4, ["我们明天走吧。好。"]),
    ("他说：“走吧。”然后我们就走了。", 4, ["他说：“走吧。”", "然后我们就走了。"]),
    # a run of marks stays whole
    ("你说的是真的吗？！我一点都不信", 4, ["你说的是真的吗？！", "我一点都不信"]),
    ("我们明天走吧。汤姆也去。", 0, ["我们明天走吧。汤姆也去。"]),  # off
    ("我们明天走吧", 4, ["我们明天走吧"]),
    ("", 4, [""]),
])
def test_sentence_pieces(text: str, min_chars: int, pieces: list[str]) -> None:
    assert sentence_pieces(text, min_chars) == pieces
    assert "".join(sentence_pieces(text, min_chars)) == text  # nothing lost or repeated


def test_an_amended_commitment_is_agreed_on_by_the_next_decode() -> None:
    """A repair of committed text (same length) is made in the last hypothesis too: the
    next decode, forced to say the repaired text, extends the commitment at once."""
    policy = LocalAgreement()
    policy.update("我们去北惊吧。汤姆")
    policy.update("我们去北惊吧。汤姆也")
    assert policy.committed == "我们去北惊吧。汤姆"
    policy.amend(0, "我们去北京吧。")
    assert policy.committed == "我们去北京吧。汤姆"
    committed, tentative = policy.update("我们去北京吧。汤姆也去")
    assert (committed, tentative) == ("我们去北京吧。汤姆也", "去")


@pytest.mark.parametrize(("text", "max_chars", "kept"), [
    # Mandarin: one character each, as before
    ("我们明天去北京。", 4, "我们明天"),
    ("我们明天去北京。", 8, "我们明天去北京。"),
    # English said to the Mandarin recogniser: four letters (or spaces) a character
    ("leaves from platform three", 6, "leaves from platform thr"),
    ("The train to the airport leaves from platform 3 in about 10 minutes.", 30,
     "The train to the airport leaves from platform 3 in about 10 minutes."),
    # a digit is a syllable of its own
    ("2017年3月", 3, "201"),
    # English words inside Mandarin count at the English rate
    ("拿到更多的offer嘛", 8, "拿到更多的offer嘛"),
    ("", 0, ""),
])
def test_a_decode_is_cut_at_its_spoken_length(text: str, max_chars: int, kept: str) -> None:
    assert within_spoken_length(text, max_chars) == kept
    assert spoken_length(kept) <= max_chars


def test_spoken_length_counts_letters_at_a_quarter_and_digits_whole() -> None:
    assert spoken_length("我们") == 2
    assert spoken_length("menu") == 1
    assert spoken_length("3号") == 2
