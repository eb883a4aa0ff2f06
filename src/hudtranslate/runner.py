"""Runs a whole session for the CLI: a file or the microphone → captions + transcripts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import statistics
import sys
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Sequence
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text

from hudtranslate.audio import (
    check_microphone,
    file_chunks,
    microphone_chunks,
    read_audio_file,
)
from hudtranslate.captions import TerminalCaptions, make_frame_sink
from hudtranslate.captions.replay import check_replay_path
from hudtranslate.captions.terminal import direction_label
from hudtranslate.config import Settings
from hudtranslate.engines import load_engines
from hudtranslate.errors import ConfigError, ensure_writable_folder
from hudtranslate.events import AudioChunk, StreamEnd, Transcript, Translation
from hudtranslate.models import DEFAULT_MODELS, fetch, get_spec
from hudtranslate.pipeline import Engines, Event, PipelineResult, Sink, run_pipeline
from hudtranslate.transcripts import TranscriptWriter
from hudtranslate.transcripts.store import check_frames_folder, export_transcript, keep_previous

log = logging.getLogger(__name__)


def demo_clip() -> Path:
    """The bundled ~11 s Mandarin clip (see assets/DEMO_AUDIO_LICENSE.md)."""
    return Path(str(resources.files("hudtranslate") / "assets" / "demo_zh.wav"))


class _TranscriptSink:
    """Appends each final sentence durably as it is committed; exports SRT/VTT at the end."""

    def __init__(self, jsonl: Path) -> None:
        self.path = jsonl
        self._writer = TranscriptWriter(jsonl)

    def handle(self, event: Event) -> None:
        if isinstance(event, Translation) and event.final:
            self._writer.append(event)

    def close(self) -> None:
        self._writer.close()


class _CaptionSink:
    def __init__(self, captions: TerminalCaptions) -> None:
        self._captions = captions

    def handle(self, event: Event) -> None:
        self._captions.update(event)

    def close(self) -> None:
        self._captions.close()


class _ProgressSink:
    """A progress bar over the file when it is read faster than real time. Each final
    sentence is printed; in converse mode (``directions``), or from the first English
    heard on, with its direction ("ZH→EN", "EN→ZH")."""

    def __init__(self, progress: Progress, task: object, console: Console, *,
                 directions: bool = False) -> None:
        self._progress, self._task, self._console = progress, task, console
        self._labels = directions

    def handle(self, event: Event) -> None:
        if isinstance(event, Transcript):
            self._labels = self._labels or event.language != "zh"
        if isinstance(event, Translation):
            self._labels = self._labels or event.source_language != "zh"
        if isinstance(event, Translation) and event.final:
            self._progress.update(self._task, completed=event.end_s)  # type: ignore[arg-type]
            label = f"{direction_label(event)}  " if self._labels else ""
            self._console.print(Text.assemble(label, (event.committed, "green"), "  ",
                                              (event.source, "dim")))
        elif isinstance(event, StreamEnd):
            self._progress.update(self._task, completed=event.duration_s)  # type: ignore[arg-type]

    def close(self) -> None:
        self._progress.stop()


def _converse(settings: Settings) -> bool | None:
    """Label both directions from the start in converse mode; else only if English comes."""
    return True if settings.conversation.mode == "converse" else None


def _ensure_default_models(settings: Settings) -> None:
    """The demo fetches missing default models itself (first run on a fresh machine)."""
    for name in DEFAULT_MODELS:
        if name in (settings.asr.model, settings.translate.model):
            fetch(get_spec(name), settings.cache_path, progress=True)


async def run_file(path: Path, settings: Settings, *, out_dir: Path | None,
                   realtime: bool | None = None, fetch_missing: bool = False,
                   frames_dir: Path | None = None, video: Path | None = None,
                   out_label: str | None = None) -> int:
    """Translate one audio file; writes ``<stem>.jsonl/.srt/.vtt``, and with ``frames_dir``
    / ``video`` the glasses' display as PNG frames / a real-time replay. ``realtime`` None:
    as ``settings.audio.realtime``, real-time pace whenever the voice speaks. ``out_label`` names
    ``out_dir`` in messages (default: how ``out_dir`` was chosen). Returns the exit code."""
    target, stem, out = _outputs_for(path, out_dir)
    out = out_label or out
    if video is not None:  # first: a name that is no replay format is told as that
        check_replay_path(video)
    check_outputs_spare(path, target, stem, video)
    # checked now, made only once the audio is read and the models have loaded: a run that
    # fails before it translates (unreadable audio, a missing model) leaves no empty folder
    ensure_writable_folder(out, target, create=False)
    if frames_dir is not None:
        ensure_writable_folder("--frames", frames_dir, create=False)
        check_frames_folder(frames_dir, path)
    samples = read_audio_file(path)
    pace = settings.audio.realtime if realtime is None else realtime
    if settings.voice.speak and realtime is None:  # read faster, the voice (which skips
        pace = True  # what has gone stale to keep up with the captions) said 2 of 9
    if fetch_missing:
        _ensure_default_models(settings)
    engines = load_engines(settings)
    ensure_writable_folder(out, target)
    if frames_dir is not None:
        ensure_writable_folder("--frames", frames_dir)
    console = Console()
    duration_s = len(samples) / 16_000
    chunks = file_chunks(samples, settings.audio.chunk_ms, pace)
    display: Sink
    if pace or not console.is_terminal:
        display = _CaptionSink(TerminalCaptions(settings.captions, console,
                                                directions=_converse(settings)))
    else:
        progress = Progress(TextColumn("[bold]translating"), BarColumn(),
                            TextColumn("{task.completed:.0f}/{task.total:.0f} s"),
                            TimeRemainingColumn(), console=console)
        progress.start()
        display = _ProgressSink(progress, progress.add_task("file", total=duration_s), console,
                                directions=bool(_converse(settings)))
    extra: list[Sink] = []
    if frames_dir is not None:  # a second run's frames would mix with the first's
        keep_previous(frames_dir, console, folder=True)
    if video is not None:
        keep_previous(video, console)
    if frames_dir is not None or video is not None:
        frames = make_frame_sink(settings, frames_dir, video, realtime=pace)
        extra.append(frames)
    try:
        return await _run_session(chunks, settings, engines, target, stem, display,
                                  realtime=pace, console=console, extra_sinks=extra)
    finally:  # also after Ctrl-C: the replay is written when the sinks close
        if video is not None and frames.video_written is not None:
            console.print(escape(f"wrote the display replay {frames.video_written}"),
                          highlight=False, soft_wrap=True)  # a path to copy: never wrapped


def _outputs_for(path: Path, out_dir: Path | None) -> tuple[Path, str, str]:
    """Where ``run_file`` writes, as (folder, file stem, the folder's name for messages):
    ``<input stem>.*`` next to the input, or in ``out_dir``. Audio that comes through a pipe
    (``-``, ``<(ffmpeg …)``, ``/dev/stdin``) has no folder or name of its own — its outputs
    had gone into /dev as ``stdin.jsonl`` — so it gets ``hudtranslate-file-<time>.*`` in
    the current folder."""
    streamed = str(path) == "-" or path.is_fifo() or path.absolute().parts[1:2] in (
        ("dev",), ("proc",))
    if not streamed:
        return (path.parent if out_dir is None else out_dir, path.stem,
                "--out" if out_dir is not None else "the input's folder (where --out defaults to)")
    stem = time.strftime("hudtranslate-file-%Y%m%d-%H%M%S")
    if out_dir is not None:
        return out_dir, stem, "--out"
    return Path("."), stem, "the current folder (where --out defaults to for piped audio)"


async def run_microphone(settings: Settings, *, out_dir: Path,
                         out_label: str = "--out") -> int:
    """Translate the microphone until Ctrl-C. The microphone and ``out_dir`` (named
    ``out_label`` in messages) are checked before the models load; ``out_dir`` is made
    only once they have and the microphone has given its first audio, so a run that fails
    before it records (no microphone, a missing model, a microphone another program
    holds) leaves no empty folder."""
    check_microphone(settings.audio)
    ensure_writable_folder(out_label, out_dir, create=False)
    engines = load_engines(settings)
    recording = microphone_chunks(settings.audio)
    first = await anext(recording)  # opens the device: one that is busy fails here
    ensure_writable_folder(out_label, out_dir)
    console = Console()
    stem = time.strftime("hudtranslate-live-%Y%m%d-%H%M%S")
    display = _CaptionSink(TerminalCaptions(settings.captions, console,
                                            directions=_converse(settings)))
    console.print("[bold green]listening[/] — speak Mandarin; Ctrl-C to stop")
    with _first_ctrl_c_ends_the_recording(console) as stop:
        return await _run_session(_after(first, recording, stop), settings, engines, out_dir,
                                  stem, display, realtime=True, console=console)


@contextlib.contextmanager
def _first_ctrl_c_ends_the_recording(console: Console) -> Iterator[asyncio.Event]:
    """An event the first Ctrl-C sets: the recording ends there and the session finishes
    as a file's does, so the sentence being spoken is still recognised, translated and
    written (a Ctrl-C had cancelled it unheard). The second Ctrl-C goes to asyncio's own
    handler again: cancel at once, the transcript so far kept (exit 130). A process that
    was started with Ctrl-C ignored (``nohup``, ``cmd &`` in a script) keeps ignoring it."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    previous = signal.getsignal(signal.SIGINT) or signal.default_int_handler
    if previous is signal.SIG_IGN:
        yield stop
        return

    def first_ctrl_c() -> None:
        loop.remove_signal_handler(signal.SIGINT)
        signal.signal(signal.SIGINT, previous)
        console.print("stopping: finishing the sentence being spoken (Ctrl-C again to quit "
                      "at once)", highlight=False)
        stop.set()

    try:
        loop.add_signal_handler(signal.SIGINT, first_ctrl_c)
        installed = True
    except (NotImplementedError, RuntimeError, ValueError):  # Windows; not the main thread
        installed = False
    try:
        yield stop
    finally:
        if installed and loop.remove_signal_handler(signal.SIGINT):
            signal.signal(signal.SIGINT, previous)


async def _after(first: AudioChunk, rest: AsyncGenerator[AudioChunk, None],
                 stop: asyncio.Event) -> AsyncIterator[AudioChunk]:
    """``first``, then the chunks of ``rest`` until ``stop`` is set; ``rest`` is closed
    with this (the microphone stops when the session does)."""
    try:
        yield first
        async for chunk in rest:
            if stop.is_set():
                break
            yield chunk
    finally:
        await rest.aclose()


OUTPUT_SUFFIXES = (".jsonl", ".srt", ".vtt")
"""What a session writes as ``<stem><suffix>``."""


def check_outputs_spare(audio: Path, out_dir: Path, stem: str,
                        video: Path | None = None) -> None:
    """Raises ``ConfigError`` when an output (``<stem>.jsonl/.srt/.vtt`` in ``out_dir``, the
    ``video`` replay) would be the input audio itself (a recording named ``talk.srt``,
    ``--video talk.mp4`` for ``talk.mp4``), or is a folder: found now, not once the
    models have loaded."""
    source = audio.resolve()
    for suffix in OUTPUT_SUFFIXES:
        output = out_dir / f"{stem}{suffix}"
        if output.resolve() == source:
            raise ConfigError(f"the output {stem}{suffix} would replace the input {audio}: "
                              "rename the recording or write elsewhere with --out")
        if output.is_dir():
            raise ConfigError(f"the output {output} is a folder: move it, or write elsewhere "
                              "with --out")
    if video is not None and video.resolve() == source:
        raise ConfigError(f"--video {video} is the input: name the replay otherwise "
                          f"(e.g. {video.with_stem(video.stem + '-hud')})")


async def _run_session(chunks: AsyncIterator[AudioChunk], settings: Settings, engines: Engines,
                       out_dir: Path, stem: str, display: Sink, *, realtime: bool,
                       console: Console, extra_sinks: Sequence[Sink] = ()) -> int:
    """Run one session into ``out_dir``, which the caller has made and checked
    (``ensure_writable_folder``, before the models load)."""
    for suffix in OUTPUT_SUFFIXES:  # what an earlier run left is moved aside, not overwritten
        keep_previous(out_dir / f"{stem}{suffix}", console)
    transcript = _TranscriptSink(out_dir / f"{stem}.jsonl")
    speech: list[Sink] = []
    if settings.voice.speak:  # --speak: a missing voice or speaker is a warning, not an error
        from hudtranslate.speech_out.sinks import device_speech_sink

        speaker = device_speech_sink(settings.voice)
        speech = [speaker] if speaker is not None else []
    result: PipelineResult | None = None
    try:
        result = await run_pipeline(chunks, engines, settings,
                                    [display, transcript, *extra_sinks, *speech],
                                    realtime=realtime)
    finally:
        exports = export_transcript(transcript.path, out_dir, stem,
                                    after_failure=sys.exc_info()[1] is not None)
        if exports is not None:
            # soft_wrap: one line, however narrow the terminal; rich broke paths at a space
            console.print(escape(f"wrote {transcript.path}, {exports[0]}, {exports[1]}"),
                          highlight=False, soft_wrap=True)
    _report(result, settings, console, realtime=realtime)
    return 0


_RATIO_MIN_AUDIO_S = 10.0
"""Below this much audio the CPU time is reported whole, not per second of audio."""


def _report(result: PipelineResult, settings: Settings, console: Console, *,
            realtime: bool) -> None:
    pad_s = settings.vad.speech_pad_ms / 1000
    latencies = result.final_latencies_s(pad_s)
    count = len(result.translations)
    parts = [f"{count} sentence{'' if count == 1 else 's'}"
             + (" (no speech found)" if count == 0 else ""),
             f"{result.duration_s:.1f} s audio",
             # a run's fixed costs (the VAD's warm-up, a final decode) over a clip of a
             # second or two made a ratio of 20 for what costs 0.8 per second of a talk
             f"{result.cpu_s_per_audio_s:.2f} CPU-s per audio-s"
             if result.duration_s >= _RATIO_MIN_AUDIO_S else f"{result.cpu_s:.1f} CPU-s"]
    if latencies and realtime:
        parts.append(f"end of speech → English: median {statistics.median(latencies):.2f} s, "
                     f"worst {max(latencies):.2f} s")
    console.print(" · ".join(parts), highlight=False)

