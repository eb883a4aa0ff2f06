#!/usr/bin/env python3
"""The local model's raw Chinese for English with prices and a.m./p.m. times, and the
same after ``translate/kept_amounts.py`` (as the wearer's speech and as a dictated draft).

    .venv/bin/python scripts/probe_kept_amounts.py      # ~1 min with the default models
"""

from __future__ import annotations

import sys

from hudtranslate.config import Settings
from hudtranslate.engines import load_engines
from hudtranslate.translate import to_chinese
from hudtranslate.translate.kept_amounts import keep_amounts
from hudtranslate.translate.prompts import DRAFT_MESSAGE, ENGLISH_SPEECH

SENTENCES = [
    "The taxi was $25.50, and we can meet at 7.30pm.",
    "It's $25.50 for two.",
    "That comes to 40 dollars, right?",
    "I paid 30 euros for this bag.",
    "The ticket was £12.",
    "Dinner is at 7.30pm tonight.",
    "My train leaves at 6am tomorrow.",
    "Can we meet at 3pm on Friday?",
    "The shop opens at 9 a.m. and closes at 10 p.m.",
    "I'll call you at 12:30 pm.",
    "It costs 50 yuan, not 50 dollars.",
]


def main() -> None:
    engines = load_engines(Settings.load(env={}))
    raw: list[str] = []
    original = keep_amounts

    def seen(english: str, chinese: str) -> str:
        raw.append(chinese)
        return original(english, chinese)

    vars(to_chinese)["keep_amounts"] = seen  # to see the answer before the repairs
    for prompts in (ENGLISH_SPEECH, DRAFT_MESSAGE):
        for english in SENTENCES:
            source = english if prompts is ENGLISH_SPEECH else "tell him " + english
            kept = to_chinese.translate_to_chinese(engines.translator, source, prompts=prompts)
            sys.stdout.write(f"{prompts.name:8} {source}\n   raw  {raw[-1]}\n   kept {kept}\n")


if __name__ == "__main__":
    main()
