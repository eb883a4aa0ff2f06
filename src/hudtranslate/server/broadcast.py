"""Fans one session's captions out to every web viewer, each with its own view.

A pipeline sink (``handle``/``close``) on one side, viewers' outgoing queues on the other.
Every distinct view (display profile × bilingual) in use gets one ``HudEngine``, so its
lines wrap, scroll and pace for that display, and its frames are rendered once however
many viewers share it. Between captions a timer keeps the display moving (scrolls are
sampled at ``fps``; held lines are released and the display cleared on time).

Photos (``show_scene``): each view's display shows the photo's card (``vision.card``) a
page at a time, each page for its reading time (``card_page_s``), then the captions
again; a final caption takes the display back once the card has been up ``CARD_MIN_S``
(speech comes first, but the wearer gets time to read the first page). Viewers get a
``scene`` message with the blocks, the card's pages and the photo (protocol.py).

Viewers without a display (``View.display`` False: the partner page) get only the
caption events, starting with the recent ones; no frames are rendered for them.

Each display message carries the load level of the latest caption (``load``: the
server is shedding optional work; protocol.py), sent again when only that changes.

Everything runs on the event loop thread: the pipeline calls ``handle`` there, and a
frame renders in a few milliseconds. A viewer that falls ``max_queue`` messages behind
is disconnected rather than slowing the session down.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hudtranslate.captions.frames import png_bytes, preview_image, render_frame
from hudtranslate.captions.hud import HudEngine, HudFrame
from hudtranslate.captions.profiles import PROFILES, DisplayProfile, profile_from_options
from hudtranslate.captions.rollup import PacingOptions
from hudtranslate.captions.track import CaptionTrack
from hudtranslate.config import Settings
from hudtranslate.events import StreamEnd, Transcript, Translation
from hudtranslate.server import protocol
from hudtranslate.vision.card import card_pages
from hudtranslate.vision.scene import SceneText

log = logging.getLogger(__name__)

CARD_MIN_S = 4.0
"""A photo's card stays on the display at least this long, even when speech goes on."""
CARD_PAGE_MIN_S = 4.0
CARD_PAGE_MAX_S = 20.0
"""Bounds of the time one card page stays up (its characters at reading speed)."""


@dataclass(frozen=True)
class View:
    """What one viewer looks at: a display profile, with or without the Chinese line.
    ``display`` False: no HUD at all, only the caption events (the partner page)."""

    profile: str
    bilingual: bool = True
    display: bool = True


class Viewer:
    """One connection's outgoing messages (text, or bytes for a binary frame); ``None``
    in the queue means: close."""

    def __init__(self, view: View, max_queue: int) -> None:
        self.view = view
        self.queue: asyncio.Queue[str | bytes | None] = asyncio.Queue()
        self.closed = False
        self._max_queue = max_queue

    def send(self, message: dict[str, Any]) -> None:
        if self.closed:
            return
        if self.queue.qsize() >= self._max_queue:
            self.closed = True
            log.warning("viewer fell %d messages behind: disconnecting it", self._max_queue)
            self.queue.put_nowait(protocol.encode(protocol.error_message(
                "too_slow", "this viewer fell too far behind the captions")))
            self.queue.put_nowait(None)
            return
        self.queue.put_nowait(protocol.encode(message))

    def send_binary(self, data: bytes) -> None:
        """A binary frame (a wearer's speech), after the messages already queued."""
        if not self.closed:
            self.queue.put_nowait(data)


@dataclass(frozen=True)
class _CardPage:
    frame: HudFrame
    url: str
    until_s: float
    """Clock time at which the next page (or the captions) takes over."""


@dataclass(frozen=True)
class _Scene:
    scene: SceneText
    photo_url: str
    scene_id: int
    shown_s: float


@dataclass
class _ViewState:
    engine: HudEngine
    frame: HudFrame | None = None
    frame_url: str = ""
    viewers: list[Viewer] = field(default_factory=list)
    seq: dict[int, int] = field(default_factory=dict)
    card: tuple[_CardPage, ...] = ()
    card_page: tuple[int, int] | None = None
    """(page, pages) of the card page on show; None while captions show."""


class CaptionBroadcaster:
    """Pipeline sink → live displays for web viewers (see the module doc)."""

    def __init__(self, default: DisplayProfile, *, profiles: Mapping[str, DisplayProfile]
                 | None = None, pacing: PacingOptions | None = None, pinyin: bool = False,
                 bilingual: bool = True, clock: Callable[[], float] = time.monotonic,
                 fps: int = 25, max_queue: int = 512) -> None:
        self.profiles = {**(profiles or PROFILES), default.name: default}
        self.default_view = View(default.name, bilingual)
        self.pacing = pacing or PacingOptions()
        self.pinyin = pinyin
        self._clock = clock
        self._step_s = 1 / max(1, fps)
        self._max_queue = max_queue
        self._track = CaptionTrack()
        self._views: dict[View, _ViewState] = {}
        self._viewers: list[Viewer] = []
        self._timer: asyncio.TimerHandle | None = None
        self._ended = False
        self._has_viewer = asyncio.Event()
        self._scene: _Scene | None = None
        self._scenes = 0
        self._card_end_s = float("inf")
        self._load_level = 0
        """The load level of the latest caption, sent with every display message."""

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> CaptionBroadcaster:
        display = settings.display
        return cls(profile_from_options(display), pacing=PacingOptions.from_options(display),
                   pinyin=display.pinyin, bilingual=settings.captions.show_source, **kwargs)

    @property
    def viewer_count(self) -> int:
        return len(self._viewers)

    async def wait_for_viewer(self) -> None:
        await self._has_viewer.wait()

    def translations(self) -> list[Translation]:
        """Latest English of the recent utterances of this round, oldest first."""
        return self._track.translations()

    def current_frame(self, view: View) -> HudFrame | None:
        """The frame last sent to viewers of ``view`` (``None`` if nobody watches it)."""
        state = self._views.get(view)
        return state.frame if state is not None else None

    # --- the pipeline side (Sink protocol) ------------------------------------------------

    def handle(self, event: Transcript | Translation | StreamEnd) -> None:
        if isinstance(event, StreamEnd):
            self._ended = True
            self._broadcast(protocol.end_message(event.duration_s))
            return
        if self._ended:  # a new round (--loop): start from a blank display
            self._ended = False
            self._track = CaptionTrack()
            for view, state in self._views.items():
                state.engine = self._engine(view)
        now = self._clock()
        load_changed = isinstance(event, Translation) and event.load_level != self._load_level
        if isinstance(event, Translation):
            self._load_level = event.load_level
        if isinstance(event, Translation) and event.final and self._scene is not None:
            self._card_end_s = min(self._card_end_s, max(now, self._scene.shown_s + CARD_MIN_S))
        self._track.update(event)
        self._broadcast(protocol.event_message(event))
        for state in self._views.values():
            state.engine.update(event, now)
        self._refresh(now, resend=load_changed)

    def close(self) -> None:
        """End of one stream: viewers stay connected (the display keeps its timers)."""

    def shutdown(self) -> None:
        """Server stopping: cancel the timer and close every viewer's connection."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for viewer in list(self._viewers):
            viewer.queue.put_nowait(None)
            self.remove_viewer(viewer)

    def show_scene(self, scene: SceneText, photo_url: str = "") -> int:
        """Show a photo's card on every display and send viewers its ``scene`` message
        (``photo_url``: the photo as a data URL for the page's overlay, "" for none);
        returns the scene's id (1, 2, … per broadcaster)."""
        now = self._clock()
        self._scenes += 1
        self._scene = _Scene(scene, photo_url, self._scenes, now)
        self._card_end_s = float("inf")
        for view, state in self._views.items():
            state.card = self._card(view)
            for viewer in state.viewers:
                self._send_scene(state, viewer)
        self._refresh(now)
        return self._scenes

    def fail(self, message: str) -> None:
        """Tell every viewer that the session stopped with an error."""
        self._broadcast(protocol.error_message("pipeline_failed", message))

    # --- the viewer side ------------------------------------------------------------------

    def add_viewer(self, view: View | None = None) -> Viewer:
        """Register a viewer; it gets ``hello`` and the current display right away."""
        viewer = Viewer(view or self.default_view, self._max_queue)
        self._viewers.append(viewer)
        self._attach(viewer)
        self._has_viewer.set()
        return viewer

    def remove_viewer(self, viewer: Viewer) -> None:
        if viewer in self._viewers:
            self._viewers.remove(viewer)
        self._detach(viewer)

    def set_view(self, viewer: Viewer, request: protocol.ViewRequest) -> None:
        """Apply a ``view`` request; an unknown profile answers an error, view unchanged."""
        profile = request.profile if request.profile is not None else viewer.view.profile
        if profile not in self.profiles:
            viewer.send(protocol.error_message(
                "unknown_profile", f"unknown profile {profile!r}; known: "
                + ", ".join(self.profiles)))
            return
        bilingual = viewer.view.bilingual if request.bilingual is None else request.bilingual
        self._detach(viewer)
        viewer.view = View(profile, bilingual, viewer.view.display)
        self._attach(viewer)

    def _attach(self, viewer: Viewer) -> None:
        view = viewer.view
        if not view.display:  # no HUD: hello, then the recent captions as they were
            viewer.send(protocol.hello_message(self.profiles[view.profile],
                                               list(self.profiles), bilingual=view.bilingual,
                                               pinyin=self.pinyin))
            for event in self._track.latest_events():
                viewer.send(protocol.event_message(event))
            return
        state = self._views.get(view)
        now = self._clock()
        if state is None:
            state = _ViewState(self._engine(view))
            state.engine.seed(self._track.latest_events(), now)
            state.card = self._card(view)
            self._views[view] = state
        state.viewers.append(viewer)
        viewer.send(protocol.hello_message(self.profiles[view.profile], list(self.profiles),
                                           bilingual=view.bilingual, pinyin=self.pinyin))
        self._send_scene(state, viewer)
        if state.frame is None:
            self._show(state, now)
        self._send_display(state, viewer)
        self._schedule()

    def _detach(self, viewer: Viewer) -> None:
        state = self._views.get(viewer.view)
        if state is None:
            return
        if viewer in state.viewers:
            state.viewers.remove(viewer)
        state.seq.pop(id(viewer), None)
        if not state.viewers:
            del self._views[viewer.view]

    def _engine(self, view: View) -> HudEngine:
        return HudEngine(self.profiles[view.profile], self.pacing,
                         show_source=view.bilingual, show_pinyin=self.pinyin)

    # --- keeping displays current ---------------------------------------------------------

    def _broadcast(self, message: dict[str, Any]) -> None:
        for viewer in list(self._viewers):
            viewer.send(message)

    def _show(self, state: _ViewState, now: float) -> bool:
        """Put what ``state``'s display shows at ``now`` (a card page, else the captions)
        into ``state``; True if that changed."""
        shown = self._card_page(state, now)
        if shown is not None:
            index, page = shown
            if page.frame is state.frame:
                return False
            state.frame, state.frame_url = page.frame, page.url
            state.card_page = (index + 1, len(state.card))
            return True
        frame = state.engine.frame(now)
        if frame == state.frame and state.card_page is None:
            return False
        state.frame, state.frame_url = frame, frame_data_url(frame)
        state.card_page = None
        return True

    def _send_display(self, state: _ViewState, viewer: Viewer) -> None:
        if state.frame is None:
            return
        seq = state.seq.get(id(viewer), 0) + 1
        state.seq[id(viewer)] = seq
        message = protocol.display_message(seq, state.frame, state.frame_url,
                                           bilingual=viewer.view.bilingual,
                                           load=self._load_level)
        if state.card_page is not None and self._scene is not None:
            page, pages = state.card_page
            message["card"] = {"scene_id": self._scene.scene_id, "page": page,
                               "pages": pages}
        viewer.send(message)

    def _refresh(self, now: float, *, resend: bool = False) -> None:
        """Send each view's display if it changed (every view's, with ``resend``: the load
        level it carries changed)."""
        for state in self._views.values():
            if self._show(state, now) or (resend and state.frame is not None):
                for viewer in list(state.viewers):
                    self._send_display(state, viewer)
        self._schedule()

    def _schedule(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        now = self._clock()
        times: list[float] = []
        for state in self._views.values():
            change = state.engine.next_change_s(now)
            # the frame on show may be mid-scroll though the scroll is over by now (a loaded
            # machine's clock moves on between drawing and planning): a tick must end it
            if state.engine.scrolling(now) or (state.frame is not None
                                               and state.frame.scrolling):
                change = now + self._step_s if change is None else min(change,
                                                                       now + self._step_s)
            if change is not None and change != float("inf"):
                times.append(change)
            shown = self._card_page(state, now)
            if shown is not None:
                times.append(min(shown[1].until_s, self._card_end_s))
        if times:  # a hair late rather than early: an early tick would find nothing to do
            delay = max(0.0, min(times) - now) + 0.001
            self._timer = asyncio.get_running_loop().call_later(delay, self._tick)

    def _tick(self) -> None:
        self._timer = None
        self._refresh(self._clock())

    # --- photo cards ----------------------------------------------------------------------

    def _card(self, view: View) -> tuple[_CardPage, ...]:
        """The current scene's card for ``view``, its pages timed from when it was shown."""
        if self._scene is None:
            return ()
        pages = []
        until = self._scene.shown_s
        for frame in card_pages(self._scene.scene.blocks, self.profiles[view.profile],
                                show_chinese=view.bilingual):
            until += card_page_s(frame, self.pacing)
            pages.append(_CardPage(frame, frame_data_url(frame), until))
        return tuple(pages)

    def _card_page(self, state: _ViewState, now: float) -> tuple[int, _CardPage] | None:
        """The card page on show at ``now`` with its index, or None (captions)."""
        if now >= self._card_end_s:
            return None
        return next(((index, page) for index, page in enumerate(state.card)
                     if now < page.until_s), None)

    def _send_scene(self, state: _ViewState, viewer: Viewer) -> None:
        if self._scene is None or not state.card:
            return
        shown = self._scene
        starts = (shown.shown_s, *(page.until_s for page in state.card[:-1]))
        card = [{"hud": page.frame.to_dict(), "frame": page.url,
                 "page_s": round(page.until_s - start, 3)}
                for page, start in zip(state.card, starts, strict=True)]
        viewer.send(protocol.scene_message(shown.scene, scene_id=shown.scene_id,
                                           profile=viewer.view.profile, card=card,
                                           photo=shown.photo_url))


def frame_data_url(frame: HudFrame) -> str:
    """``frame`` drawn at the display's pixels, as a PNG data URL (1-bit panels in their
    green)."""
    image = preview_image(render_frame(frame), frame.profile)
    return "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode("ascii")


def card_page_s(frame: HudFrame, pacing: PacingOptions) -> float:
    """How long a card page stays up: its English at reading speed plus a second, within
    ``CARD_PAGE_MIN_S`` and ``CARD_PAGE_MAX_S``."""
    characters = sum(len(line) for line in frame.english)
    reading_s = characters / pacing.reading_chars_per_s
    return min(CARD_PAGE_MAX_S, max(CARD_PAGE_MIN_S, 1.0 + reading_s))
