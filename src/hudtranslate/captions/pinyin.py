"""Pinyin with tone marks for the optional reading-aid line under the Chinese.

Optional: needs the ``pypinyin`` package, imported only when a display asks for pinyin.
"""

from __future__ import annotations

import re

from hudtranslate.errors import DependencyError

_LATIN_PUNCT = str.maketrans({
    "，": ", ", "、": ", ", "。": ". ", "！": "! ", "？": "? ", "；": "; ", "：": ": ",
    "「": " “", "」": "” ", "『": " ‘", "』": "’ ", "（": " (", "）": ") ",
    "“": " “", "”": "” ", "‘": " ‘", "’": "’ ",
})
_SPACE_BEFORE = re.compile(r"\s+([,.!?;:”’)])")
_SPACE_AFTER = re.compile(r"([“‘(])\s+")


def to_pinyin(text: str) -> str:
    """``"你好，世界"`` → ``"nǐ hǎo, shì jiè"``: one syllable per character, tone marks,
    Chinese punctuation as its Latin twin (a Latin line reads better with Latin marks),
    anything else (Latin, digits) kept as it is."""
    try:
        from pypinyin import Style, lazy_pinyin
    except ImportError:
        raise DependencyError(
            "the pinyin line needs the pypinyin package: pip install pypinyin"
        ) from None
    syllables = lazy_pinyin(text, style=Style.TONE, errors="default")
    joined = " ".join(" ".join(piece.translate(_LATIN_PUNCT).split()) for piece in syllables)
    return _SPACE_AFTER.sub(r"\1", _SPACE_BEFORE.sub(r"\1", " ".join(joined.split())))
