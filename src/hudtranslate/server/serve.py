"""``hudtranslate serve``: wearers stream audio in and get captions back; a browser HUD.

The server is a thin loop around the pipeline. It loads the models once and shares them:
every wearer connecting to ``/ws/audio`` gets its own session (see ``sessions.py``), and
the server's own microphone (``--mic``) or an audio file played at real-time pace
(``--file``) can run as one more session whose captions show on ``/``. A file waits for
the first viewer so nobody misses the start, can ``--loop``, and its last captions stay
up until Ctrl-C. With ``--remote-url`` sentences go to a bigger model on an
OpenAI-compatible server while it answers, and to the local model when it does not.
Photos posted to ``/look`` are read and translated with the same translator
(``photos.py``) and shown on the page (or a wearer's, with ``?session=ID``).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import functools
import logging
import os
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.markup import escape

from hudtranslate.audio import file_chunks, microphone_chunks, read_audio_file
from hudtranslate.captions.profiles import PROFILES
from hudtranslate.config import Settings
from hudtranslate.errors import ConfigError, ModelError, ensure_writable_folder
from hudtranslate.events import AudioArray, AudioChunk
from hudtranslate.observability import configure_json_logging
from hudtranslate.pipeline import Engines, Sink, run_pipeline
from hudtranslate.server.app import HudServer
from hudtranslate.server.broadcast import CaptionBroadcaster
from hudtranslate.server.limits import (
    MAX_PHOTO_MB_RANGE,
    SessionLimits,
    cannot_listen,
    check_bind,
    check_can_listen,
)
from hudtranslate.server.manager import SessionManager
from hudtranslate.server.photos import PhotoReader
from hudtranslate.server.protocol import DEFAULT_PORT
from hudtranslate.sharing import SharedLoad
from hudtranslate.speech_out.voice import Voice
from hudtranslate.termination import run_until_terminated
from hudtranslate.transcripts.sessions import SessionStore, default_data_dir
from hudtranslate.translate.overflow import (
    AUTO_OVERFLOW,
    AUTO_OVERFLOW_MODEL,
    NO_OVERFLOW,
    OverflowBackend,
    local_engine,
)
from hudtranslate.translate.remote import OpenAIChatBackend, RemoteOptions, api_key_from_env
from hudtranslate.translate.router import FallbackBackend

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"


async def serve(
    settings: Settings,
    source: Literal["mic"] | Path | None,
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
    token: str = "",
    limits: SessionLimits | None = None,
    store: SessionStore | None = None,
    remote: RemoteOptions | None = None,
) -> int:
    """Serve the HUD and wearer sessions until cancelled (Ctrl-C), or until the local
    ``source`` ends when there is one (``None``: wearers only).

    ``engines`` defaults to the models named in ``settings`` and ``broadcaster`` to one
    made from them (tests and embedders pass their own); ``store`` keeps every session's
    transcript; ``on_ready`` gets the page URL once the server listens.
    """
    check_bind(host, token)
    check_can_listen(host, port)
    if profile is not None:
        settings = dataclasses.replace(
            settings, display=dataclasses.replace(settings.display, profile=profile))
    samples = read_audio_file(source) if isinstance(source, Path) else None
    console = console or Console(stderr=True)
    broadcaster = broadcaster or CaptionBroadcaster.from_settings(settings)
    if engines is None:
        from hudtranslate.engines import load_engines, warm_beside_speech
        from hudtranslate.translate.llama import LlamaBackend
        from hudtranslate.translate.prompts import PHOTO_TEXT

        check_named_overflow_model(settings)  # a wrong name fails before the long loads
        engines = await asyncio.to_thread(load_engines, settings)
        if isinstance(engines.translator, LlamaBackend):
            await asyncio.to_thread(warm_beside_speech, engines.translator, PHOTO_TEXT)
    router = None
    if remote is not None:
        primary = OpenAIChatBackend(remote, glossary_example=bool(engines.glossary))
        router = FallbackBackend(primary, engines.translator,
                                 probe_interval_s=remote.probe_interval_s)
        up = await asyncio.to_thread(router.check)
        state = "answering" if up else f"not answering, using {router.fallback.name}"
        console.print(escape(f"remote model {router.primary.name} at {remote.url}: {state}"),
                      highlight=False)
        engines = dataclasses.replace(engines, translator=router)
    voices: dict[str, Voice] = {}
    if settings.voice.speak:
        from hudtranslate.speech_out.sinks import load_voices

        voices = await asyncio.to_thread(load_voices, settings.voice,
                                         api_key=api_key_from_env())
    limits = limits or SessionLimits()
    sessions = SessionManager(await _with_overflow(engines, settings, console,
                                                   limits.max_sessions), settings,
                              limits=limits, store=store, voices=voices)
    translator = sessions.engines.translator
    if isinstance(translator, OverflowBackend) and limits.max_sessions >= LOAD_AT_START_FROM:
        translator.load_small_soon()  # before any wearer talks
    photos = PhotoReader(engines.translator, engines.glossary, settings.vision,
                         sessions.limits,
                         speech_active=lambda: sessions.active > 0 or source is not None)
    server = HudServer(broadcaster, host, port, sessions=sessions, token=token,
                       photos=photos)
    try:
        try:
            url = await server.start()
        except OSError as exc:  # taken while the models loaded
            raise ConfigError(cannot_listen(host, port, exc)) from None
        where = (f" at {url} ({broadcaster.default_view.profile}); wearers: "
                 f"{url.replace('http', 'ws', 1)}ws/audio; photos: POST {url}look — Ctrl-C "
                 "to stop")
        console.print(f"[bold green]HUD[/]{escape(where)}", highlight=False)
        log.info("serving at %s", url, extra={"event": "listening", "url": url,
                                                "max_sessions": sessions.limits.max_sessions})
        if on_ready is not None:
            on_ready(url)
        if source is None:
            await asyncio.Event().wait()
        try:
            await _play(samples, settings, engines, broadcaster, console, store, loop=loop,
                        wait_for_viewer=wait_for_viewer, load=sessions.load, voices=voices)
        except Exception as exc:  # tell the open pages why the captions stopped, re-raise
            broadcaster.fail(str(exc) or type(exc).__name__)
            raise
        if samples is not None:
            console.print("the file has ended; the page keeps its last captions — Ctrl-C "
                          "to stop", highlight=False)
            await asyncio.Event().wait()
    finally:
        await server.stop()
        if router is not None:
            router.close()
        if store is not None:
            store.close()
    return 0


async def _play(samples: AudioArray | None, settings: Settings, engines: Engines,
                broadcaster: CaptionBroadcaster, console: Console, store: SessionStore | None,
                *, loop: bool, wait_for_viewer: bool, load: SharedLoad,
                voices: Mapping[str, Voice] | None = None) -> None:
    """The server's own microphone or file, as one more session sharing the load; with
    ``voices`` (``--speak``) its captions are said on this machine's audio output."""
    while True:
        if samples is not None and wait_for_viewer and not broadcaster.viewer_count:
            console.print("waiting for a viewer to open the page…", highlight=False)
            await broadcaster.wait_for_viewer()
        chunks: AsyncIterator[AudioChunk] = (
            file_chunks(samples, settings.audio.chunk_ms, realtime=True)
            if samples is not None else microphone_chunks(settings.audio))
        recorder = store.open(client="serve --file" if samples is not None else "serve --mic"
                              ) if store is not None else None
        sinks: list[Sink] = [recorder, broadcaster] if recorder is not None else [broadcaster]
        if voices:
            from hudtranslate.speech_out.sinks import device_speech_sink

            speaker = device_speech_sink(settings.voice, voices, close_wait_s=0.0)
            if speaker is not None:
                sinks.append(speaker)
        outcome = "failed"
        try:
            await run_pipeline(chunks, engines, settings, sinks, realtime=True, load=load)
            outcome = "completed"
        finally:
            if recorder is not None:
                recorder.finish(outcome)
        if samples is None or not loop:
            return


def tcp_port(value: str) -> int:
    """A ``--port`` value: 0 (a free one) to 65535; argparse's error otherwise, before any
    model is loaded."""
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535, got {port}")
    return port


def add_serve_command(commands: Any, common: argparse.ArgumentParser) -> None:
    """Register ``hudtranslate serve`` on the CLI's subcommands (called from cli.py)."""
    parser = commands.add_parser(
        "serve", parents=[common],
        help="serve wearers (audio in, captions out) and a live HUD page",
        description="Wearers stream 16 kHz PCM to ws://HOST:PORT/ws/audio and get captions "
                    "back; a web page shows the HUD at the display's pixel size.")
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address to listen on (default {DEFAULT_HOST}: this machine "
                             "only; any other needs a token)")
    parser.add_argument("--port", type=tcp_port, default=DEFAULT_PORT,
                        help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    try:
        parser.add_argument("--profile", dest="display.profile", default=None,
                            choices=sorted(PROFILES),
                            help="display profile (default: rokid, or [display] profile)")
    except argparse.ArgumentError:
        log.debug("--profile comes with the common options")
    local = parser.add_argument_group("a local session shown on the page")
    local.add_argument("--mic", action="store_true", help="translate this machine's microphone")
    local.add_argument("--file", type=Path, default=None,
                       help="play this audio file at real-time pace")
    local.add_argument("--loop", action="store_true", help="play the file again and again")
    local.add_argument("--no-wait", action="store_true",
                       help="start the file at once instead of when the first page opens")
    local.add_argument("--device", dest="audio.device", default=None,
                       help="microphone: input device name or index")
    access = parser.add_argument_group("wearers")
    defaults = SessionLimits()
    access.add_argument("--token", default=None,
                        help="bearer token clients must send (default $HUDTRANSLATE_TOKEN); "
                             "required with a --host beyond loopback")
    access.add_argument("--max-sessions", type=int, default=defaults.max_sessions,
                        help=f"wearer sessions at once (default {defaults.max_sessions})")
    access.add_argument("--idle-timeout-s", type=float, default=defaults.idle_timeout_s,
                        help="close a wearer that sends nothing for this long")
    access.add_argument("--max-frame-bytes", type=int, default=defaults.max_frame_bytes,
                        help="largest audio frame accepted")
    access.add_argument("--max-photo-mb", type=float, default=defaults.max_photo_bytes / 1e6,
                        help="largest photo accepted by POST /look, in MB "
                             f"(default {defaults.max_photo_bytes / 1e6:g})")
    access.add_argument("--data-dir", type=Path, default=None,
                        help="where session transcripts go (default $HUDTRANSLATE_DATA_DIR "
                             "or ~/.local/share/hudtranslate/sessions)")
    remote = parser.add_argument_group("a bigger model on an OpenAI-compatible server")
    remote.add_argument("--remote-url", default=None,
                        help="e.g. http://gpu-box:8000/v1 (API key: "
                             "$HUDTRANSLATE_REMOTE_API_KEY or $OPENAI_API_KEY)")
    remote.add_argument("--remote-model", default="", help="model name to ask the server for")
    remote.add_argument("--remote-timeout-ms", type=int, default=2500,
                        help="give up on the remote for a sentence after this long and "
                             "translate it locally (default 2500)")
    remote.add_argument("--remote-probe-s", type=float, default=5.0,
                        help="while the remote is down, try it again this often (default 5)")
    overload = parser.add_argument_group("overload (also [overload] settings)")
    overload.add_argument("--no-shed", dest="overload.shed", action="store_const", const=False,
                          default=None, help="never shed optional work (partial captions, "
                          "final beams) when the server falls behind its wearers")
    overload.add_argument("--overflow-model", dest="overload.overflow_model", default=None,
                          metavar="NAME",
                          help="a smaller model for the sentences that reach the translator "
                               "while the server is behind its wearers (default auto: "
                               f"{AUTO_OVERFLOW_MODEL} if installed, for --max-sessions 2 "
                               "or more: loaded when the second wearer joins, from "
                               f'{LOAD_AT_START_FROM} at start; "off": none)')
    overload.add_argument("--no-overflow-model", dest="overload.overflow_model",
                          action="store_const", const="", default=None,
                          help="the main model writes every sentence, however far behind")
    overload.add_argument("--no-fair-turns", dest="overload.fair_turns", action="store_const",
                          const=False, default=None,
                          help="let sessions take the shared models in any order instead of "
                               "finals first, session by session")
    parser.add_argument("--speak", dest="voice.speak", action="store_const", const=True,
                        default=None, help="say the captions aloud: for wearers whose start "
                        "message asks for it, and the local --mic/--file session on this "
                        "machine's speakers (offline English voice: pip install "
                        "'hudtranslate[voice]')")
    parser.add_argument("--log-format", choices=("text", "json"), default="text",
                        help="json: one JSON object per log line (for log collectors)")
    parser.set_defaults(handler=_run_serve)


def _run_serve(args: argparse.Namespace, settings: Settings) -> int:
    level = logging.DEBUG if args.verbose else logging.INFO
    if args.log_format == "json":
        configure_json_logging(level)
    else:
        logging.getLogger("hudtranslate").setLevel(level)
    _check_flags(args)
    source: Literal["mic"] | Path | None = (
        args.file if args.file is not None else "mic" if args.mic else None)
    token = args.token if args.token is not None else os.environ.get("HUDTRANSLATE_TOKEN", "")
    limits = SessionLimits(max_sessions=args.max_sessions, idle_timeout_s=args.idle_timeout_s,
                           max_frame_bytes=args.max_frame_bytes,
                           max_photo_bytes=round(args.max_photo_mb * 1e6))
    remote = None
    if args.remote_url:
        remote = RemoteOptions(args.remote_url, args.remote_model, api_key_from_env(),
                               timeout_ms=args.remote_timeout_ms,
                               probe_interval_s=args.remote_probe_s)
    data_dir = args.data_dir if args.data_dir is not None else default_data_dir()
    ensure_writable_folder("--data-dir", data_dir)  # or every wearer would be refused
    store = SessionStore(data_dir)
    return asyncio.run(_until_terminated(serve(
        settings, source, host=args.host, port=args.port, loop=args.loop,
        wait_for_viewer=not args.no_wait, token=token, limits=limits, store=store,
        remote=remote)))


def _check_flags(args: argparse.Namespace) -> None:
    """Raises ``ConfigError`` for flags that contradict each other or mean nothing alone,
    rather than ignoring one of them without a word."""
    if args.mic and args.file is not None:
        raise ConfigError("--mic and --file cannot be used together: the page shows one "
                          "local session")
    if args.loop and args.file is None:
        raise ConfigError("--loop plays a --file again and again: give the --file")
    low, high = MAX_PHOTO_MB_RANGE
    if not low <= args.max_photo_mb <= high:
        raise ConfigError(f"--max-photo-mb must be between {low:g} and {high:g}, "
                          f"got {args.max_photo_mb:g}")


LOAD_AT_START_FROM = 3
"""A server for this many wearers or more loads the ``"auto"`` overflow model as it starts:
three on two cores always need it (final p95 8.2 s without), and loaded as the second
joined it took 5 s of the cores the first wearers' sentences were waiting for
(docs/benchmark.md, "Thirty-first session"). A server for two loads it when the second
joins: on a fast CPU two wearers never need it."""


def named_overflow_model(settings: Settings) -> str:
    """The overflow model the settings name ("" for none, or for ``"auto"``)."""
    name = settings.overload.overflow_model
    return "" if name in (AUTO_OVERFLOW, *NO_OVERFLOW) else name


def check_named_overflow_model(settings: Settings) -> None:
    """Raise ``ModelError`` (named as the overflow model's: the translation model is not
    what is wrong) for an overflow model that cannot be found, ``ConfigError`` for one
    that is the translation model or no smaller than it (it would write slower than the
    model it stands in for); nothing for ``"auto"`` or none."""
    from hudtranslate.models import CATALOGUE, resolve_model

    name = named_overflow_model(settings)
    if not name:
        return
    try:
        overflow = resolve_model(name, "translate", settings.cache_path)
    except ModelError as exc:
        words = ("" if name in CATALOGUE else
                 f"; or {AUTO_OVERFLOW} (the default) or off (none)")
        raise ModelError(f"overflow model (--overflow-model, "
                         f"overload.overflow_model): {exc}{words}") from None
    main = resolve_model(settings.translate.model, "translate", settings.cache_path)
    if overflow.resolve() == main.resolve():
        raise ConfigError(
            f"--overflow-model {name} is the translation model itself: the overflow model "
            f"must be a smaller, faster one ({AUTO_OVERFLOW_MODEL})")
    overflow_bytes, main_bytes = overflow.stat().st_size, main.stat().st_size
    if overflow_bytes >= main_bytes:
        raise ConfigError(
            f"--overflow-model {name} ({overflow_bytes / 1e6:,.0f} MB) is no smaller than "
            f"the translation model {settings.translate.model} ({main_bytes / 1e6:,.0f} "
            f"MB): the overflow model must be a smaller, faster one ({AUTO_OVERFLOW_MODEL})")


async def _with_overflow(engines: Engines, settings: Settings, console: Console,
                         max_sessions: int) -> Engines:
    """``engines`` for wearer sessions: with an overflow model, its speech translator hands
    the sentences of moments the server is behind to that smaller model
    (``translate/overflow.py``); photos keep the main translator. A named one loads now;
    ``"auto"`` (the default) loads ``AUTO_OVERFLOW_MODEL`` when a second wearer joins, if
    it is installed and the server holds several wearers on a local model."""
    from hudtranslate.engines import load_overflow_translator

    main = local_engine(engines.translator)
    lag = f"{settings.overload.overflow_lag_s:g} s"
    if named_overflow_model(settings):
        small = await asyncio.to_thread(load_overflow_translator, settings, main)
        console.print(f"overflow model {small.name}: translates while wearers' captions are "
                      f"{lag} or more behind", highlight=False)
        return dataclasses.replace(engines, translator=OverflowBackend(engines.translator,
                                                                       small))
    if not auto_overflow_model(settings, max_sessions, None if main is None else main.name,
                               console):
        return engines
    when = "now" if max_sessions >= LOAD_AT_START_FROM else "when a second wearer joins"
    console.print(f"overflow model {AUTO_OVERFLOW_MODEL}: loads {when}, translates while "
                  f"captions are {lag} or more behind and the main model cannot catch up "
                  f"(--no-overflow-model: never)", highlight=False)
    load = functools.partial(load_overflow_translator, settings, main, AUTO_OVERFLOW_MODEL)
    return dataclasses.replace(engines, translator=OverflowBackend(engines.translator, None,
                                                                   load_small=load))


def auto_overflow_model(settings: Settings, max_sessions: int, main_model: str | None,
                        console: Console) -> bool:
    """Whether ``"auto"`` means ``AUTO_OVERFLOW_MODEL`` here: a server of several wearers
    (``max_sessions``) on a local main model (``main_model``, None for none) other than
    it, with it installed (not hashed here: it is verified as it loads). Installed not,
    one line says what several wearers lose and how to fetch it."""
    from hudtranslate.models import CATALOGUE, ModelState, fetch_command, model_state

    if (settings.overload.overflow_model != AUTO_OVERFLOW or max_sessions < 2
            or main_model in (None, AUTO_OVERFLOW_MODEL)):
        return False
    state = model_state(CATALOGUE[AUTO_OVERFLOW_MODEL], settings.cache_path)
    if state in (ModelState.VERIFIED, ModelState.UNVERIFIED):
        return True
    console.print(f"overflow model {AUTO_OVERFLOW_MODEL} is {state.value}: with several "
                  f"wearers on few cores captions may fall behind (install it: "
                  f"{fetch_command(AUTO_OVERFLOW_MODEL, settings.cache_path)})", highlight=False)
    return False


async def _until_terminated(main: Coroutine[Any, Any, int]) -> int:
    """SIGTERM (systemd, docker, kill) stops the server as cleanly as Ctrl-C: sessions end,
    their last sentences are stored, the port is released."""
    result = await run_until_terminated(main)
    if result is None:
        log.info("stopped", extra={"event": "stopped"})
        return 0
    return result
