#!/usr/bin/env python3
"""What a prompt family's first use costs the local translator, and what warming it at
start (``engines.warm_beside_speech``) saves: the photo prompt (``serve``) and the en→zh
and draft prompts (converse mode).

Loads the translation model twice (cold and warmed) and times one short translation with
each prompt set. Prints seconds; run it alone on a quiet machine.

    .venv/bin/python scripts/prompt_first_use.py
"""

from __future__ import annotations

import sys
import time

from hudtranslate.config import Settings
from hudtranslate.engines import load_translator, warm_beside_speech
from hudtranslate.translate.prompts import DRAFT_MESSAGE, ENGLISH_SPEECH, PHOTO_TEXT, PromptSet

SAMPLES = ((PHOTO_TEXT, "出口"), (ENGLISH_SPEECH, "Where is the train station?"),
           (DRAFT_MESSAGE, "tell her I'll be ten minutes late"))


def _time_first_use(prompts: PromptSet, text: str, warm: bool, settings: Settings) -> float:
    backend, _ = load_translator(settings, settings.threads)
    if warm:
        started = time.perf_counter()
        warm_beside_speech(backend, prompts)
        sys.stdout.write(f"  warming {prompts.name} at start: "
                         f"{time.perf_counter() - started:.2f} s\n")
    started = time.perf_counter()
    backend.translate(text, [], forced_prefix="", max_new_tokens=24,
                      cancelled=lambda: False, prompts=prompts)
    return time.perf_counter() - started


def main() -> None:
    settings = Settings.load()
    for prompts, text in SAMPLES:
        sys.stdout.write(f"{prompts.name}\n")
        for warm in (False, True):
            seconds = _time_first_use(prompts, text, warm, settings)
            state = "warmed" if warm else "cold"
            sys.stdout.write(f"  first translation, {state}: {seconds:.2f} s\n")


if __name__ == "__main__":
    main()
