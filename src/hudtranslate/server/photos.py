"""``POST /look``: a photo in; its text read, translated, answered and shown on a HUD.

The protocol (body, query, answer, errors) is in ``protocol.py`` under "Photos".

Loading. The OCR engine is loaded with the first photo (RapidOCR with its bundled
models, about a second), so a server that never sees a photo never pays for it. The
translator is the server's own, shared with speech: ``engines.translator``, which is the
remote-with-local-fallback router when ``--remote-url`` is set. Photo text has its own
prompt (``translate.prompts.PHOTO_TEXT``).

Core sharing. Photos are read one at a time in a worker thread, never on the event loop;
at most ``limits.max_waiting_photos`` wait their turn (more are answered 503). While
speech is being translated (wearer sessions, or the server's own ``--mic``/``--file``)
the OCR runs on one onnxruntime thread (an engine of its own, loaded when first needed)
so recognition keeps a core; otherwise on ``vision.ocr_threads``. Translation takes the
model's lock once per block of text (``vision.translate``), so a speech sentence waits
for at most one block of a photo (a menu line: a few words). On the local model a switch
between the speech and the photo prompt also swaps llama.cpp's KV state (``LlamaEngine``
keeps the state of the prompt it left: 0.4 s to save, 0.7 s to restore, instead of 3.4 s
to evaluate the other prompt again). So that the next spoken sentence after a photo does
not pay for it, the speech prompt is restored right after a photo the local model
translated while speech is live.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web
from PIL import Image

from hudtranslate.config import VisionOptions
from hudtranslate.errors import HudTranslateError, ImageError, one_line
from hudtranslate.server.limits import SessionLimits
from hudtranslate.translate.glossary import Glossary
from hudtranslate.translate.translator import TranslationBackend
from hudtranslate.vision.images import load_image
from hudtranslate.vision.look import Looker
from hudtranslate.vision.ocr import OcrEngine
from hudtranslate.vision.scene import SceneText
from hudtranslate.vision.translate import SceneTranslator

log = logging.getLogger(__name__)

ACCEPTED_TYPES = frozenset({"image/jpeg", "image/jpg", "image/png", "image/webp", "image/heic",
                            "image/heif", "image/avif"})
"""Content types of a photo body (``image/jpg`` is not registered, but common)."""
PHOTO_LONG_SIDE_PX = 1280
"""The photo sent to pages for their overlay is scaled to this long side at most."""
_RETRY_AFTER_S = 5
_MAX_NAME_CHARS = 200

ShowScene = Callable[[SceneText, str], object]
"""Shows a read photo somewhere: the scene and the photo as a data URL."""


class PhotoRefused(HudTranslateError):
    """A photo request that is answered with an HTTP error: ``status`` and the message."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


def json_error(status: int, message: str, headers: dict[str, str] | None = None
               ) -> web.Response:
    """An HTTP error as ``{"error": message}``."""
    return web.json_response({"error": message}, status=status, headers=headers)


def photo_data_url(image: Image.Image, long_side_px: int = PHOTO_LONG_SIDE_PX,
                   turned_deg: int = 0) -> str:
    """``image`` as a JPEG data URL no larger than ``long_side_px`` (for the page's
    overlay: about 100–200 kB rather than the upload's megabytes), turned ``turned_deg``
    degrees counter-clockwise after scaling (as the scene was read)."""
    small = image.copy()
    small.thumbnail((long_side_px, long_side_px), Image.Resampling.LANCZOS)
    if turned_deg:
        small = small.rotate(turned_deg, expand=True)
    buffer = io.BytesIO()
    small.convert("RGB").save(buffer, "JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


class PhotoReader:
    """Reads the photos of one server (see the module doc). ``speech_active`` says
    whether speech is being translated now; ``ocr_factory`` loads an OCR engine with a
    number of threads (tests pass a fake)."""

    def __init__(self, translator: TranslationBackend, glossary: Glossary | None,
                 options: VisionOptions, limits: SessionLimits | None = None, *,
                 speech_active: Callable[[], bool] = lambda: False,
                 ocr_factory: Callable[[int], OcrEngine] | None = None) -> None:
        self.translator = translator
        self.glossary = glossary
        self.options = options
        self.limits = limits or SessionLimits()
        self._speech_active = speech_active
        self._ocr_factory = ocr_factory or self._load_ocr
        self._engines: dict[int, OcrEngine] = {}
        self._scene_translator: SceneTranslator | None = None
        self._loading = threading.Lock()
        self._turn = asyncio.Lock()
        self._pending = 0
        self._stop = threading.Event()

    def _load_ocr(self, threads: int) -> OcrEngine:
        return OcrEngine(threads=threads, min_confidence=self.options.min_confidence)

    @property
    def loaded_threads(self) -> list[int]:
        """Thread counts of the OCR engines loaded so far (none before the first photo)."""
        return sorted(self._engines)

    def close(self) -> None:
        """Server stopping: the photo being read stops after its current block and it and
        the photos waiting are answered 503 (never part of a photo as if it were all)."""
        self._stop.set()

    # --- HTTP ---------------------------------------------------------------------------

    async def handle(self, request: web.Request, show: ShowScene) -> web.Response:
        """Answer one ``POST /look``: the scene as JSON, after ``show`` was given it."""
        try:
            kind = request.content_type.lower()
            if kind not in ACCEPTED_TYPES:
                raise PhotoRefused(415, f"send the photo itself as the body with Content-Type "
                                   f"image/jpeg, image/png, image/webp, image/heic, image/heif or "
                                   f"image/avif (got {kind or 'none'})")
            if self._pending > self.limits.max_waiting_photos:
                raise PhotoRefused(503, "busy reading other photos: try again shortly",
                                   {"Retry-After": str(_RETRY_AFTER_S)})
            self._pending += 1
            try:
                body = await self._body(request)
                name = (request.query.get("name") or "photo")[:_MAX_NAME_CHARS]
                scene, photo = await self.read(body, name)
            finally:
                self._pending -= 1
        except PhotoRefused as exc:
            log.info("photo refused (%d): %s", exc.status, exc,
                     extra={"event": "photo_refused", "status": exc.status})
            return json_error(exc.status, str(exc), exc.headers)
        show(scene, photo)
        return web.json_response(scene.to_dict(), dumps=_json)

    async def _body(self, request: web.Request) -> bytes:
        limit = self.limits.max_photo_bytes
        too_large = PhotoRefused(413, f"a photo may have at most {limit} bytes "
                                 f"({limit / 1e6:g} MB)")
        if request.content_length is not None and request.content_length > limit:
            raise too_large
        data = bytearray()
        try:
            async for chunk in request.content.iter_chunked(1 << 16):
                data += chunk
                if len(data) > limit:
                    raise too_large
        except (ConnectionResetError, aiohttp.ClientPayloadError) as exc:
            # a phone on a flaky network: the upload broke off, nobody is left to answer
            raise PhotoRefused(400, f"the upload broke off after {len(data)} bytes "
                               f"({one_line(exc)})") from None
        if not data:
            raise PhotoRefused(400, "the request has no photo in its body")
        return bytes(data)

    # --- reading --------------------------------------------------------------------------

    async def read(self, data: bytes, name: str = "photo") -> tuple[SceneText, str]:
        """Decode, read and translate the photo ``data`` in a worker thread, one photo at
        a time: the scene and the photo as a data URL. ``PhotoRefused`` for an image that
        cannot be read (400) or an OCR engine that cannot be loaded (500)."""
        async with self._turn:
            if self._stop.is_set():
                raise _stopping()
            threads = 1 if self._speech_active() else self.options.ocr_threads
            return await asyncio.to_thread(self._read, data, name, threads)

    def _read(self, data: bytes, name: str, threads: int) -> tuple[SceneText, str]:
        try:
            image = load_image(data, max_megapixels=self.options.max_megapixels, name=name)
        except ImageError as exc:
            raise PhotoRefused(400, str(exc)) from None
        try:
            looker = self._looker(threads)
        except HudTranslateError as exc:
            log.error("cannot load the OCR engine: %s", exc)
            raise PhotoRefused(500, f"cannot read photos on this server: {exc}") from None
        cut_short = threading.Event()

        def cancelled() -> bool:  # the server stopping cuts the reading short: a 503
            if self._stop.is_set():
                cut_short.set()
            return cut_short.is_set()

        scene = looker.look(image, name, cancelled=cancelled)
        if cut_short.is_set():  # part of the text at most: never answered as the whole
            log.info("photo %s: not finished, the server is stopping", name,
                     extra={"event": "photo_refused", "status": 503})
            raise _stopping()
        log.info("photo %s: %d blocks, %.2f s", name, len(scene.blocks),
                 scene.timings_s.get("total", 0.0),
                 extra={"event": "photo", "blocks": len(scene.blocks),
                        "ocr_threads": threads, "timings_s": scene.timings_s})
        if self._speech_active():
            self._restore_speech_prompt(scene)
        return scene, photo_data_url(image, turned_deg=scene.turned_deg)

    def _looker(self, threads: int) -> Looker:
        with self._loading:
            engine = self._engines.get(threads)
            if engine is None:
                log.info("loading the OCR engine (%d threads)", threads)
                engine = self._engines[threads] = self._ocr_factory(threads)
            if self._scene_translator is None:
                self._scene_translator = SceneTranslator(
                    self.translator, self.glossary,
                    max_new_tokens=self.options.max_new_tokens,
                    batch=self.options.batch_blocks)
        return Looker(engine, self._scene_translator, self.options)

    def _restore_speech_prompt(self, scene: SceneText) -> None:
        """Put the speech prompt back into the local model's cache if the photo's prompt
        displaced it (see the module doc)."""
        local = getattr(self.translator, "fallback", self.translator)
        warm_up = getattr(local, "warm_up", None)
        if callable(warm_up) and any(block.model == local.name for block in scene.blocks):
            warm_up()


def _stopping() -> PhotoRefused:
    return PhotoRefused(503, "server stopping: the photo was not read; send it again "
                        "once the server is back", {"Retry-After": str(_RETRY_AFTER_S)})


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
