"""Checks on what viewers and wearers send, shared by the parsers in ``protocol.py``.

Kept apart so that ``protocol.py`` stays the specification plus its messages; every name
here is also importable from ``protocol``.
"""

from __future__ import annotations

import json
from typing import Any

from hudtranslate.errors import HudTranslateError

MAX_CLIENT_MESSAGE_BYTES = 4096
MAX_DRAFT_CHARS = 500
"""A typed draft is a message of a few sentences, not a document."""


class ProtocolError(HudTranslateError):
    """A viewer sent something that is not a valid request; ``code`` is the error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def json_object(text: str) -> dict[str, Any]:
    """One client text frame as a JSON object; ``ProtocolError("bad_message")`` if not."""
    if len(text.encode("utf-8")) > MAX_CLIENT_MESSAGE_BYTES:
        raise ProtocolError("bad_message", "message too long")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProtocolError("bad_message", f"not JSON: {exc.msg}") from None
    except RecursionError:  # "[[[[…" within the size limit is nested past Python's stack
        raise ProtocolError("bad_message", "not JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_message", "a message must be a JSON object")
    return data


def draft_text(text: object) -> str:
    """A draft's text, cleaned; ``ProtocolError("bad_message")`` if unusable."""
    if not isinstance(text, str):
        raise ProtocolError("bad_message", "a draft's text must be a string")
    # NULs, escapes and direction overrides would reach the subtitles and the other person
    text = " ".join("".join(char for char in text
                            if char.isprintable() or char.isspace()).split())
    if not text:
        raise ProtocolError("bad_message", "a draft's text is empty")
    if len(text) > MAX_DRAFT_CHARS:
        raise ProtocolError("bad_message", f"a draft holds at most {MAX_DRAFT_CHARS} "
                            f"characters, got {len(text)}")
    return text


def parse_bool(text: str | None, default: bool) -> bool:
    """A URL query flag: ``1/true/yes/on`` or ``0/false/no/off``; anything else: default."""
    if text is None:
        return default
    value = text.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    return default
