import pytest

from hudtranslate.asr.policy import LocalAgreement


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

