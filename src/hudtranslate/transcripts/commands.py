"""``hudtranslate transcripts list | export ID``: the server's archive, after the fact
(``export talk.jsonl``: the same records as ``file`` and ``stream --out`` write them).

Reads only the files on disk, so it works while a server runs, after it stopped, and
after it was killed (a session not ended is listed as live or interrupted, with what it
committed: ``liveness``).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from hudtranslate.config import Settings
from hudtranslate.errors import DataError, check_folder, one_line
from hudtranslate.transcripts.export import to_jsonl, to_srt, to_vtt
from hudtranslate.transcripts.sessions import SessionStore, default_data_dir
from hudtranslate.transcripts.store import keep_previous, read_transcript, write_text_atomic

FORMATS = ("srt", "vtt", "jsonl")
_OTHER_FORMATS = {"json": "jsonl", "ndjson": "jsonl", "webvtt": "vtt", "ass": "srt",
                  "ssa": "srt", "sbv": "srt", "sub": "srt", "ttml": "vtt", "dfxp": "vtt",
                  "csv": "jsonl"}
"""Extensions of formats export does not write, and the nearest one it does: a file named
``x.json`` had silently been given SRT (the default format)."""
_RECORDINGS = frozenset({"wav", "flac", "ogg", "opus", "mp3", "m4a", "aac", "amr", "wma",
                         "mp4", "mov", "webm", "mkv", "avi"})
"""Extensions of audio and video: ``--out talk.mp3`` is the recording's name typed by
mistake (it had been moved aside for subtitles named talk.mp3)."""
log = logging.getLogger(__name__)


def add_transcripts_command(commands: Any, common: argparse.ArgumentParser) -> None:
    """Register ``hudtranslate transcripts`` on the CLI's subcommands (called from cli.py)."""
    parser = commands.add_parser(
        "transcripts", parents=[common], help="list and export the server's session transcripts",
        description="Sessions served by `hudtranslate serve` are stored as they are spoken; "
                    "list them and export one as subtitles or JSON lines.")
    actions = parser.add_subparsers(dest="transcripts_action", required=True, metavar="ACTION")
    data_dir = argparse.ArgumentParser(add_help=False)
    data_dir.add_argument("--data-dir", type=Path, default=None,
                          help="session directory (default $HUDTRANSLATE_DATA_DIR or "
                               "~/.local/share/hudtranslate/sessions)")
    listing = actions.add_parser("list", parents=[data_dir], help="list sessions, oldest first")
    listing.set_defaults(handler=_run_list)
    export = actions.add_parser("export", parents=[data_dir], help="export one session")
    export.add_argument("session", help="session id (or a unique beginning of it), or a "
                        "transcript .jsonl written by `file` or `stream --out`")
    export.add_argument("--format", choices=FORMATS, default=None,
                        help="default: --out's extension when it is one of these, else srt")
    export.add_argument("--out", type=Path, default=None,
                        help="write to this file (default, or -: standard output)")
    export.add_argument("--bilingual", action="store_true",
                        help="subtitles: add the Chinese under the English")
    export.set_defaults(handler=_run_export)


def _store(args: argparse.Namespace) -> SessionStore:
    """The store to read; a folder the user named (--data-dir, HUDTRANSLATE_DATA_DIR) must
    exist (a typo is not an empty archive), the default one may not yet (nothing was
    served)."""
    typed = "--data-dir" if args.data_dir is not None else (
        "HUDTRANSLATE_DATA_DIR" if os.environ.get("HUDTRANSLATE_DATA_DIR") else "")
    root = args.data_dir if args.data_dir is not None else default_data_dir()
    store = SessionStore(root)
    if store.root.exists() and not store.root.is_dir():
        raise DataError(f"{typed or 'the data folder'} {store.root} is a file, not a folder")
    if typed and not store.root.exists():
        raise DataError(f"{typed} {store.root} does not exist (nothing served there yet?)")
    return store


def _run_list(args: argparse.Namespace, settings: Settings) -> int:
    store = _store(args)
    sessions = store.sessions()
    if not sessions:
        below = store.root / "sessions"  # --data-dir given the folder above the sessions
        hint = (" (nothing served yet)" if not store.root.exists()
                else f" (try --data-dir {below})" if below.is_dir() else "")
        _print(f"no sessions in {store.root}{hint}\n")
        return 0
    rows = [("id", "started", "outcome", "sentences", "audio_s", "client")]
    rows += [(info.session_id, info.started_at or "-", info.outcome, str(info.sentences),
              f"{info.duration_s:.1f}", _shown(info.client) or "-") for info in sessions]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:  # plain aligned columns: easy to read and to grep
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]) + "\n")
    _print("".join(lines))
    return 0


def _run_export(args: argparse.Namespace, settings: Settings) -> int:
    given = Path(args.session)  # `file`'s talk.jsonl: the same records, read without a store
    store = None if given.suffix.lower() == ".jsonl" and given.is_file() else _store(args)
    if args.out == Path("-"):  # the Unix name for standard output, not a file called "-"
        args.out = None
    args.format = _export_format(args.format, args.out)
    if args.bilingual and args.format == "jsonl":  # asked for, and it would change nothing
        raise DataError("--bilingual applies to srt and vtt subtitles: a jsonl export always "
                        "holds the Chinese beside the English")
    if args.out is not None:
        if args.out.is_dir():
            raise DataError(f"--out {args.out} is a folder: give the export's file name "
                            f"(e.g. {args.out / ('SESSION.' + args.format)})")
        check_folder("--out's folder", args.out.parent)
        if store is None and args.out.resolve() == given.resolve():
            raise DataError(f"--out {args.out} is the transcript being exported: write the "
                            "export elsewhere")
        if store is not None and store.holds(args.out):
            raise DataError(f"--out {args.out} is one of the stored session files and would "
                            "be overwritten: write the export elsewhere")
    if store is None:
        session_id, records = str(given), read_transcript(given)
    else:
        session_id = store.find(args.session)
        records = store.records(session_id)
    if not records:
        log.warning("session %s has no sentences: the export is empty", session_id)
    if args.format == "srt":
        text = to_srt(records, args.bilingual)
    elif args.format == "vtt":
        text = to_vtt(records, args.bilingual)
    else:
        text = to_jsonl(records)
    if args.out is None:
        _print(text)
    elif args.out.exists() and not args.out.is_file():  # a pipe or a device: written into
        try:
            with args.out.open("w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            raise DataError(f"cannot write {args.out}: {one_line(exc)}") from None
    else:  # an earlier export (perhaps edited by hand) is kept aside, as `file` does
        keep_previous(args.out, Console(stderr=True, highlight=False))
        write_text_atomic(args.out, text)
    return 0


def _export_format(given: str | None, out: Path | None) -> str:
    """The format to write: ``given``, else the one ``out``'s extension names, else SRT.
    An SRT export to ``talk.vtt`` (the default format under another name) is refused."""
    named = out.suffix.lower().lstrip(".") if out is not None else ""
    if out is not None and named in _RECORDINGS:
        raise DataError(f"--out {out} names an audio or video file: name it "
                        f"{out.with_suffix('.' + (given or 'srt')).name}")
    if out is not None and given is None and named in _OTHER_FORMATS:
        raise DataError(f"--out {out} names a {named.upper()} file, which export does not "
                        f"write ({', '.join(FORMATS)}): name it "
                        f"{out.with_suffix('.' + _OTHER_FORMATS[named]).name}, or add "
                        f"--format to write one of those under this name")
    if out is not None and given is not None and named in FORMATS and named != given:
        raise DataError(f"--format {given} and --out {out} disagree: drop --format, or name "
                        f"the file {out.with_suffix('.' + given).name}")
    return given or (named if named in FORMATS else "srt")


def _print(text: str) -> None:
    """Write ``text`` to standard output; a full disk or a closed file is one error line
    (a reader that went away, ``| head``, is ``cli.main``'s to end quietly)."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise DataError(f"cannot write to standard output: {one_line(exc)}") from None


def _shown(label: str) -> str:
    """A stored label as the terminal may show it: escapes and control characters (from
    a wearer's client, or an older server that stored them) as U+FFFD."""
    return "".join(char if char.isprintable() else "\ufffd" for char in label)
