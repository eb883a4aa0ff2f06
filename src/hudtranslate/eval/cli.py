"""``hudtranslate bench``: measure the whole system against its baselines, honestly.

Registered by the top-level CLI through ``add_bench_command``; the handler takes
``(args, settings)`` and returns the exit code. Inputs are validated before any model
loads. Heavy imports wait until the command actually runs.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from hudtranslate.config import Settings
from hudtranslate.errors import ConfigError, ensure_writable_folder

log = logging.getLogger(__name__)

_SYSTEMS = ("hudtranslate", "hudtranslate-sentence", "whisper-translate", "mt-on-reference-text")


def _systems(value: str) -> list[str]:
    chosen = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in _SYSTEMS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"unknown system(s) {', '.join(unknown) or '(none)'}; "
                                         f"choose from {', '.join(_SYSTEMS)}")
    return [name for name in _SYSTEMS if name in chosen]


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def _minutes(value: str) -> float:
    number = float(value)
    if not 2.0 <= number <= 240.0:
        raise argparse.ArgumentTypeError(f"must be 2-240 minutes, got {value}")
    return number


def add_bench_command(commands: Any, common: argparse.ArgumentParser) -> None:
    """Register ``bench`` on the top-level sub-parsers."""
    bench = commands.add_parser(
        "bench", parents=[common], help="measure quality, latency and cost against baselines",
        description="Run hudtranslate and its baselines on evaluation data; write "
                    "report.json and report.md. Talks are fed at real-time pace.")
    data = bench.add_argument_group("inputs (at least one; JSON lines, wav paths relative "
                                    "to the manifest)")
    data.add_argument("--talks", type=Path, metavar="FILE",
                      help="long recordings with timed reference sentences (talks.jsonl)")
    data.add_argument("--utterances", type=Path, metavar="FILE",
                      help="single-sentence recordings (utterances.jsonl)")
    data.add_argument("--text", type=Path, metavar="FILE",
                      help="Chinese sentences with English references (text/*.jsonl)")
    data.add_argument("--direction", choices=("zh-en", "en-zh"), default=None,
                      help="direction of --text lines without their own \"direction\": "
                           "zh-en (default) translates zh against en_refs; en-zh translates "
                           "the first of en_refs against zh (chrF on characters)")
    data.add_argument("--images", type=Path, metavar="FILE",
                      help="photos with their printed text and key English words "
                           "(images.jsonl): OCR recall, key words, numbers, seconds")
    alone = data.add_mutually_exclusive_group()  # each is a benchmark of its own
    alone.add_argument("--language-id", action="store_true",
                       help="instead: detect zh/en (converse mode) on the --utterances audio "
                            "and on --text's English spoken by the English voice; accuracy "
                            "and cost")
    alone.add_argument("--converse", action="store_true",
                       help="instead: a conversation in one stream, the --utterances "
                            "Mandarin and --text's English (spoken by the English voice) "
                            "taking turns, through converse mode; direction, order and chrF "
                            "per turn")
    data.add_argument("--voice", action="store_true",
                      help="the English voice: real-time factor on one thread and Whisper's "
                           "read-back word error rate on 20 sentences with numbers "
                           "(needs the voice extra)")
    bench.add_argument("--systems", type=_systems, default=None,
                       help=f"comma-separated subset of: {', '.join(_SYSTEMS)} (default: all)")
    bench.add_argument("--limit", type=_positive, default=None, metavar="N",
                       help="use only the first N entries of each input (quick runs)")
    bench.add_argument("--text-limit", type=_positive, default=None, metavar="N",
                       help="first N sentences of --text (default: --limit)")
    bench.add_argument("--out-dir", type=Path, default=Path("bench-out"),
                       help="folder for report.json and report.md (default: ./bench-out)")
    bench.add_argument("--repeat", type=_positive, default=1, metavar="N",
                       help="run the talks N times per audio system and report medians "
                            "(real-time latencies vary between runs)")
    bench.add_argument("--creep-minutes", type=_minutes, default=None, metavar="M",
                       help="also loop the talks into one stream of at least M minutes and "
                            "compare its last minute's latency with its first (needs --talks)")
    bench.add_argument("--no-offline-asr", dest="offline_asr", action="store_false",
                       help="skip the offline reference decodes of every utterance and talk "
                            "segment (cer_offline; they take a while on a slow machine)")
    bench.add_argument("--fast", action="store_true",
                       help="feed talks as fast as possible (smoke tests only: latencies "
                            "then leave out computation time)")
    bench.set_defaults(handler=run_bench_command)


class _RichProgress:
    """One bar per section; the label names the system and input being run."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None
        self._description = ""

    def begin(self, section: str, total: int) -> None:
        if self._task is not None:
            self._progress.update(self._task, description=self._description)
        self._description = section
        self._task = self._progress.add_task(section, total=total)

    def advance(self, label: str) -> None:
        if self._task is not None:
            self._progress.update(self._task, advance=1,
                                  description=f"{self._description}: {label}")
        log.info("done: %s", label)


def run_bench_command(args: argparse.Namespace, settings: Settings) -> int:
    """Validate inputs, load the models, run, write the report. Returns the exit code."""
    from hudtranslate.eval.bench import BenchInputs, peak_rss_mb, run_benchmark
    from hudtranslate.eval.manifests import load_talks, load_texts, load_utterances
    from hudtranslate.eval.report import metadata_for, targets_for
    from hudtranslate.eval.runner import load_bench_engines

    _check_flags(args)
    # before the models, not after; made when the report is written (a run that stops on
    # bad input leaves no empty folder)
    ensure_writable_folder("--out-dir", args.out_dir, create=False)
    direction = args.direction or "zh-en"
    if args.language_id:
        return run_language_bench(args, settings)
    if args.converse:
        return run_converse_bench(args, settings)
    if args.talks is None and args.utterances is None and args.text is None:
        if args.images is not None or args.voice:
            return run_image_bench(args, settings)
        raise ConfigError("bench needs at least one input: --talks, --utterances, --text, "
                          "--images or --voice")
    text_limit = args.text_limit or args.limit
    inputs = BenchInputs(
        talks=load_talks(args.talks, args.limit) if args.talks else [],
        utterances=load_utterances(args.utterances, args.limit) if args.utterances else [],
        texts=load_texts(args.text, text_limit, direction) if args.text else [],
    )
    systems: list[str] = args.systems or list(_SYSTEMS)
    realtime = not args.fast
    load_at_start = os.getloadavg()
    engines = load_bench_engines(settings, systems)
    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console) as bar:
        results = asyncio.run(run_benchmark(inputs, systems, engines, settings,
                                            realtime=realtime, repeat=args.repeat,
                                            creep_minutes=args.creep_minutes,
                                            offline_asr=args.offline_asr,
                                            progress=_RichProgress(bar)))
    files = {"talks": args.talks, "utterances": args.utterances, "text": args.text}
    report = {
        "metadata": metadata_for(settings, files, realtime=realtime, limit=args.limit,
                                 text_limit=text_limit, systems=systems, repeat=args.repeat,
                                 peak_rss_mb=peak_rss_mb(), load_at_start=load_at_start,
                                 offline_asr=args.offline_asr),
        "systems": results,
        "targets": targets_for(results),
    }
    report["metadata"]["text_direction"] = direction
    if args.images is not None:
        report.update(_image_section(args, settings))
        report["targets"].update(report["images"]["targets"])
    if args.voice:
        report["voice"] = _voice_section(settings)
        report["targets"].update(report["voice"]["targets"])
    return _publish(args, report)


_REPORT_SUFFIXES = {".json", ".md", ".txt", ".html", ".csv"}


def _check_flags(args: argparse.Namespace) -> None:
    """Raise ``ConfigError`` for an option the run would ignore: a user who asks for
    something must get it or be told, not find it missing from the report."""
    alone = "--language-id" if args.language_id else "--converse" if args.converse else None
    if alone is not None:
        unused = [flag for flag, given in (
            ("--talks", args.talks), ("--images", args.images), ("--voice", args.voice),
            ("--systems", args.systems), ("--direction", args.direction),
            ("--repeat", args.repeat > 1), ("--creep-minutes", args.creep_minutes)) if given]
        if unused:
            raise ConfigError(f"{alone} is a benchmark of its own: run {', '.join(unused)} "
                              "in another bench command")
    for flag, given in (("--direction", args.direction), ("--text-limit", args.text_limit)):
        if given is not None and args.text is None:
            raise ConfigError(f"{flag} applies to --text sentences: give --text too")
    for flag, given in (("--creep-minutes", args.creep_minutes), ("--repeat", args.repeat > 1)):
        if given and args.talks is None:
            raise ConfigError(f"{flag} applies to the talks: give --talks too")
    if args.systems and not (args.talks or args.utterances or args.text):
        raise ConfigError("--systems applies to --talks, --utterances and --text: "
                          "give one of them too")
    out_dir = Path(args.out_dir)
    if out_dir.suffix.lower() in _REPORT_SUFFIXES and not out_dir.is_dir():
        raise ConfigError(f"--out-dir {out_dir}: a folder for report.json and report.md, "
                          f"not a report's file name: use --out-dir {out_dir.with_suffix('')}")


def _image_section(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    """Read and translate every photo of ``--images`` one after another (nothing else
    runs meanwhile) and score them."""
    from hudtranslate.eval.images import (
        image_targets,
        load_images_manifest,
        score_image,
        summarise,
    )
    from hudtranslate.vision.commands import load_looker
    from hudtranslate.vision.images import check_image, load_image

    items = load_images_manifest(args.images, args.limit)
    for item in items:  # every photo readable before the models load, as for other inputs
        check_image(item.path, max_megapixels=settings.vision.max_megapixels)
    looker = load_looker(settings)
    rows = []
    console = Console(stderr=True)
    for index, item in enumerate(items, start=1):
        image = load_image(item.path, max_megapixels=settings.vision.max_megapixels)
        scene = looker.look(image, item.id)
        rows.append(score_image(item, scene))
        console.print(f"photos {index}/{len(items)}: {escape(item.id)} "
                      f"{scene.timings_s.get('total', 0):.1f} s", highlight=False)
    summary = summarise(rows)
    return {"images": {"summary": summary, "items": rows, "targets": image_targets(summary)}}


def _voice_section(settings: Settings) -> dict[str, Any]:
    """Say the voice sentences and have Whisper read them back (``eval/voice.py``)."""
    from hudtranslate.eval.voice import run_voice_bench

    console = Console(stderr=True)

    def report(index: int, total: int, row: dict[str, Any]) -> None:
        console.print(f"voice {index}/{total}: RTF {row['real_time_factor']:.3f} "
                      f"WER {row['wer']:.2f}  {escape(str(row['heard']))}", highlight=False)

    return run_voice_bench(settings, on_sentence=report)


def run_image_bench(args: argparse.Namespace, settings: Settings) -> int:
    """``bench --images`` and/or ``--voice`` alone: the pipeline's models are not loaded."""

    load_at_start = os.getloadavg()
    section: dict[str, Any] = {}
    targets: dict[str, Any] = {}
    if args.images is not None:
        section.update(_image_section(args, settings))
        targets.update(section["images"]["targets"])
    if args.voice:
        section["voice"] = _voice_section(settings)
        targets.update(section["voice"]["targets"])
    files = {"images": args.images} if args.images is not None else {}
    return _publish_alone(args, settings, files, section, targets,
                          load_at_start=load_at_start, limit=args.limit, text_limit=None)


def run_language_bench(args: argparse.Namespace, settings: Settings) -> int:
    """``bench --language-id``: only Whisper and the English voice are loaded."""
    from hudtranslate.asr.whisper import WhisperEngine
    from hudtranslate.audio.files import read_audio_file
    from hudtranslate.eval.languages import (
        SpokenItem,
        identify,
        language_targets,
        summarise_languages,
    )
    from hudtranslate.eval.manifests import load_texts, load_utterances
    from hudtranslate.models import resolve_model
    from hudtranslate.speech_out.voice import EnglishVoice

    if args.utterances is None and args.text is None:
        raise ConfigError("--language-id needs --utterances (Mandarin audio) and/or --text "
                          "(English sentences to speak)")
    utterances = load_utterances(args.utterances, args.limit) if args.utterances else []
    texts = load_texts(args.text, args.text_limit or args.limit) if args.text else []
    voice = EnglishVoice.from_options(settings.voice) if texts else None
    load_at_start = os.getloadavg()
    asr = WhisperEngine(resolve_model(settings.asr.model, "asr", settings.cache_path),
                        cpu_threads=settings.threads, language=settings.asr.language)
    items = [SpokenItem(u.id, "zh", read_audio_file(u.wav)) for u in utterances]
    if voice is not None:
        items += [SpokenItem(f"{t.id}-en", "en", voice.synthesize_16k(t.en_refs[0]))
                  for t in texts]
    console = Console(stderr=True)
    rows = identify(asr, items, lambda label: console.print(f"language-id: {escape(label)}",
                                                               highlight=False))
    summary = summarise_languages(rows)
    return _publish_alone(args, settings, {"utterances": args.utterances, "text": args.text},
                          {"languages": {"summary": summary, "items": rows}},
                          language_targets(summary), load_at_start=load_at_start,
                          limit=args.limit, text_limit=args.text_limit)


def run_converse_bench(args: argparse.Namespace, settings: Settings) -> int:
    """``bench --converse``: the pipeline's models and the English voice are loaded."""
    from hudtranslate.engines import load_engines
    from hudtranslate.eval.conversation import (
        alternate,
        build_turns,
        conversation_targets,
        converse_settings,
        run_conversation,
        score_conversation,
        summarise_conversation,
    )
    from hudtranslate.eval.manifests import load_texts, load_utterances
    from hudtranslate.speech_out.voice import EnglishVoice

    if args.utterances is None or args.text is None:
        raise ConfigError("--converse needs --utterances (the other person's Mandarin) and "
                          "--text (the wearer's English, spoken by the English voice)")
    limit = args.limit or 10
    voice = EnglishVoice.from_options(settings.voice)
    zh_turns, en_turns = build_turns(load_utterances(args.utterances, limit),
                                     load_texts(args.text, args.text_limit or limit), voice)
    turns, audio = alternate(zh_turns, en_turns, gap_s=1.0)
    load_at_start = os.getloadavg()
    engines = load_engines(converse_settings(settings))
    Console(stderr=True).print(f"conversation: {len(turns)} turns, "
                               f"{len(audio) / 16000:.0f} s", highlight=False)
    finals = asyncio.run(run_conversation(audio, engines, settings, realtime=not args.fast))
    rows, order = score_conversation(turns, finals)
    summary = summarise_conversation(rows, order)
    return _publish_alone(args, converse_settings(settings),
                          {"utterances": args.utterances, "text": args.text},
                          {"conversation": {"summary": summary, "items": rows}},
                          conversation_targets(summary), load_at_start=load_at_start,
                          limit=limit, text_limit=args.text_limit, realtime=not args.fast)


def _publish_alone(args: argparse.Namespace, settings: Settings, files: dict[str, Any],
                   sections: dict[str, Any], targets: dict[str, Any], *,
                   load_at_start: tuple[float, float, float], limit: int | None,
                   text_limit: int | None, realtime: bool = False) -> int:
    """Write and show the report of a benchmark outside the comparison of systems
    (photos, voice, language identification, a conversation): its sections and targets."""
    from hudtranslate.eval.bench import peak_rss_mb
    from hudtranslate.eval.report import metadata_for

    report = {
        "metadata": metadata_for(settings, files, realtime=realtime, limit=limit,
                                 text_limit=text_limit, systems=[], repeat=1,
                                 peak_rss_mb=peak_rss_mb(), load_at_start=load_at_start,
                                 offline_asr=False),
        "systems": {},
        **sections,
        "targets": targets,
    }
    return _publish(args, report)


def _publish(args: argparse.Namespace, report: dict[str, Any]) -> int:
    """Write the report (JSON and Markdown) and show the Markdown; an earlier run's report
    in the same folder is kept aside (``report.<time>.json``), as ``file`` keeps its
    transcripts: a rerun must not silently replace the numbers a note cites."""
    from hudtranslate.eval.report import write_report
    from hudtranslate.transcripts.store import keep_previous

    ensure_writable_folder("--out-dir", args.out_dir)
    out = Console()
    for name in ("report.json", "report.md"):
        keep_previous(args.out_dir / name, out)
    json_path, md_path = write_report(args.out_dir, report)
    out.print(md_path.read_text(encoding="utf-8"), markup=False, highlight=False,
              soft_wrap=True)
    out.print(escape(f"wrote {json_path} and {md_path}"), highlight=False)
    return 0
