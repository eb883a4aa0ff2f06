"""Fans one session's captions out to every web viewer, each with its own view.

A pipeline sink (``handle``/``close``) on one side, viewers' outgoing queues on the other.
Every distinct view (display profile × bilingual) in use gets one ``HudEngine``, so its
lines wrap, scroll and pace for that display, and its frames are rendered once however
many viewers share it. Between captions a timer keeps the display moving (scrolls are
sampled at ``fps``; held lines are released and the display cleared on time).

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

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class View:
    """What one viewer looks at: a display profile, with or without the Chinese line."""

    profile: str
    bilingual: bool = True


class Viewer:
    """One connection's outgoing messages; ``None`` in the queue means: close."""

    def __init__(self, view: View, max_queue: int) -> None:
        self.view = view
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
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


@dataclass
class _ViewState:
    engine: HudEngine
    frame: HudFrame | None = None
    frame_url: str = ""
    viewers: list[Viewer] = field(default_factory=list)
    seq: dict[int, int] = field(default_factory=dict)


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
        self._track.update(event)
        self._broadcast(protocol.event_message(event))
        for state in self._views.values():
            state.engine.update(event, now)
        self._refresh(now)

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
        viewer.view = View(profile, bilingual)
        self._attach(viewer)

    def _attach(self, viewer: Viewer) -> None:
        view = viewer.view
        state = self._views.get(view)
        now = self._clock()
        if state is None:
            state = _ViewState(self._engine(view))
            state.engine.seed(self._track.latest_events(), now)
            self._views[view] = state
        state.viewers.append(viewer)
        viewer.send(protocol.hello_message(self.profiles[view.profile], list(self.profiles),
                                           bilingual=view.bilingual, pinyin=self.pinyin))
        if state.frame is None:
            self._render(state, state.engine.frame(now))
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

    def _render(self, state: _ViewState, frame: HudFrame) -> None:
        image = preview_image(render_frame(frame), frame.profile)
        state.frame = frame
        state.frame_url = "data:image/png;base64," + base64.b64encode(
            png_bytes(image)).decode("ascii")

    def _send_display(self, state: _ViewState, viewer: Viewer) -> None:
        if state.frame is None:
            return
        seq = state.seq.get(id(viewer), 0) + 1
        state.seq[id(viewer)] = seq
        viewer.send(protocol.display_message(seq, state.frame, state.frame_url,
                                             bilingual=viewer.view.bilingual))

    def _refresh(self, now: float) -> None:
        for state in self._views.values():
            frame = state.engine.frame(now)
            if frame != state.frame:
                self._render(state, frame)
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
            if state.engine.scrolling(now):
                change = now + self._step_s if change is None else min(change,
                                                                       now + self._step_s)
            if change is not None and change != float("inf"):
                times.append(change)
        if times:  # a hair late rather than early: an early tick would find nothing to do
            delay = max(0.0, min(times) - now) + 0.001
            self._timer = asyncio.get_running_loop().call_later(delay, self._tick)

    def _tick(self) -> None:
        self._timer = None
        self._refresh(self._clock())
