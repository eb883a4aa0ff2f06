"""Clean-up of model output into caption English."""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]+")
_LABEL = re.compile(r"^\s*(english|translation|english translation)\s*:\s*", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_FULLWIDTH = str.maketrans({"，": ",", "。": ".", "！": "!", "？": "?", "：": ":", "；": ";",
                            "“": '"', "”": '"', "‘": "'", "’": "'", "（": "(", "）": ")"})


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def clean_translation(text: str) -> str:
    """Strip labels, wrapping quotes and any Chinese the model copied through."""
    text = _LABEL.sub("", text.strip())
    text = text.translate(_FULLWIDTH)
    text = _CJK.sub(" ", text)
    text = _SPACES.sub(" ", text).strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].strip()
    return text
