"""The en→zh text benchmark: the wearer's English put into Chinese for the other person.

Text items whose ``direction`` is "en-zh" (``bench --text FILE --direction en-zh``, or
``"direction": "en-zh"`` on a line) are translated from their first English reference
with the ``ENGLISH_SPEECH`` prompt set (``translate.to_chinese``), one sentence at a time
with no context (the sentences of our text sets are unrelated), and scored against their
Chinese with ``metrics.chinese_quality`` (chrF on characters, BLEU with the ``zh``
tokenizer). Every item's output is kept in the report.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any, Protocol

from hudtranslate.eval.manifests import TextItem
from hudtranslate.eval.metrics import chinese_quality
from hudtranslate.translate.prompts import ENGLISH_SPEECH, PromptSet
from hudtranslate.translate.to_chinese import translate_to_chinese
from hudtranslate.translate.translator import TranslationBackend

SECTION = "text_en_zh"
"""The key of this section under the ``mt-on-reference-text`` system of the report."""


class Progress(Protocol):
    def advance(self, label: str) -> None: ...


def _one(backend: TranslationBackend, english: str, max_new_tokens: int,
         prompts: PromptSet) -> tuple[str, float]:
    started = time.process_time()
    chinese = translate_to_chinese(backend, english, prompts=prompts,
                                   max_new_tokens=max_new_tokens)
    return chinese or "", time.process_time() - started


async def chinese_texts(items: Sequence[TextItem], backend: TranslationBackend, *,
                        max_new_tokens: int, progress: Progress,
                        system: str = "mt-on-reference-text",
                        prompts: PromptSet = ENGLISH_SPEECH) -> dict[str, Any]:
    """chrF and BLEU of ``backend``'s Chinese for the items' first English reference,
    with every item's output; each translation runs on a worker thread."""
    outputs: list[str] = []
    cpu_s = 0.0
    for item in items:
        chinese, spent = await asyncio.to_thread(_one, backend, item.en_refs[0],
                                                 max_new_tokens, prompts)
        outputs.append(chinese)
        cpu_s += spent
        progress.advance(f"{system} en→zh · {item.id}")
    quality = chinese_quality(outputs, [item.zh for item in items])
    rows = [{"id": item.id, "en": item.en_refs[0], "zh_ref": item.zh, "zh": output,
             "chrf": chinese_quality([output], [item.zh]).chrf}
            for item, output in zip(items, outputs, strict=True)]
    return {"chrf": quality.chrf, "bleu": quality.bleu, "sentences": len(items),
            "without_output": sum(1 for output in outputs if not output),
            "cpu_s_per_sentence": cpu_s / len(items) if items else None,
            "prompts": prompts.name, "items": rows}
