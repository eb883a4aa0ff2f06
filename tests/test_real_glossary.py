"""Qwen with a glossary, on sentences written for this test: each glossary term present
in a sentence must appear in its English (target: ≥ 95 % of occurrences). Without the
glossary the same model misses many of them, which shows the terms are not ones it
would produce anyway."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hudtranslate.config import Settings
from hudtranslate.events import Transcript
from hudtranslate.translate.glossary import Glossary, read_glossary_file, term_present
from hudtranslate.translate.text import has_cjk
from hudtranslate.translate.translator import LlamaBackend, SessionTranslator, TranslationBackend

pytestmark = [pytest.mark.real, pytest.mark.timeout(900)]

GLOSSARY = Path(__file__).parents[1] / "examples" / "glossary.toml"

SENTENCES = [
    "星海科技今年的收入翻了一番。",
    "陈思远下周要去上海出差。",
    "我们的算力根本不够训练这么大的模型。",
    "很多公司都在做自己的大模型。",
    "新版本先做灰度发布，没问题再全量上线。",
    "如果线上出了问题，马上回滚。",
    "用户反馈的问题请先提一个工单。",
    "我们的端侧模型只有五亿个参数。",
    "今年的开发者大会在云栖小镇举行。",
    "青松资本领投了这一轮融资。",
    "晨曦计划的第一阶段已经完成了。",
    "我们把所有订单都迁移到了蓝鲸数据库。",
    "赵一鸣是我们团队里最年轻的工程师。",
    "字幕的延迟必须控制在两秒以内。",
    "他以前在联合国做同传。",
    "每周五下午之前要交周报。",
    "年底的绩效会影响明年的奖金。",
    "这个月的留存率比上个月高了五个百分点。",
    "项目结束以后，我们开个会复盘一下。",
    "陈思远和赵一鸣都在星海科技上班。",
]


def term_hits(backend: TranslationBackend, settings: Settings, glossary: Glossary,
              terms: Glossary) -> tuple[int, int, list[tuple[str, str, str]]]:
    """(found, expected, misses) of the glossary's terms in each sentence's English."""
    found = expected = 0
    misses = []
    for uid, chinese in enumerate(SENTENCES):
        session = SessionTranslator(backend, settings.translate, glossary=glossary)
        result = session.translate(Transcript(uid, chinese, "", 0.0, 2.0, True, 2.0))
        assert result is not None
        english = result.committed
        assert english and not has_cjk(english), (chinese, english)
        for _, target in terms.find(chinese):
            expected += 1
            if term_present(target, english):
                found += 1
            else:
                misses.append((chinese, target, english))
    return found, expected, misses


def test_glossary_terms_appear_in_the_english(real_engines: Any, real_settings: Settings) -> None:
    terms = Glossary(terms=read_glossary_file(GLOSSARY))
    with_glossary = LlamaBackend(real_engines.translator.engine, glossary_example=True)
    found, expected, misses = term_hits(with_glossary, real_settings, terms, terms)
    assert expected >= 20
    assert found / expected >= 0.95, misses

    found_without, _, _ = term_hits(real_engines.translator, real_settings, Glossary(), terms)
    assert found_without / expected < 0.8, "the test's terms are ones the model uses anyway"
