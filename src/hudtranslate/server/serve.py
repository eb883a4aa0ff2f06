"""``hudtranslate serve``: a live session whose captions show in a browser HUD page.

The server is a thin loop around the pipeline: load the models once, start the web app,
then run the microphone (or an audio file played at real-time pace) through the pipeline
with the broadcaster as its sink. A file waits for the first viewer so nobody misses the
start, can ``--loop``, and its last captions stay up until Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Literal

from rich.console import Console

from hudtranslate.audio import file_chunks, microphone_chunks, read_audio_file
from hudtranslate.captions.profiles import PROFILES
from hudtranslate.config import Settings
from hudtranslate.events import AudioArray, AudioChunk
from hudtranslate.pipeline import Engines, run_pipeline
from hudtranslate.server.app import HudServer
from hudtranslate.server.broadcast import CaptionBroadcaster

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


async def serve(
    settings: Settings,
    source: Literal["mic"] | Path,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    profile: str | None = None,
    loop: bool = False,
    wait_for_viewer: bool = True,
    engines: Engines | None = None,
    broadcaster: CaptionBroadcaster | None = None,
    on_ready: Callable[[str], None] | None = None,
    console: Console | None = None,
) -> int:
    """Serve the HUD and run one live session until it ends (mic: Ctrl-C) or is cancelled.

    ``engines`` defaults to the models named in ``settings`` and ``broadcaster`` to one
    made from them (tests and embedders pass their own); ``on_ready`` gets the page URL
    once the server listens.
    """
    if profile is not None:
        settings = dataclasses.replace(
            settings, display=dataclasses.replace(settings.display, profile=profile))
    samples = read_audio_file(source) if isinstance(source, Path) else None
    console = console or Console(stderr=True)
    broadcaster = broadcaster or CaptionBroadcaster.from_settings(settings)
    server = HudServer(broadcaster, host, port)
    url = await server.start()
    console.print(f"[bold green]HUD[/] at {url} ({broadcaster.default_view.profile}) "
                  "— Ctrl-C to stop", highlight=False)
    if on_ready is not None:
        on_ready(url)
    try:
        if engines is None:
            from hudtranslate.engines import load_engines

            engines = await asyncio.to_thread(load_engines, settings)
        try:
            await _play(samples, settings, engines, broadcaster, console, loop=loop,
                        wait_for_viewer=wait_for_viewer)
        except Exception as exc:  # tell the open pages why the captions stopped, re-raise
            broadcaster.fail(str(exc) or type(exc).__name__)
            raise
        if samples is not None:
            console.print("the file has ended; the page keeps its last captions — Ctrl-C "
                          "to stop", highlight=False)
            await asyncio.Event().wait()
    finally:
        await server.stop()
    return 0


async def _play(samples: AudioArray | None, settings: Settings, engines: Engines,
                broadcaster: CaptionBroadcaster, console: Console, *, loop: bool,
                wait_for_viewer: bool) -> None:
    while True:
        if samples is not None and wait_for_viewer and not broadcaster.viewer_count:
            console.print("waiting for a viewer to open the page…", highlight=False)
            await broadcaster.wait_for_viewer()
        chunks: AsyncIterator[AudioChunk] = (
            file_chunks(samples, settings.audio.chunk_ms, realtime=True)
            if samples is not None else microphone_chunks(settings.audio))
        await run_pipeline(chunks, engines, settings, [broadcaster], realtime=True)
        if samples is None or not loop:
            return


def add_serve_command(commands: Any, common: argparse.ArgumentParser) -> None:
    """Register ``hudtranslate serve`` on the CLI's subcommands (called from cli.py)."""
    parser = commands.add_parser(
        "serve", parents=[common],
        help="live HUD in a browser page (microphone, or a file at real-time pace)",
        description="Serve a web page that shows the glasses' HUD live, at the display's "
                    "pixel size, while a session runs.")
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address to listen on (default {DEFAULT_HOST}: this machine only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    try:
        parser.add_argument("--profile", dest="display.profile", default=None,
                            choices=sorted(PROFILES),
                            help="display profile (default: rokid, or [display] profile)")
    except argparse.ArgumentError:
        log.debug("--profile comes with the common options")
    parser.add_argument("--file", type=Path, default=None,
                        help="play this audio file at real-time pace instead of the microphone")
    parser.add_argument("--loop", action="store_true", help="play the file again and again")
    parser.add_argument("--no-wait", action="store_true",
                        help="start the file at once instead of when the first page opens")
    parser.add_argument("--device", dest="audio.device", default=None,
                        help="microphone: input device name or index")
    parser.set_defaults(handler=_run_serve)


def _run_serve(args: argparse.Namespace, settings: Settings) -> int:
    source: Literal["mic"] | Path = args.file if args.file is not None else "mic"
    return asyncio.run(serve(settings, source, host=args.host, port=args.port,
                             loop=args.loop, wait_for_viewer=not args.no_wait))
