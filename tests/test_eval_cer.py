"""CER and its normalisation: pure, table-driven, no model."""

from __future__ import annotations

import pytest

from hudtranslate.eval.cer import corpus_cer, normalize_for_cer, sentence_cer


@pytest.mark.parametrize(("text", "normal"), [
    ("我们走吧。", "我们走吧"),
    ("你好，世界！ 「好」…… (ok)?", "你好世界好ok"),
    ("會議室", "会议室"),
    ("iPhone 和 ＧＰＴ", "iphone和gpt"),
    ("3号会议室", "三号会议室"),
    ("15个人", "十五个人"),
    ("403房间", "四百零三房间"),
    ("10点", "十点"),
    ("0.5公斤", "零点五公斤"),
    ("2011年", "二零一一年"),
    ("98年", "九八年"),
    ("13912345678", "一三九一二三四五六七八"),
    ("一三九幺二三四", "一三九一二三四"),
    ("0571", "零五七一"),
    ("二〇二五年", "二零二五年"),
    ("〇", "零"),
    ("3,000元", "三零零零元"),
    ("50%", "百分之五十"),
    ("５０％", "百分之五十"),
    ("。，！？", ""),
    ("", ""),
])
def test_normalisation(text: str, normal: str) -> None:
    assert normalize_for_cer(text) == normal


@pytest.mark.parametrize(("reference", "hypothesis", "cer"), [
    ("我们走吧。", "我们走吧", 0.0),
    ("你好，世界！", "你好 世界.", 0.0),
    ("3号会议室", "三号会议室", 0.0),
    ("2011年", "二零一一年", 0.0),
    ("他的电话是13912345678", "他的电话是一三九一二三四五六七八", 0.0),
    ("會議室在三樓", "会议室在三楼", 0.0),
    ("一二三四五六七八九十", "一二三四五六七八九千", 0.1),  # one substitution in 10
    ("今天下雨", "今天下雨了", 0.25),  # one insertion in 4
    ("今天下雨", "今下雨", 0.25),  # one deletion in 4
    ("今天下雨", "", 1.0),
    ("今天下雨", "。", 1.0),
])
def test_sentence_cer(reference: str, hypothesis: str, cer: float) -> None:
    assert sentence_cer(reference, hypothesis) == pytest.approx(cer)


def test_corpus_cer_pools_edits_over_reference_characters() -> None:
    # 1 edit in 2 characters and 0 in 8: pooled 1/10, not the mean of 0.5 and 0.0
    assert corpus_cer(["你好", "一二三四五六七八"],
                      ["你们", "一二三四五六七八"]) == pytest.approx(0.1)


@pytest.mark.parametrize(("references", "hypotheses", "message"), [
    (["好"], [], "one hypothesis per reference"),
    ([], [], "at least one reference"),
    (["好", "。"], ["好", "好"], "reference 1 ('。') has no characters to score"),
    ([""], [""], "reference 0 ('') has no characters to score"),
])
def test_unscorable_input_raises(references: list[str], hypotheses: list[str],
                                 message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        corpus_cer(references, hypotheses)
