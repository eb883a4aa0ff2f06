"""Command line: ``hudtranslate live | file PATH | demo | look IMAGE | serve | stream |
transcripts | models | bench``.

Thin: parse arguments into ``Settings`` (defaults < TOML < environment < flags), then run.
Expected failures (``HudTranslateError``) print one line and exit 1; Ctrl-C exits 130
(a caption session after the transcript so far has been written).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Coroutine, Iterable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape

from hudtranslate.captions.profiles import profile_from_options
from hudtranslate.config import Settings, cache_dir_origin
from hudtranslate.errors import ConfigError, HudTranslateError, check_folder
from hudtranslate.heap import limit_arenas
from hudtranslate.models import add_models_commands
from hudtranslate.server.serve import add_serve_command
from hudtranslate.termination import EXIT_TERMINATED, run_until_terminated

log = logging.getLogger("hudtranslate")

_SETTING_FLAGS: dict[str, tuple[str, type, str]] = {
    "threads": ("--threads", int, "CPU threads shared by recognition and translation"),
    "cache_dir": ("--cache-dir", str, "model cache directory (default ~/.cache/hudtranslate)"),
    "asr.model": ("--asr-model", str, "Whisper model: catalogue name or CTranslate2 directory"),
    "translate.model": ("--mt-model", str,
                        "translation model: qwen2.5-1.5b, qwen2.5-0.5b or a GGUF path"),
    "vad.min_silence_ms": ("--min-silence-ms", int, "pause that ends a sentence, in ms"),
    "vad.threshold": ("--vad-threshold", float, "speech probability threshold (0.05-0.95)"),
    "asr.partial_interval_ms": ("--partial-interval-ms", int,
                                "re-recognise the sentence in progress this often"),
    "translate.context_sentences": ("--context-sentences", int,
                                    "previous sentences given to the translator"),
    "translate.glossary": ("--glossary", str,
                           "Chinese→English terms to keep exact: a .toml or tab-separated file"),
    "captions.max_chars_per_line": ("--max-chars-per-line", int, "caption line width"),
    "display.profile": ("--profile", str,
                        "glasses display: rokid (default), even-g1 or meta-display"),
    "conversation.mode": ("--mode", str,
                          "listen (default): Mandarin → English; converse: also the wearer's "
                          "English → Chinese for the other person"),
}


def _common_options() -> argparse.ArgumentParser:
    return _settings_options(_SETTING_FLAGS, translation=True)


def _wearer_side_options() -> argparse.ArgumentParser:
    """The settings ``stream`` and ``transcripts`` use: no models run there (the server's
    settings are the server's), so model and VAD flags are not offered to be ignored."""
    return _settings_options(("captions.max_chars_per_line", "display.profile"),
                             translation=False)


def _models_options() -> argparse.ArgumentParser:
    """The settings ``models`` uses: where the cache is. A model flag there was ignored
    (``models fetch --mt-model qwen2.5-0.5b`` fetched the defaults), so none is offered."""
    return _settings_options(("cache_dir",), translation=False, captions=False)


def _settings_options(flags: Iterable[str], *, translation: bool,
                      captions: bool = True) -> argparse.ArgumentParser:
    """A parent parser with ``--config``, the ``_SETTING_FLAGS`` named in ``flags``, the
    translation switches when ``translation``, ``--no-source`` when ``captions``, and
    ``-v``."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("settings (also HUDTRANSLATE_* variables and --config)")
    group.add_argument("--config", type=Path, help="TOML settings file")
    for dotted in flags:
        flag, kind, text = _SETTING_FLAGS[dotted]
        group.add_argument(flag, dest=dotted, type=kind, default=None, help=text)
    if translation:
        group.add_argument("--no-partials", dest="translate.translate_partials",
                           action="store_const", const=False, default=None,
                           help="translate only finished sentences (sentence-at-a-time)")
        group.add_argument("--cedict-names", dest="translate.cedict_names",
                           action="store_const", const=True, default=None,
                           help="also keep CC-CEDICT's proper names (places, organisations) "
                                "exact")
    if captions:
        group.add_argument("--no-source", dest="captions.show_source", action="store_const",
                           const=False, default=None, help="do not show the Chinese line")
    group.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return parent


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (exposed for tests and documentation)."""
    common = _common_options()
    parser = argparse.ArgumentParser(
        prog="hudtranslate",
        description="Live Mandarin speech → English captions for smart glasses, offline.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    live = commands.add_parser("live", parents=[common], help="translate the microphone live")
    live.add_argument("--device", dest="audio.device", default=None,
                      help="input device name or index (default: system default)")
    live.add_argument("--out", type=Path, default=None,
                      help="folder for the transcript files (default: current folder)")
    _add_speak(live)
    live.set_defaults(handler=_run_live)

    file = commands.add_parser("file", parents=[common], help="translate an audio file")
    file.add_argument("path", type=Path,
                      help="audio file (WAV, FLAC, MP3, M4A…) or video; - reads standard input")
    file.add_argument("--realtime", dest="audio.realtime", action="store_const", const=True,
                      default=None, help="play the file at real-time pace, like a microphone")
    file.add_argument("--out", type=Path, default=None,
                      help="folder for SRT/VTT/JSONL (default: next to the input; the "
                           "current folder for piped audio)")
    file.add_argument("--frames", type=Path, default=None, metavar="DIR",
                      help="write the glasses' display as a PNG per change (exact pixels)")
    file.add_argument("--video", type=Path, default=None, metavar="PATH",
                      help="write a real-time replay of the display: .mp4/.webm (ffmpeg), "
                           "else an animated .png or .gif")
    _add_speak(file, "; the file then plays at real-time pace, as with --realtime")
    file.set_defaults(handler=_run_file)

    demo = commands.add_parser("demo", parents=[common],
                               help="run a bundled Mandarin clip through the whole pipeline")
    demo.add_argument("--out", type=Path, default=None,
                      help="folder for SRT/VTT/JSONL (default: ./hudtranslate-demo)")
    demo.add_argument("--fast", action="store_true", help="do not pace the clip in real time")
    _add_speak(demo, "; not with --fast")
    demo.set_defaults(handler=_run_demo)

    add_models_commands(commands, parents=[_models_options()])
    _add_bench(commands, common)
    add_serve_command(commands, common)
    _add_wearer_commands(commands, _wearer_side_options())
    _add_look(commands, common)
    return parser


def _add_speak(parser: argparse.ArgumentParser, note: str = "") -> None:
    parser.add_argument("--speak", dest="voice.speak", action="store_const", const=True,
                        default=None, help="say each English sentence aloud (offline voice: "
                        "pip install 'hudtranslate[voice]'; settings: [voice])" + note)


def _add_look(commands: Any, common: argparse.ArgumentParser) -> None:
    from hudtranslate.vision.commands import add_look_command

    add_look_command(commands, common)


def _add_wearer_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    """``stream`` (a simulated wearer) and ``transcripts`` (the server's session archive)."""
    from hudtranslate.server.client import add_stream_command
    from hudtranslate.transcripts.commands import add_transcripts_command

    add_stream_command(commands, common)
    add_transcripts_command(commands, common)


def _add_bench(commands: Any, common: argparse.ArgumentParser) -> None:
    try:
        from hudtranslate.eval.cli import add_bench_command
    except ImportError:
        return
    add_bench_command(commands, common)


INTERRUPTED = {
    "live": "interrupted; transcript so far was saved",
    "file": "interrupted; transcript so far was saved",
    "demo": "interrupted; transcript so far was saved",
    "bench": "interrupted; no report written (the bench writes it when every run is done)",
}
"""What Ctrl-C leaves behind, by command: only the caption sessions write as they go."""


def settings_from_args(args: argparse.Namespace) -> Settings:
    overrides = {key: value for key, value in vars(args).items() if "." in key}
    overrides.update({key: getattr(args, key, None) for key in ("threads", "cache_dir")})
    return Settings.load(getattr(args, "config", None), overrides=overrides)


def _run_session(main: Coroutine[Any, Any, int]) -> int:
    """Run a session to its end; SIGTERM ends it like Ctrl-C, its subtitles written."""
    result = asyncio.run(run_until_terminated(main))
    if result is None:
        Console(stderr=True, highlight=False).print(
            "terminated; transcript so far was saved")
        return EXIT_TERMINATED
    return result


def _run_live(args: argparse.Namespace, settings: Settings) -> int:
    from hudtranslate.runner import run_microphone

    if args.out is None:
        return _run_session(run_microphone(settings, out_dir=Path("."), out_label=(
            "the current folder (where --out defaults to)")))
    return _run_session(run_microphone(settings, out_dir=args.out))


def _run_file(args: argparse.Namespace, settings: Settings) -> int:
    from hudtranslate.runner import run_file

    return _run_session(run_file(args.path, settings, out_dir=args.out,
                                 frames_dir=args.frames, video=args.video))


def _run_demo(args: argparse.Namespace, settings: Settings) -> int:
    from hudtranslate.runner import demo_clip, run_file

    if args.fast and settings.voice.speak:
        raise ConfigError("--fast and --speak do not go together: a voice cannot keep up "
                          "with a clip read faster than real time (drop one of them)")
    realtime = not args.fast
    out_dir, out_label = args.out, "--out"
    if out_dir is None:
        out_dir = Path("hudtranslate-demo")
        out_label = "the demo's folder (where --out defaults to)"
    return _run_session(run_file(demo_clip(), settings, out_dir=out_dir, realtime=realtime,
                                 fetch_missing=True, out_label=out_label))


def _command_parser(parser: argparse.ArgumentParser,
                    args: argparse.Namespace) -> argparse.ArgumentParser:
    """The (sub)command parser ``args`` were parsed by, innermost first: its usage is the
    one that helps after a mistyped option (``hudtranslate file x.wav --bogus``)."""
    for action in parser._actions:  # argparse keeps no public list of subcommands
        if isinstance(action, argparse._SubParsersAction):
            chosen = action.choices.get(getattr(args, action.dest, None) or "")
            if chosen is not None:
                return _command_parser(chosen, args)
    return parser


def parse_command_line(argv: Sequence[str] | None) -> argparse.Namespace:
    """``argv`` parsed; an unknown option exits (status 2) with the usage of the command it
    was given to, not the top-level one."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        _command_parser(parser, args).error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hudtranslate`` command."""
    limit_arenas()  # before any model starts its threads (see hudtranslate.heap)
    args = parse_command_line(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=Console(stderr=True), show_path=False)],
    )
    errors = Console(stderr=True, highlight=False)
    try:
        settings = settings_from_args(args)
        check_folder(cache_dir_origin(getattr(args, "config", None), os.environ,
                                      getattr(args, "cache_dir", None)), settings.cache_path)
        profile_from_options(settings.display)  # a typo or a display that cannot fit is
        # an error now, not after the models load
        if args.command == "models":
            return int(args.handler(args, settings.cache_path))
        return int(args.handler(args, settings))
    except HudTranslateError as exc:
        errors.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return 1
    except KeyboardInterrupt:
        errors.print(INTERRUPTED.get(args.command, "interrupted"))
        return 130
    except BrokenPipeError:
        # the reader of the output went away (`| head -1`): stop quietly, like a Unix tool
        # killed by SIGPIPE; stdout is pointed at /dev/null so the flush at exit is quiet
        with contextlib.suppress(OSError, ValueError):  # no file behind stdout: nothing to do
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + 13


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
