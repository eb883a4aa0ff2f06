"""The caption protocol between ``hudtranslate serve`` and its viewers. Version 1.

This docstring is the specification.

Transport
    One WebSocket per viewer at ``/ws/captions`` on the serve HTTP server
    (``http://127.0.0.1:8765/`` by default). Every message is one JSON object in a text
    frame, with a ``type``. Viewers choose their initial view in the URL:
    ``/ws/captions?profile=even-g1&bilingual=0`` (both optional; defaults are the
    server's ``--profile`` and bilingual on). Browsers must connect from a page of the same
    host: a cross-origin ``Origin`` is refused with HTTP 403.

Server → viewer
    ``hello``
        First message of every connection, and the answer to each ``view`` request::

            {"type": "hello", "protocol_version": 1, "server": "hudtranslate 0.1.0",
             "profile": {"name": "rokid", "width_px": 480, "height_px": 640,
                         "color": "green", "font_size_px": 28, ...},
             "profiles": ["rokid", "even-g1", "meta-display"],
             "bilingual": true, "pinyin": false}

    ``display``
        What this viewer's HUD shows now, for its profile and bilingual choice. Sent after
        ``hello`` and on every change of the display, including changes between captions
        (lines scrolling up, a held line released by reading-speed pacing, clearing after
        silence). ``frame`` is the display's exact pixels as a PNG (the 1-bit panels'
        lit pixels shown in their green); ``hud`` is the same frame as positioned text::

            {"type": "display", "seq": 17, "profile": "rokid", "bilingual": true,
             "frame": "data:image/png;base64,...",
             "hud": {"width_px": 480, "height_px": 640, "scrolling": false,
                     "english": ["He quickly made friends with the", "new boy."],
                     "source": "他很快便与新来的男孩交上了朋友。", "pinyin": "",
                     "runs": [{"text": "He quickly ...", "x_px": 24, "baseline_px": 473,
                               "size_px": 28, "style": "committed", "clip": null}, ...]}}

        ``seq`` grows by one per display message on a connection; draw only the newest.
        ``style`` is ``committed`` (final English), ``tentative`` (may still change;
        drawn dimmer), ``source`` (Chinese) or ``pinyin``.

    ``transcript``
        Each recognition result (Chinese; ``committed`` never changes again)::

            {"type": "transcript", "utterance_id": 3, "committed": "通常情况下，",
             "tentative": "我们", "final": false,
             "start_s": 9.77, "end_s": 11.2, "emitted_s": 11.3}

    ``caption``
        Each translation result (English for one utterance so far, with its Chinese)::

            {"type": "caption", "utterance_id": 3, "committed": "", "tentative": "We usually",
             "source": "通常情况下，我们", "final": false,
             "start_s": 9.77, "end_s": 11.2, "emitted_s": 11.9, "model": "qwen2.5-1.5b"}

        Times are seconds on the session's stream clock (audio position for
        ``start_s``/``end_s``, production time for ``emitted_s``).

    ``end``
        The audio stream ended: ``{"type": "end", "duration_s": 84.1}``. The display keeps
        its last captions (and clears by itself); a looping server then starts again.

    ``error``
        ``{"type": "error", "code": "unknown_profile", "message": "..."}``. Codes:
        ``bad_message`` (unparseable or unknown request; the connection stays open),
        ``unknown_profile`` (the view is unchanged), ``too_slow`` (the viewer fell too
        far behind and is disconnected), ``pipeline_failed`` (the session stopped).

Viewer → server
    ``view``
        Change this connection's view; both fields optional::

            {"type": "view", "profile": "meta-display", "bilingual": false}

        Answered with ``hello`` and a fresh ``display``.

Versioning
    ``protocol_version`` changes only for incompatible changes. Within a version, messages
    may gain fields and new message types may appear: viewers ignore what they do not know.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hudtranslate import __version__
from hudtranslate.captions.hud import HudFrame
from hudtranslate.captions.profiles import DisplayProfile
from hudtranslate.errors import HudTranslateError
from hudtranslate.events import Transcript, Translation

PROTOCOL_VERSION = 1
ERROR_CODES = frozenset({"bad_message", "unknown_profile", "too_slow", "pipeline_failed"})
MAX_CLIENT_MESSAGE_BYTES = 4096


class ProtocolError(HudTranslateError):
    """A viewer sent something that is not a valid request; ``code`` is the error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ViewRequest:
    """A viewer's ``view`` message: ``None`` fields keep the current choice."""

    profile: str | None = None
    bilingual: bool | None = None


def encode(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


def hello_message(profile: DisplayProfile, profiles: list[str], *, bilingual: bool,
                  pinyin: bool) -> dict[str, Any]:
    return {"type": "hello", "protocol_version": PROTOCOL_VERSION,
            "server": f"hudtranslate {__version__}", "profile": profile.to_dict(),
            "profiles": profiles, "bilingual": bilingual, "pinyin": pinyin}


def display_message(seq: int, frame: HudFrame, frame_data_url: str, *,
                    bilingual: bool) -> dict[str, Any]:
    return {"type": "display", "seq": seq, "profile": frame.profile.name,
            "bilingual": bilingual, "frame": frame_data_url, "hud": frame.to_dict()}


def event_message(event: Transcript | Translation) -> dict[str, Any]:
    """A ``transcript`` or ``caption`` message for one pipeline event."""
    times = {"start_s": round(event.start_s, 3), "end_s": round(event.end_s, 3),
             "emitted_s": round(event.emitted_s, 3)}
    if isinstance(event, Translation):
        return {"type": "caption", "utterance_id": event.utterance_id,
                "committed": event.committed, "tentative": event.tentative,
                "source": event.source, "final": event.final, **times, "model": event.model}
    return {"type": "transcript", "utterance_id": event.utterance_id,
            "committed": event.committed, "tentative": event.tentative,
            "final": event.final, **times}


def end_message(duration_s: float) -> dict[str, Any]:
    return {"type": "end", "duration_s": round(duration_s, 3)}


def error_message(code: str, message: str) -> dict[str, Any]:
    if code not in ERROR_CODES:
        raise ValueError(f"unknown error code {code!r}")
    return {"type": "error", "code": code, "message": message}


def parse_client_message(text: str) -> ViewRequest:
    """Parse one viewer message; raises ``ProtocolError("bad_message")`` if it is not valid."""
    if len(text.encode("utf-8")) > MAX_CLIENT_MESSAGE_BYTES:
        raise ProtocolError("bad_message", "message too long")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProtocolError("bad_message", f"not JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_message", "a message must be a JSON object")
    if data.get("type") != "view":
        raise ProtocolError("bad_message", f"unknown message type {data.get('type')!r}")
    profile, bilingual = data.get("profile"), data.get("bilingual")
    if profile is not None and not isinstance(profile, str):
        raise ProtocolError("bad_message", "profile must be a string")
    if bilingual is not None and not isinstance(bilingual, bool):
        raise ProtocolError("bad_message", "bilingual must be true or false")
    return ViewRequest(profile, bilingual)


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
