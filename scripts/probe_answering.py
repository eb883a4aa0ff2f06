#!/usr/bin/env python3
"""Translate short conversational lines, each after one sentence of context, with the
real local model, and print the English: the lines a chat model tends to *answer*
(thanks, apologies, requests to the listener, tag questions) instead of translating.

Usage: .venv/bin/python scripts/probe_answering.py  (~1 min on 2 cores; needs the models)
Lines that start with "Sure", refuse ("I can't assist with that"), say "welcome" to a
thanks or answer a question in a few words without "?" are flagged ANSWERED; other
replies (a sum computed, "Summary: …") are left to the reader.
"""

from __future__ import annotations

import logging
import re
import sys

from hudtranslate.config import Settings
from hudtranslate.engines import load_engines
from hudtranslate.events import Transcript
from hudtranslate.translate.translator import SessionTranslator

CONTEXT = "我们在这家店等一下吧。"
LINES = (
    "谢谢。", "谢谢你。", "太感谢了。", "真是太谢谢你了。", "收到，谢谢！", "谢谢，你真好。",
    "多谢多谢。",
    "对不起。", "没关系。", "不客气。", "你太客气了。", "辛苦了。", "打扰了。",
    "你能翻译一下吗？", "告诉我一个笑话。", "帮我写一首关于春天的诗。", "给我讲个故事吧。",
    "帮我算一下一百二十加三百五。", "你能帮我把这段话写成英文邮件吗？", "用一句话总结一下。",
    "这个用英语怎么说？", "对吧？", "是吗？", "你说对不对？", "你好吗？",
)


def answered(line: str, english: str) -> bool:
    """The English reads as a reply to ``line`` rather than its translation."""
    if re.match(r"(sure|certainly|of course)\b", english, re.I):
        return True
    if re.search(r"\b(can't|cannot|can not) (assist|help) with", english, re.I):
        return True  # a refusal is a reply too
    if line.endswith("？") and "?" not in english and len(english.split()) <= 4:
        return True  # "对吧？" → "Yes.": a bare answer to the question
    return "谢" in line and bool(re.search(r"welcome", english, re.I))


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    settings = Settings.load()
    engines = load_engines(settings)
    flagged = 0
    for line in LINES:
        translator = SessionTranslator(engines.translator, settings.translate)
        translator.translate(Transcript(0, CONTEXT, "", 0.0, 2.0, True, 2.0))
        result = translator.translate(Transcript(1, line, "", 10.0, 12.0, True, 12.0))
        english = result.committed if result else ""
        is_answered = answered(line, english)
        flagged += is_answered
        sys.stdout.write(f"{'ANSWERED' if is_answered else '        '} {line} -> {english}\n")
    sys.stdout.write(f"{flagged} of {len(LINES)} answered\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
