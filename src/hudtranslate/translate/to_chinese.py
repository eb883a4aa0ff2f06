"""The wearer's English, or a message the wearer dictates, in Chinese for the other person.

One finished English sentence (or dictated instruction) at a time, through any
``TranslationBackend`` with an en→zh prompt set (``prompts.ENGLISH_SPEECH``, the default,
or ``prompts.DRAFT_MESSAGE``): the English is cleaned of hesitation sounds, the token limit
is computed from it, and the answer is cleaned into one line of Simplified Chinese
(``text.clean_chinese``), its prices and a.m./p.m. times kept (``kept_amounts``). The
remote backend checks its answers itself (``answers_zh``); the local model's are used as
they come, except a thanks answered instead of translated ("Thank you." → "不客气。"),
which is asked again quoted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from hudtranslate.translate.answers import thanks_unanswered
from hudtranslate.translate.answers_zh import reads_as_chinese_reply
from hudtranslate.translate.kept_amounts import keep_amounts
from hudtranslate.translate.prompts import (
    ENGLISH_SPEECH,
    PromptSet,
    quoted_message,
    user_message,
)
from hudtranslate.translate.text import clean_chinese
from hudtranslate.translate.translator import TranslationBackend

TOKENS_PER_CHAR = 0.6
"""Qwen2.5 tokens of Chinese per character of the English source: on the 865 (Chinese,
first English reference) pairs of the dev data the median is 0.20, the largest 0.53
(measured with the model's own tokenizer)."""
EXTRA_TOKENS = 20
"""For short sources, digits (one token each) and a drafted message's polite frame."""

_HESITATION = re.compile(
    r"(?:,\s*)?(?<![\w'])(?:u+h+|u+m+|e+r+m*|h+m+|a+h+)(?![\w'])(?:[,…]|\.{2,})*", re.IGNORECASE)
"""English hesitation sounds as speech recognition writes them (uh, um, er, erm, hmm, ah)."""
_SPACES = re.compile(r"\s+")


def _never() -> bool:
    return False


def chinese_token_limit(source: str, ceiling: int) -> int:
    """Tokens the Chinese for the English ``source`` may take: 0.6 per character of its
    first line + 20 (see ``TOKENS_PER_CHAR``), at most ``ceiling``."""
    text = source.split("\n", 1)[0]
    return max(1, min(ceiling, round(TOKENS_PER_CHAR * len(text)) + EXTRA_TOKENS))


def clean_english_speech(text: str) -> str:
    """Recognised English without hesitation sounds ("um, I'll be, uh, late" → "I'll be
    late"); the text as it was if nothing else is left."""
    cleaned = _SPACES.sub(" ", _HESITATION.sub(" ", text)).strip(" ,")
    cleaned = re.sub(r"\s+([,.?!])", r"\1", cleaned)
    return cleaned or text.strip()


def translate_to_chinese(
    backend: TranslationBackend,
    english: str,
    context: Sequence[tuple[str, str]] = (),
    *,
    prompts: PromptSet = ENGLISH_SPEECH,
    max_new_tokens: int = 160,
    terms: Sequence[tuple[str, str]] = (),
    cancelled: Callable[[], bool] = _never,
    on_text: Callable[[str], None] | None = None,
) -> str | None:
    """Chinese for ``english`` after ``context`` ((English, Chinese) pairs of earlier
    sentences), or None if ``cancelled()``. ``terms`` are (English, Chinese) glossary
    pairs, written into the sentence as ``prompts.user_message`` does. ``on_text``
    receives the Chinese as it is written (cleaned the same way). Only the answer's first
    line counts. Raises what the backend raises (``BackendError``; the router falls back
    by itself)."""
    if prompts.target_language != "zh":
        raise ValueError(f"prompt set {prompts.name!r} does not translate into Chinese")
    source = clean_english_speech(english)
    checked = prompts is ENGLISH_SPEECH and thanks_unanswered(source)
    growing = None if on_text is None or checked else (  # a thanks: shown once checked
        lambda text: on_text(keep_amounts(source, _first_line_chinese(text))))
    message = user_message(source, terms)
    limit = chinese_token_limit(source, max_new_tokens)
    raw = backend.translate(message, context, forced_prefix="", max_new_tokens=limit,
                            cancelled=cancelled, on_text=growing, prompts=prompts)
    if raw is None:
        return None
    chinese = _first_line_chinese(raw)
    if checked and reads_as_chinese_reply(chinese, source):
        # answered ("Thank you." → "不客气。"): asked again with the sentence quoted
        again = backend.translate(quoted_message(message), context, forced_prefix="",
                                  max_new_tokens=limit, cancelled=cancelled, prompts=prompts)
        if again is None:
            return None
        retried = _first_line_chinese(again).strip("「」")
        if retried and not reads_as_chinese_reply(retried, source):
            chinese = retried
    return keep_amounts(source, chinese)


def _first_line_chinese(answer: str) -> str:
    lines = [line for line in answer.strip().splitlines() if line.strip()]
    return clean_chinese(lines[0]) if lines else ""
