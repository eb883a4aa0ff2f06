"""The overflow model for real: the 0.5B (Q4_0, made from the published file) writes while
the server is behind, on the main model's lock, and each caption names its model.
``scripts/test.sh`` fetches it; missing, the test fails loudly like the default models."""

from __future__ import annotations

import functools
import re
import threading
from typing import Any

import pytest

from hudtranslate.config import Settings
from hudtranslate.engines import load_overflow_translator
from hudtranslate.events import Transcript
from hudtranslate.translate.llama import LlamaBackend
from hudtranslate.translate.overflow import AUTO_OVERFLOW_MODEL, OverflowBackend, local_engine
from hudtranslate.translate.translator import SessionTranslator

pytestmark = [pytest.mark.real, pytest.mark.timeout(600)]

SENTENCES = (("我明天早上去北京。", (r"Beijing", r"tomorrow")),
             ("这个苹果多少钱？", (r"apple", r"how much|price|cost")))


def final(text: str, uid: int) -> Transcript:
    return Transcript(uid, text, "", uid * 10.0, uid * 10.0 + 2, True, uid * 10.0 + 2)


def test_the_overflow_model_writes_while_behind_on_the_main_models_lock(
        real_engines: Any, real_settings: Settings) -> None:
    settings = real_settings  # overflow_model "auto": serve names the model to load
    main = local_engine(real_engines.translator)
    assert main is not None
    backend = OverflowBackend(real_engines.translator, None, load_small=functools.partial(
        load_overflow_translator, settings, main, AUTO_OVERFLOW_MODEL))
    backend.load_small_soon()  # as a server does when a second wearer joins
    assert backend.wait_loaded(120)
    small = backend.small
    assert isinstance(small, LlamaBackend) and small.name == "qwen2.5-0.5b-q4_0"
    assert small.engine.lock is main.lock  # never both at once on the same cores
    behind = [True]
    backend.behind = lambda: behind[0]
    results: dict[int, tuple[str, str]] = {}

    def wearer(uid: int, chinese: str) -> None:
        translation = SessionTranslator(backend, settings.translate).translate(final(chinese, uid))
        assert translation is not None
        results[uid] = (translation.committed, translation.model)

    threads = [threading.Thread(target=wearer, args=(uid, chinese))
               for uid, (chinese, _) in enumerate(SENTENCES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for uid, (chinese, patterns) in enumerate(SENTENCES):
        english, model = results[uid]
        assert model == "qwen2.5-0.5b-q4_0", (chinese, english, model)
        assert all(re.search(p, english, re.IGNORECASE) for p in patterns), (chinese, english)

    # the same session after the server caught up: the main model writes again
    translator = SessionTranslator(backend, settings.translate)
    first = translator.translate(final(SENTENCES[0][0], 5))
    behind[0] = False
    second = translator.translate(final(SENTENCES[1][0], 6))
    assert first is not None and first.model == "qwen2.5-0.5b-q4_0"
    assert second is not None and second.model == real_engines.translator.name
    assert re.search(r"apple", second.committed, re.IGNORECASE), second.committed
