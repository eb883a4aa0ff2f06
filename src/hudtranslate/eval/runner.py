"""The systems the benchmark compares, each run on one input at a time.

* ``hudtranslate``: the pipeline as shipped (simultaneous: partial translations shown);
* ``hudtranslate-sentence``: the same with ``translate.translate_partials = False``;
* ``whisper-translate``: what a user would try instead, Whisper base's own speech→English
  (``task="translate"``) on the same VAD utterances, beam 5, with all the cores;
* ``mt-on-reference-text``: our translator on the reference Chinese, the ceiling that
  recognition errors cost us.

Recognition is scored too: the two ``hudtranslate`` systems keep their final Chinese, and
``transcribe_offline`` decodes whole utterances with the same Whisper model (faster-whisper's
own offline ``transcribe``), the reference that streaming recognition is compared with.

All stream systems get the same audio through the same chunking and (for talks) the
same real-time pace, and report every event the way a display would see it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from hudtranslate.asr.decode_checks import is_silence
from hudtranslate.asr.decoding import Decoder
from hudtranslate.asr.text import normalize_chinese
from hudtranslate.asr.whisper import MAX_FRAMES
from hudtranslate.audio import file_chunks
from hudtranslate.config import Settings
from hudtranslate.events import (
    SAMPLE_RATE_HZ,
    AudioArray,
    AudioChunk,
    SpeechChunk,
    Transcript,
    Translation,
    join_english,
)
from hudtranslate.pipeline import (
    Engines,
    Event,
    PipelineResult,
    Sink,
    StreamClock,
    run_pipeline,
    timed_audio,
)
from hudtranslate.stages import Batches, Worker, vad_stage
from hudtranslate.translate.translator import SessionTranslator
from hudtranslate.vad.segmenter import SpeechSegmenter
from hudtranslate.vad.silero import VadModel

SIMULTANEOUS = "hudtranslate"
SENTENCE = "hudtranslate-sentence"
WHISPER_TRANSLATE = "whisper-translate"
MT_ON_TEXT = "mt-on-reference-text"
SYSTEMS = (SIMULTANEOUS, SENTENCE, WHISPER_TRANSLATE, MT_ON_TEXT)
AUDIO_SYSTEMS = (SIMULTANEOUS, SENTENCE, WHISPER_TRANSLATE)
ASR_SYSTEMS = (SIMULTANEOUS, SENTENCE)
"""The systems that show Chinese (whisper-translate goes straight to English)."""

BASELINE_BEAM_SIZE = 5
_MAX_BASELINE_SAMPLES = (MAX_FRAMES // 100 - 4) * SAMPLE_RATE_HZ


@dataclass
class BenchEngines:
    """Loaded models: the pipeline's, and the baseline's own Whisper (all cores)."""

    pipeline: Engines | None = None
    baseline: Decoder | None = None
    vad_factory: Callable[[], VadModel] | None = None


def load_bench_engines(settings: Settings, systems: Sequence[str]) -> BenchEngines:
    """Load only what the chosen systems need. The baseline gets its own Whisper with
    every thread, as a user running Whisper alone would have."""
    from hudtranslate.asr.whisper import WhisperEngine
    from hudtranslate.engines import load_engines
    from hudtranslate.models import resolve_model
    from hudtranslate.vad.silero import SileroVad

    engines = BenchEngines(vad_factory=SileroVad)
    if any(system != WHISPER_TRANSLATE for system in systems):
        engines.pipeline = load_engines(settings)
    if WHISPER_TRANSLATE in systems:
        path = resolve_model(settings.asr.model, "asr", settings.cache_path)
        engines.baseline = WhisperEngine(path, cpu_threads=settings.threads,
                                         language=settings.asr.language)
    return engines


@dataclass
class StreamRun:
    """Everything one system showed for one stream, in order, and what it cost."""

    translations: list[Translation] = field(default_factory=list)
    duration_s: float = 0.0
    cpu_s: float = 0.0
    transcripts: list[Transcript] = field(default_factory=list)
    """Final transcripts only (none for ``whisper-translate``)."""

    @property
    def finals(self) -> list[Translation]:
        return [t for t in self.translations if t.final]

    @property
    def english(self) -> str:
        """The finals' English as one text, joined as the display joins them (a sentence
        continued after a pause goes on with ", which …", not " , which …")."""
        return functools.reduce(join_english, (t.text for t in self.finals if t.text), "")

    @property
    def chinese(self) -> str:
        """The final Chinese of the stream, utterances joined without a separator."""
        return "".join(t.text for t in self.transcripts)


class _Recorder:
    """A sink keeping every translation, partial ones included, and final transcripts."""

    def __init__(self) -> None:
        self.translations: list[Translation] = []
        self.transcripts: list[Transcript] = []

    def handle(self, event: Event) -> None:
        if isinstance(event, Translation):
            self.translations.append(event)
        elif isinstance(event, Transcript) and event.final:
            self.transcripts.append(event)

    def close(self) -> None:
        pass


def sentence_settings(settings: Settings) -> Settings:
    """Sentence-at-a-time: the same settings, no partial translations."""
    return dataclasses.replace(
        settings, translate=dataclasses.replace(settings.translate, translate_partials=False))


async def run_stream(system: str, samples: AudioArray, engines: BenchEngines,
                     settings: Settings, *, realtime: bool) -> StreamRun:
    """Feed ``samples`` to an audio system, paced like a microphone when ``realtime``."""
    chunks = file_chunks(samples, settings.audio.chunk_ms, realtime)
    recorder = _Recorder()
    if system == WHISPER_TRANSLATE:
        if engines.baseline is None or engines.vad_factory is None:
            raise ValueError("whisper-translate needs the baseline decoder and a VAD")
        result = await run_whisper_translate(chunks, engines.baseline, engines.vad_factory,
                                             settings, recorder, realtime=realtime)
    elif system in (SIMULTANEOUS, SENTENCE):
        if engines.pipeline is None:
            raise ValueError(f"{system} needs the pipeline's engines")
        chosen = sentence_settings(settings) if system == SENTENCE else settings
        result = await run_pipeline(chunks, engines.pipeline, chosen, [recorder],
                                    realtime=realtime)
    else:
        raise ValueError(f"{system} is not an audio system")
    return StreamRun(recorder.translations, result.duration_s, result.cpu_s,
                     recorder.transcripts)


async def run_whisper_translate(chunks: AsyncIterator[AudioChunk], decoder: Decoder,
                                vad_factory: Callable[[], VadModel], settings: Settings,
                                sink: Sink, *, realtime: bool) -> PipelineResult:
    """The baseline as a stream: the pipeline's VAD, then one ``task="translate"`` decode
    per utterance once the speaker pauses. The VAD keeps reading audio during decodes."""
    result = PipelineResult()
    clock = StreamClock(realtime)
    vad_worker, asr_worker = Worker("vad"), Worker("whisper-translate")
    segmenter = SpeechSegmenter(vad_factory(), settings.vad)
    cpu_start, wall_start = time.process_time(), time.monotonic()
    try:
        speech = vad_stage(timed_audio(chunks, clock, result), segmenter, vad_worker)
        pieces: dict[int, list[AudioArray]] = {}
        starts: dict[int, float] = {}
        async for batch in Batches(speech):
            for chunk in batch:
                pieces.setdefault(chunk.utterance_id, []).append(chunk.samples)
                starts.setdefault(chunk.utterance_id, chunk.start_s)
                if not chunk.final:
                    continue
                audio = np.concatenate(pieces.pop(chunk.utterance_id))
                if chunk.cut_s is not None:  # speech cut inside audio already received
                    start_s = starts[chunk.utterance_id]
                    audio = audio[: max(0, round((chunk.cut_s - start_s) * SAMPLE_RATE_HZ))]
                translation = await asr_worker.run(
                    _whisper_translate, decoder, audio, chunk, starts.pop(chunk.utterance_id),
                    settings, clock)
                if translation is not None:
                    result.translations.append(translation)
                    sink.handle(translation)
    finally:
        vad_worker.close()
        asr_worker.close()
        result.cpu_s = time.process_time() - cpu_start
        result.wall_s = time.monotonic() - wall_start
    return result


def _whisper_translate(decoder: Decoder, audio: AudioArray, last: SpeechChunk, start_s: float,
                       settings: Settings, clock: Callable[[], float]) -> Translation | None:
    duration_s = len(audio) / SAMPLE_RATE_HZ
    decoded = decoder.decode(
        audio[:_MAX_BASELINE_SAMPLES], beam_size=BASELINE_BEAM_SIZE,
        max_new_tokens=min(224, int(8 * duration_s) + 16),
        padding_s=settings.asr.padding_s, task="translate",
    )
    if is_silence(decoded, last.speech_share):  # the recogniser's gate, applied to the baseline
        return None
    text = " ".join(decoded.text.split())
    if not text:
        return None
    return Translation(utterance_id=last.utterance_id, source="", committed=text, tentative="",
                       start_s=start_s, end_s=start_s + duration_s, final=True,
                       emitted_s=clock(), model="whisper-translate")


@dataclass(frozen=True)
class TextRun:
    """English for each reference sentence, and the CPU time it took."""

    english: list[str]
    cpu_s: float


async def translate_text(sentences: Sequence[tuple[str, float, float]],
                         engines: Engines, settings: Settings, *,
                         one_session: bool) -> TextRun:
    """Translate ``(chinese, start_s, end_s)`` sentences as finished transcripts.

    ``one_session``: a talk keeps its context between sentences, as the live system
    does; unrelated sentences (utterances, text files) each get a fresh session.
    """
    return await asyncio.to_thread(_translate_text, sentences, engines, settings, one_session)


def _translate_text(sentences: Sequence[tuple[str, float, float]], engines: Engines,
                    settings: Settings, one_session: bool) -> TextRun:
    cpu_start = time.process_time()

    def new_session() -> SessionTranslator:
        return SessionTranslator(engines.translator, settings.translate,
                                 glossary=engines.glossary)

    session = new_session()
    english = []
    for index, (chinese, start_s, end_s) in enumerate(sentences):
        if not one_session:
            session = new_session()
        transcript = Transcript(index, chinese, "", start_s, end_s, True, end_s)
        translation = session.translate(transcript)
        english.append(translation.text if translation is not None else "")
    return TextRun(english, time.process_time() - cpu_start)


@runtime_checkable
class OfflineTranscriber(Protocol):
    """A decoder that can also transcribe a whole recording offline
    (``WhisperEngine.transcribe_offline``)."""

    def transcribe_offline(self, audio: AudioArray, *, beam_size: int = 5) -> str: ...


def offline_transcriber(engines: BenchEngines) -> OfflineTranscriber | None:
    """The Whisper model that makes the offline reference decodes: the baseline's (it has
    every thread) when loaded, else the pipeline's; both load the same model. None when
    neither can transcribe offline (a test fake without ``transcribe_offline``)."""
    candidates = (engines.baseline, engines.pipeline.asr if engines.pipeline else None)
    for decoder in candidates:
        if isinstance(decoder, OfflineTranscriber):
            return decoder
    return None


async def transcribe_offline(decoder: OfflineTranscriber, samples: AudioArray) -> str:
    """The offline decode of ``samples`` (beam 5), normalised as the recogniser normalises
    its own output (``normalize_chinese``); run on a worker thread."""
    text = await asyncio.to_thread(decoder.transcribe_offline, samples,
                                   beam_size=BASELINE_BEAM_SIZE)
    return normalize_chinese(text)
