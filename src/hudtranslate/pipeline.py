"""Composes the stages, fans events out to sinks, supervises, and shuts down cleanly.

``audio source → VAD → ASR → MT → sinks``. In converse mode the same stages run with a
recogniser that detects zh/en per utterance and a translator that routes each utterance
by its language (``conversation``). Models are loaded once into ``Engines`` and
shared; ``run_pipeline`` builds the cheap per-stream state for one stream. Any stage
failing, the end of the stream, or Ctrl-C (cancellation) stops every stage; sinks are
always closed, so transcripts already committed are never lost.

Streams that share the engines with others (the server's sessions) pass the server's
``SharedLoad``: the stream joins it for as long as it runs (fair turns at the models,
optional work shed under overload; ``sharing.py``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from hudtranslate.asr.decoding import Decoder
from hudtranslate.asr.recognizer import StreamingRecognizer
from hudtranslate.asr.same_sound import repair_by_ear, same_sound_repair, word_tokenizer
from hudtranslate.config import Settings
from hudtranslate.conversation.drafts import DraftMarker
from hudtranslate.conversation.translator import ConversationTranslator, ReplyTranslator
from hudtranslate.errors import ConfigError
from hudtranslate.events import AudioArray, AudioChunk, StreamEnd, Transcript, Translation
from hudtranslate.sharing import SharedLoad
from hudtranslate.stages import (
    CoreShare,
    Worker,
    asr_stage,
    merge_drafts,
    translate_stage,
    vad_stage,
)
from hudtranslate.translate.glossary import Glossary
from hudtranslate.translate.heard_terms import terms_by_sound
from hudtranslate.translate.translator import (
    SessionTranslator,
    TranslationBackend,
    UtteranceTranslator,
)
from hudtranslate.vad.segmenter import SpeechSegmenter
from hudtranslate.vad.silero import VadModel

log = logging.getLogger(__name__)

Event = Transcript | Translation | StreamEnd


class Sink(Protocol):
    """Receives every transcript and translation, then one ``StreamEnd``."""

    def handle(self, event: Event) -> None: ...

    def close(self) -> None: ...


@dataclass
class Engines:
    """Loaded models, shared by all streams. ``vad_factory`` makes per-stream VAD state."""

    asr: Decoder
    translator: TranslationBackend
    vad_factory: Callable[[], VadModel]
    glossary: Glossary = field(default_factory=Glossary)


class StreamClock:
    """Seconds since the stream started. Live/real-time streams use wall time; a file read
    as fast as possible uses the audio position reached, so latencies stay meaningful."""

    def __init__(self, realtime: bool) -> None:
        self.realtime = realtime
        self._start = time.monotonic()
        self.audio_s = 0.0

    def start(self) -> None:
        self._start = time.monotonic()

    def __call__(self) -> float:
        return time.monotonic() - self._start if self.realtime else self.audio_s


@dataclass
class PipelineResult:
    """Final translations in order, plus what was measured while running."""

    translations: list[Translation] = field(default_factory=list)
    transcripts: list[Transcript] = field(default_factory=list)
    duration_s: float = 0.0
    cpu_s: float = 0.0
    wall_s: float = 0.0

    @property
    def cpu_s_per_audio_s(self) -> float:
        return self.cpu_s / self.duration_s if self.duration_s else 0.0

    def final_latencies_s(self, speech_pad_s: float = 0.0) -> list[float]:
        """End of speech (utterance end minus VAD's trailing pad) → final English shown."""
        return [t.emitted_s - (t.end_s - speech_pad_s) for t in self.translations]


async def _repaired(events: AsyncIterator[Transcript],
                    repairs: Sequence[Callable[[str], str]]) -> AsyncIterator[Transcript]:
    """Mandarin transcripts with ``repairs`` applied in order, each keeping the text's
    length: same-sound recognition errors (``asr/same_sound.py``), then the glossary's
    terms where the recogniser wrote their sound with other characters
    (``translate/heard_terms.py``). They run on a worker thread: a first-seen
    100-character partial costs ~40 ms of pure Python, which on the event loop would hold
    up every other wearer of the server."""
    async for event in events:
        if repairs and event.language == "zh" and not event.draft:
            text = await asyncio.to_thread(apply_text_repairs, repairs, event.text)
            if text != event.text:
                cut = len(event.committed)
                event = dataclasses.replace(event, committed=text[:cut], tentative=text[cut:])
        yield event


def apply_text_repairs(repairs: Sequence[Callable[[str], str]], text: str) -> str:
    """``text`` with each of ``repairs`` (``text_repairs``) applied in order."""
    for repair in repairs:
        text = repair(text)
    return text


def text_repairs(engines: Engines, settings: Settings) -> list[Callable[[str], str]]:
    """What ``_repaired`` applies to recognised Mandarin, in order (also to the bench's
    offline reference decodes, so both are scored alike). Loads jieba's dictionary and
    CC-CEDICT on first use: call it off the event loop."""
    repairs: list[Callable[[str], str]] = []
    word_tokenizer()  # also the translator's sentence-end rule (``spoken.ends_on_bare_modal``)
    if settings.asr.same_sound_margin > 0:
        repairs.append(same_sound_repair(settings.asr.same_sound_margin).repair)
    if settings.asr.same_sound_heard_margin > 0:
        same_sound_repair()  # the word model ``heard_repair`` uses, loaded here off the loop
    restorer = terms_by_sound(tuple(engines.glossary.terms))
    if restorer:
        repairs.append(restorer.restore)
    return repairs


def heard_repair(engines: Engines, settings: Settings,
                 ) -> Callable[[AudioArray, str, int], str] | None:
    """What ``StreamingRecognizer.heard_repair`` applies to Mandarin finals: same-sound
    repairs from ``asr.same_sound_heard_margin`` nats, judged by the recogniser hearing
    the utterance again (``same_sound.repair_by_ear``); None when that margin is 0 or
    the engine cannot score a text (a test fake). The glossary's terms heard by their
    sound are restored first and never repaired. Uses the word model ``text_repairs``
    loads."""
    margin = settings.asr.same_sound_heard_margin
    score = getattr(engines.asr, "text_log_probabilities", None)
    if margin <= 0 or score is None:
        return None
    repairer = same_sound_repair()
    padding_s = settings.asr.padding_s
    terms = tuple(engines.glossary.terms)
    restorer = terms_by_sound(terms)

    def repair(audio: AudioArray, text: str, start: int) -> str:
        if restorer:  # the wearer's names first (马利 → 玛丽, not 马力 "horsepower"), then kept
            text = text[:start] + restorer.restore(text[start:])
        return repair_by_ear(repairer, text, start,
                             lambda texts: score(audio, texts, padding_s=padding_s),
                             min_gain=margin, keep=terms)
    return repair


async def _drafts_marked(events: AsyncIterator[Transcript],
                         marker: DraftMarker) -> AsyncIterator[Transcript]:
    """The wearer's dictated messages marked ``draft`` before any display sees them (the
    partner page had shown a spoken draft's dictation as something said)."""
    async for event in events:
        yield marker.mark(event)


async def _tap(events: AsyncIterator[Transcript], sinks: Sequence[Sink],
               result: PipelineResult) -> AsyncIterator[Transcript]:
    async for event in events:
        if event.final:
            result.transcripts.append(event)
        for sink in sinks:
            sink.handle(event)
        yield event


async def timed_audio(chunks: AsyncIterator[AudioChunk], clock: StreamClock,
                      result: PipelineResult) -> AsyncIterator[AudioChunk]:
    """Pass audio through, moving the stream clock and the measured duration along."""
    clock.start()
    async for chunk in chunks:
        clock.audio_s = chunk.end_s
        result.duration_s = chunk.end_s
        yield chunk


def _languages(settings: Settings) -> tuple[str, ...]:
    """What the recogniser listens for: Mandarin only, or in converse mode Mandarin and
    the wearer's English, detected per utterance."""
    if settings.conversation.mode == "converse":
        return (settings.asr.language, "en")
    return ()


def _translator(engines: Engines, settings: Settings,
                clock: Callable[[], float]) -> UtteranceTranslator:
    """Listen mode: one direction. Converse mode: the same listening translator, and the
    wearer's English to Chinese beside it (``conversation``)."""
    listen = SessionTranslator(engines.translator, settings.translate, clock=clock,
                               glossary=engines.glossary)
    if settings.conversation.mode != "converse":
        return listen
    reply = ReplyTranslator(engines.translator, settings.translate, clock=clock,
                            glossary=engines.glossary)
    return ConversationTranslator(listen, reply)


async def run_pipeline(
    chunks: AsyncIterator[AudioChunk],
    engines: Engines,
    settings: Settings,
    sinks: Sequence[Sink] = (),
    *,
    realtime: bool = False,
    load: SharedLoad | None = None,
    drafts: AsyncIterator[Transcript] | None = None,
) -> PipelineResult:
    """Run one stream to its end; returns the final translations and measurements.
    ``load``: the load this stream shares with others on the same engines (None: it has
    them to itself). ``drafts``: messages the wearer typed (final English transcripts with
    ``draft`` set), translated alongside the speech and passed to the sinks like its
    transcripts (``stages.merge_drafts``); the stream ends once both have ended. Drafts
    need converse mode (ConfigError otherwise: listen mode has no way to Chinese)."""
    if drafts is not None and settings.conversation.mode != "converse":
        raise ConfigError("typed drafts need conversation.mode = \"converse\" (--mode converse)")
    result = PipelineResult()
    clock = StreamClock(realtime)
    workers = [Worker("vad"), Worker("asr"), Worker("mt")]
    segmenter = SpeechSegmenter(engines.vad_factory(), settings.vad)
    recognizer = StreamingRecognizer(
        engines.asr, settings.asr, languages=_languages(settings),
        prompt=settings.asr.initial_prompt,
        pause_kept_s=segmenter.pause_kept_s)
    translator = _translator(engines, settings, clock)
    cpu_start, wall_start = time.process_time(), time.monotonic()
    session_load = load.join() if load is not None else None
    try:
        speech = vad_stage(timed_audio(chunks, clock, result), segmenter, workers[0])
        share = CoreShare()
        heard = asr_stage(speech, recognizer, workers[1], clock, share, session_load)
        if drafts is not None:
            heard = merge_drafts(heard, drafts, clock)
        repairs = await asyncio.to_thread(text_repairs, engines, settings)
        recognizer.heard_repair = heard_repair(engines, settings)
        if settings.conversation.mode == "converse":
            heard = _drafts_marked(heard, DraftMarker())
        transcripts = _tap(_repaired(heard, repairs), sinks, result)
        async for translation in translate_stage(
            transcripts, translator, workers[2], partials=settings.translate.translate_partials,
            share=share, load=session_load,
        ):
            if translation.final:
                result.translations.append(translation)
            for sink in sinks:
                sink.handle(translation)
    finally:
        if session_load is not None:
            session_load.close()
        for worker in workers:
            worker.close()
        close_translator = getattr(translator, "close", None)
        if callable(close_translator):
            close_translator()
        result.cpu_s = time.process_time() - cpu_start
        result.wall_s = time.monotonic() - wall_start
        end = StreamEnd(duration_s=result.duration_s, stats={"cpu_s": result.cpu_s})
        for sink in sinks:
            sink.handle(end)
            sink.close()
    return result
