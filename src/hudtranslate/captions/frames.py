"""Frames: a ``HudFrame`` drawn at the display's exact resolution and colour depth.

* ``1bit`` (Even G1): a mode ``1`` image. Glyphs are rasterised without anti-aliasing
  (FreeType's mono hinting), and styles dimmer than full brightness (the tentative tail)
  are dithered with a 2×2 ordered pattern, the usual way to draw grey on a 1-bit panel.
* ``green`` (Rokid): anti-aliased levels in the green channel only (R = B = 0); black is
  transparent on the glasses, brighter green is brighter light.
* ``rgb`` (Meta Display): anti-aliased colour.

``preview_image`` shows a frame as the wearer sees it (1-bit pixels lit in green): the web
view and the replay video use it. ``FrameSink`` is a pipeline sink that writes one PNG per
change of the display (``frame_00001.png`` ..., indexed in ``frames.jsonl``) and, at the
end, a replay at real time (see ``replay.py``).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
from pathlib import Path
from types import TracebackType

import numpy as np
from PIL import Image, ImageChops, ImageDraw

from hudtranslate.captions.fonts import load_font
from hudtranslate.captions.hud import Box, GlyphRun, HudEngine, HudFrame, RunStyle
from hudtranslate.captions.pacing import min_display_s
from hudtranslate.captions.profiles import RGB, DisplayProfile, profile_from_options
from hudtranslate.captions.replay import write_replay
from hudtranslate.captions.rollup import PacingOptions
from hudtranslate.config import Settings
from hudtranslate.errors import one_line
from hudtranslate.events import StreamEnd, Transcript, Translation

log = logging.getLogger(__name__)

BAYER_2X2 = np.array([[0, 128], [192, 64]], dtype=np.uint8)
"""Ordered-dither thresholds: a level lights a pixel where it is above the threshold, so
255 lights all, 128 half (a checkerboard), 64 a quarter, 0 none."""


def style_rgb(profile: DisplayProfile, style: RunStyle) -> RGB:
    return {
        "committed": profile.committed_rgb,
        "tentative": profile.tentative_rgb,
        "source": profile.source_rgb,
        "pinyin": profile.pinyin_rgb,
    }[style]


def render_frame(frame: HudFrame) -> Image.Image:
    """The frame exactly as the device takes it: ``1``, green-only ``RGB`` or ``RGB``."""
    profile = frame.profile
    size = (profile.width_px, profile.height_px)
    canvas = Image.new("RGB" if profile.color == "rgb" else "L", size, 0)
    aliased = profile.color == "1bit"
    clipped: dict[Box, list[GlyphRun]] = {}
    for run in frame.runs:
        if run.clip is None:
            _draw(canvas, run, profile, aliased)
        else:
            clipped.setdefault(run.clip, []).append(run)
    for box, runs in clipped.items():
        layer = Image.new(canvas.mode, size, 0)
        for run in runs:
            _draw(layer, run, profile, aliased)
        merged = ImageChops.lighter(canvas.crop(box), layer.crop(box))
        canvas.paste(merged, box[:2])
    if profile.color == "1bit":
        return dither_1bit(canvas)
    if profile.color == "green":
        dark = Image.new("L", size, 0)
        return Image.merge("RGB", (dark, canvas, dark))
    return canvas


def _draw(canvas: Image.Image, run: GlyphRun, profile: DisplayProfile, aliased: bool) -> None:
    draw = ImageDraw.Draw(canvas)
    draw.fontmode = "1" if aliased else "L"
    rgb = style_rgb(profile, run.style)
    fill: int | RGB = rgb if canvas.mode == "RGB" else rgb[1]
    face = load_font(run.size_px, run.font).face
    draw.text((run.x_px, run.baseline_px), run.text, font=face,
              fill=fill, anchor="ls")


def dither_1bit(levels: Image.Image) -> Image.Image:
    """An ``L`` image → mode ``1`` by the 2×2 ordered dither (see ``BAYER_2X2``)."""
    array = np.asarray(levels, dtype=np.uint8)
    height, width = array.shape
    thresholds = np.tile(BAYER_2X2, (height // 2 + 1, width // 2 + 1))[:height, :width]
    return Image.fromarray(array > thresholds).convert("1")


def preview_image(image: Image.Image, profile: DisplayProfile) -> Image.Image:
    """How the wearer sees a device frame, as RGB: lit 1-bit pixels in the display's green."""
    if image.mode == "1":
        lit = np.asarray(image, dtype=bool)
        rgb = np.zeros((*lit.shape, 3), dtype=np.uint8)
        rgb[lit] = profile.committed_rgb
        return Image.fromarray(rgb, "RGB")
    return image.convert("RGB")


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=3)
    return buffer.getvalue()


class FrameSink:
    """Pipeline sink: renders the HUD on every change, on the events' own stream clock.

    Time is each event's ``emitted_s``, so pacing (held lines, scrolling, clearing) plays
    out exactly as it did live. A file run faster than real time reaches its end long
    before the models catch up, so there ``latency_cap_s`` places each event at most that
    long after the speech it covers. ``out_dir`` gets the steady frames (not the in-between
    frames of a scroll); the replay at ``video_path`` gets every frame, scrolls at ``fps``.
    """

    def __init__(self, profile: DisplayProfile, out_dir: Path | None = None,
                 video_path: Path | None = None, *, pacing: PacingOptions | None = None,
                 show_source: bool = True, show_pinyin: bool = False, fps: int = 25,
                 latency_cap_s: float | None = None) -> None:
        if out_dir is None and video_path is None:
            raise ValueError("FrameSink needs an out_dir, a video_path or both")
        self.profile = profile
        self.out_dir = out_dir
        self.video_path = video_path
        self.frames_written: list[Path] = []
        self.video_written: Path | None = None
        self._engine = HudEngine(profile, pacing, show_source=show_source,
                                 show_pinyin=show_pinyin)
        self._step_s = 1 / max(1, fps)
        self._latency_cap_s = latency_cap_s
        self._now = 0.0
        self._last: HudFrame | None = None
        self._timeline: list[tuple[float, HudFrame]] = []
        self._end_s: float | None = None
        self._closed = False
        self._index = None
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            self._index = (out_dir / "frames.jsonl").open("w", encoding="utf-8")

    def __enter__(self) -> FrameSink:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def handle(self, event: Transcript | Translation | StreamEnd) -> None:
        if self._closed:
            return
        if isinstance(event, StreamEnd):
            self._finish(event.duration_s)
            return
        shown_s = event.emitted_s
        if self._latency_cap_s is not None:
            shown_s = min(shown_s, event.end_s + self._latency_cap_s)
        now = max(self._now, shown_s)
        self._run_until(now)
        if self._engine.update(event, now):
            self._capture(now)

    def close(self) -> None:
        """Finish the timeline and write the replay. Safe to call twice."""
        if self._closed:
            return
        if self._end_s is None:
            self._finish(self._now)
        self._closed = True
        if self._index is not None:
            self._index.close()
        if self.video_path is not None and self._timeline:
            timeline = self._timeline
            if timeline[0][0] > 0:  # the replay starts with the stream, on a blank display
                timeline = [(0.0, HudFrame(self.profile)), *timeline]
            frames = [(t, preview_image(render_frame(f), self.profile)) for t, f in timeline]
            end_s = self._now if self._end_s is None else self._end_s
            self.video_written = write_replay(frames, end_s, self.video_path)
            log.info("wrote the display replay %s", self.video_written)
        elif self.video_path is not None:
            log.warning("no captions were shown, so no replay was written to %s",
                        self.video_path)

    def _finish(self, duration_s: float) -> None:
        """Play out held lines and the last scroll, then hold the last frame to be read."""
        self._run_until(max(duration_s, self._now))
        for _ in range(10_000):  # bounded: each step is a scroll tick or a line release
            scroll_s = self._engine.rollup.next_scroll_s(self._now)
            if scroll_s is None or scroll_s == float("inf"):
                break
            self._advance_to(min(scroll_s, self._now + self._step_s)
                             if self._engine.scrolling(self._now) else scroll_s)
        last = self._last.text if self._last is not None else ""
        self._end_s = max(duration_s, self._now + min_display_s(last))

    def _run_until(self, t: float) -> None:
        for _ in range(100_000):  # bounded: time moves forward on every step
            change = self._engine.next_change_s(self._now)
            if self._engine.scrolling(self._now):
                change = min(t if change is None else change, self._now + self._step_s)
            if change is None or change >= t:
                break
            self._advance_to(max(change, self._now + 1e-6))
        self._now = max(self._now, t)

    def _advance_to(self, t: float) -> None:
        self._now = t
        self._capture(t)

    def _capture(self, t: float) -> None:
        frame = self._engine.frame(t)
        if frame == self._last:
            return
        self._last = frame
        self._timeline.append((t, frame))
        if self.out_dir is None or self._index is None or frame.scrolling:
            return
        name = f"frame_{len(self.frames_written) + 1:05d}.png"
        path = self.out_dir / name
        record = {"frame": name, "t_s": round(t, 3), "english": list(frame.english),
                  "source": frame.source, "pinyin": frame.pinyin}
        try:
            render_frame(frame).save(path)
            self._index.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._index.flush()
        except OSError as exc:  # a full or vanished disk: the frames stop, the run goes on
            self._stop_frames(path, exc)
            return
        self.frames_written.append(path)

    def _stop_frames(self, path: Path, exc: OSError) -> None:
        """No more PNGs after one that could not be written (its partial file removed);
        the captions, the transcript and the replay go on. One warning line."""
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
        if self._index is not None:
            with contextlib.suppress(OSError):
                self._index.close()
        self._index = None
        log.warning("stopped writing frames at %s: %s (the frames before it are kept; "
                    "captions and transcript go on)", path, one_line(exc))


FAST_RUN_LATENCY_S = 1.0
"""In a replay of a file run faster than real time, captions appear this long after speech."""


def make_frame_sink(settings: Settings, frames_dir: Path | None, video_path: Path | None,
                    *, realtime: bool) -> FrameSink:
    """The ``--frames DIR`` / ``--video PATH`` sink for ``settings.display``; ``realtime``
    tells whether the session runs at real-time pace (else its clock is not wall time)."""
    display = settings.display
    return FrameSink(profile_from_options(display), frames_dir, video_path,
                     pacing=PacingOptions.from_options(display),
                     show_source=settings.captions.show_source, show_pinyin=display.pinyin,
                     latency_cap_s=None if realtime else FAST_RUN_LATENCY_S)
