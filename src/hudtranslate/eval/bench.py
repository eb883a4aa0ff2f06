"""Runs every chosen system over every input and turns what they showed into numbers.

Three sections, each optional: talks (long recordings fed at real-time pace, so
computation time counts: latency, flicker, quality, cost), utterances (single-sentence
clips, as fast as possible: quality and cost) and text (reference sentences only, so only
the ``mt-on-reference-text`` system: quality; zh→en, and en→zh for items whose direction
is "en-zh", see ``eval.enzh``).

Wherever there is reference Chinese and audio, recognition is scored as well: ``cer`` of
the streaming system's final Chinese, ``cer_offline`` of the same Whisper model decoding
each whole utterance (talks: each reference segment) offline, made once per clip before
any system runs, and ``cer_streaming_cost`` = ``cer`` - ``cer_offline``.
"""

from __future__ import annotations

import asyncio
import resource
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from hudtranslate.asr.levels import normalize_speech_level
from hudtranslate.asr.whisper import MAX_FRAMES
from hudtranslate.audio import read_audio_file
from hudtranslate.config import Settings
from hudtranslate.errors import AudioError, DataError
from hudtranslate.eval.cer import corpus_cer
from hudtranslate.eval.creep import (
    RSS_SAMPLE_S,
    creep_summary,
    current_rss_mb,
    loop_talks,
    rss_summary,
)
from hudtranslate.eval.enzh import SECTION as ENZH_SECTION
from hudtranslate.eval.enzh import chinese_texts
from hudtranslate.eval.manifests import Segment, Talk, TextItem, Utterance
from hudtranslate.eval.metrics import (
    RefSentence,
    Span,
    WordTrack,
    committed_track,
    corpus_quality,
    displayed_track,
    final_latencies,
    glossary_term_rate,
    normalized_erasure,
    percentile,
    resegment,
    stream_laal,
)
from hudtranslate.eval.runner import (
    ASR_SYSTEMS,
    AUDIO_SYSTEMS,
    MT_ON_TEXT,
    SIMULTANEOUS,
    BenchEngines,
    OfflineTranscriber,
    StreamRun,
    offline_transcriber,
    run_stream,
    transcribe_offline,
    translate_text,
)
from hudtranslate.events import SAMPLE_RATE_HZ, AudioArray
from hudtranslate.pipeline import Engines, apply_text_repairs, heard_repair, text_repairs
from hudtranslate.translate.glossary import Glossary


class Progress(Protocol):
    """Where the benchmark reports what it is doing (a progress bar, or nothing)."""

    def begin(self, section: str, total: int) -> None: ...

    def advance(self, label: str) -> None: ...


class NoProgress:
    def begin(self, section: str, total: int) -> None:
        pass

    def advance(self, label: str) -> None:
        pass


@dataclass
class BenchInputs:
    """Validated inputs; any section may be empty."""

    talks: list[Talk] = field(default_factory=list)
    utterances: list[Utterance] = field(default_factory=list)
    texts: list[TextItem] = field(default_factory=list)


async def _sample_rss(samples: list[tuple[float, float]]) -> None:
    """Append (seconds since start, resident MB) every ``RSS_SAMPLE_S`` until cancelled."""
    started = time.monotonic()
    while True:
        samples.append((time.monotonic() - started, current_rss_mb()))
        await asyncio.sleep(RSS_SAMPLE_S)


def peak_rss_mb() -> float:
    """The process's peak resident memory so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _AudioCache:
    """Each recording is decoded once and shared by the systems that run on it."""

    def __init__(self) -> None:
        self._samples: dict[str, AudioArray] = {}

    def get(self, item: Talk | Utterance) -> AudioArray:
        key = str(item.wav)
        if key not in self._samples:
            try:
                self._samples[key] = read_audio_file(item.wav)
            except AudioError as exc:
                raise DataError(f"{item.where}: {exc}") from None
        return self._samples[key]


Clip = tuple[str, float, float | None]
"""A piece of a recording: (wav path, start s, end s or None for the end)."""


def utterance_clip(item: Utterance) -> Clip:
    return (str(item.wav), 0.0, None)


def segment_clip(talk: Talk, segment: Segment) -> Clip:
    return (str(talk.wav), segment.start_s, segment.end_s)


async def run_benchmark(inputs: BenchInputs, systems: Sequence[str], engines: BenchEngines,
                        settings: Settings, *, realtime: bool = True, repeat: int = 1,
                        creep_minutes: float | None = None, offline_asr: bool = True,
                        progress: Progress | None = None) -> dict[str, dict[str, Any]]:
    """Results per system: talk metrics at the top, ``utterances``, ``text`` and ``creep``
    nested. Talks are run ``repeat`` times by each audio system, and every talk metric is
    the median over the runs (the runs are kept under ``runs``).

    ``offline_asr``: first decode every utterance and talk segment offline for
    ``cer_offline`` (None when off, or when no loaded decoder can transcribe offline)."""
    progress = progress or NoProgress()
    results: dict[str, dict[str, Any]] = {system: {} for system in systems}
    audio = _AudioCache()
    decoder = offline_transcriber(engines) if offline_asr else None
    offline = None
    if decoder is not None and any(system in AUDIO_SYSTEMS for system in systems):
        repairs = ([] if engines.pipeline is None else
                   await asyncio.to_thread(text_repairs, engines.pipeline, settings))
        by_ear = None if engines.pipeline is None else heard_repair(engines.pipeline, settings)
        offline = await offline_decodes(inputs, decoder, audio, progress, repairs, by_ear)
    if inputs.talks:
        runs_of = {system: 1 if system == MT_ON_TEXT else repeat for system in systems}
        progress.begin("talks", sum(runs_of.values()) * len(inputs.talks))
        for system in systems:
            summaries = [await _talks(system, inputs.talks, engines, settings, audio, realtime,
                                      offline, progress) for _ in range(runs_of[system])]
            results[system].update(median_of_runs(summaries))
    if inputs.talks and creep_minutes:
        looped = [system for system in systems if system == SIMULTANEOUS]
        stream = loop_talks(inputs.talks, [audio.get(talk) for talk in inputs.talks],
                            creep_minutes)
        progress.begin(f"latency creep ({stream.duration_s / 60:.1f} min)", len(looped))
        for system in looped:
            samples: list[tuple[float, float]] = []
            sampler = asyncio.create_task(_sample_rss(samples))
            try:
                run = await run_stream(system, stream.samples, engines, settings,
                                       realtime=realtime)
            finally:
                sampler.cancel()
            results[system]["creep"] = {
                **creep_summary(stream, run_latencies(stream.segments, run)),
                **rss_summary(samples)}
            progress.advance(f"{system} · {stream.duration_s / 60:.1f} min")
    if inputs.utterances:
        progress.begin("utterances", len(systems) * len(inputs.utterances))
        for system in systems:
            results[system]["utterances"] = await _utterances(
                system, inputs.utterances, engines, settings, audio, offline, progress)
    to_english = [item for item in inputs.texts if item.direction == "zh-en"]
    to_chinese = [item for item in inputs.texts if item.direction == "en-zh"]
    if to_english and MT_ON_TEXT in systems:
        progress.begin("text", len(to_english))
        results[MT_ON_TEXT]["text"] = await _texts(to_english, engines, settings, progress)
    if to_chinese and MT_ON_TEXT in systems:
        progress.begin("text en→zh", len(to_chinese))
        results[MT_ON_TEXT][ENZH_SECTION] = await chinese_texts(
            to_chinese, _translator(engines).translator,
            max_new_tokens=settings.translate.max_new_tokens, progress=progress)
    return results


async def offline_decodes(inputs: BenchInputs, decoder: OfflineTranscriber,
                          audio: _AudioCache, progress: Progress,
                          repairs: Sequence[Callable[[str], str]] = (),
                          by_ear: Callable[[AudioArray, str, int], str] | None = None,
                          ) -> dict[Clip, str]:
    """The offline decode (``transcribe_offline``) of every utterance and every talk
    segment, normalised like the recogniser's output and given the pipeline's repairs
    (``by_ear``: ``pipeline.heard_repair`` for clips of at most 30 s, then the text
    ``repairs``: ``pipeline.text_repairs``), so streaming and offline differ only in how
    they decode; each clip decoded once."""
    clips: dict[Clip, Talk | Utterance] = {}
    for talk in inputs.talks:
        clips.update({segment_clip(talk, segment): talk for segment in talk.segments})
    clips.update({utterance_clip(item): item for item in inputs.utterances})
    if not clips:
        return {}
    progress.begin("offline recognition (reference decodes)", len(clips))
    decoded: dict[Clip, str] = {}
    for clip, item in clips.items():
        _, start_s, end_s = clip
        samples = audio.get(item)
        first = round(start_s * SAMPLE_RATE_HZ)
        last = len(samples) if end_s is None else round(end_s * SAMPLE_RATE_HZ)
        clip_samples = samples[first:last]
        text = await transcribe_offline(decoder, clip_samples)
        if by_ear is not None and len(clip_samples) <= MAX_FRAMES // 100 * SAMPLE_RATE_HZ:
            text = await asyncio.to_thread(by_ear, normalize_speech_level(clip_samples), text, 0)
        decoded[clip] = apply_text_repairs(repairs, text)
        progress.advance(f"offline · {item.id}" + ("" if end_s is None else f" @{start_s:g}s"))
    return decoded


def recognition_scores(references: Sequence[str], streamed: Sequence[str] | None,
                       offline: Sequence[str] | None) -> dict[str, float | None]:
    """``cer`` of the streamed Chinese, ``cer_offline`` of the offline decodes (each None
    when not given) and ``cer_streaming_cost``, their difference (``eval.cer``)."""
    cer = None if streamed is None else corpus_cer(references, streamed)
    cer_offline = None if offline is None else corpus_cer(references, offline)
    cost = None if cer is None or cer_offline is None else cer - cer_offline
    return {"cer": cer, "cer_offline": cer_offline, "cer_streaming_cost": cost}


def median_of_runs(summaries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One summary whose numbers are the medians over ``summaries`` (the last run's
    per-talk details); with several runs, each run's numbers are kept under ``runs``."""
    if len(summaries) == 1:
        return summaries[0]
    merged = dict(summaries[-1])
    numeric = [key for key, value in merged.items()
               if isinstance(value, int | float) and not isinstance(value, bool)]
    for key in numeric:
        values = [run.get(key) for run in summaries]
        present = [float(value) for value in values if value is not None]
        merged[key] = float(np.median(present)) if len(present) == len(values) else None
    merged["repeats"] = len(summaries)
    merged["runs"] = [{key: run.get(key) for key in numeric} for run in summaries]
    return merged


def run_latencies(segments: Sequence[Segment], run: StreamRun) -> list[float | None]:
    """Each reference sentence's final latency in ``run`` (``final_latencies``)."""
    spans = [Span(t.start_s, t.end_s, t.emitted_s) for t in run.finals if t.text]
    return final_latencies([(s.start_s, s.end_s) for s in segments], spans)


def _translator(engines: BenchEngines) -> Engines:
    if engines.pipeline is None:
        raise ValueError(f"{MT_ON_TEXT} needs the translation engine")
    return engines.pipeline


async def _talks(system: str, talks: Sequence[Talk], engines: BenchEngines, settings: Settings,
                 audio: _AudioCache, realtime: bool, offline: Mapping[Clip, str] | None,
                 progress: Progress) -> dict[str, Any]:
    if system == MT_ON_TEXT:
        texts = []
        for talk in talks:
            sentences = [(s.zh, s.start_s, s.end_s) for s in talk.segments]
            texts.append(await translate_text(sentences, _translator(engines), settings,
                                              one_session=True))
            progress.advance(f"{system} · {talk.id}")
        tracks = [WordTrack(words=" ".join(run.english).split()) for run in texts]
        for track in tracks:
            track.audio_s = track.emitted_s = [0.0] * len(track.words)
        summary = _talk_quality(talks, tracks, _terms(engines))
        summary["cpu_s_per_audio_s"] = _ratio(sum(r.cpu_s for r in texts),
                                              sum(t.duration_s for t in talks))
    else:
        runs = []
        for talk in talks:
            runs.append(await run_stream(system, audio.get(talk), engines, settings,
                                         realtime=realtime))
            progress.advance(f"{system} · {talk.id}")
        summary = talk_summary(talks, runs, _terms(engines))
        summary = _with_recognition(summary, talk_recognition(system, talks, runs, offline))
    summary["peak_rss_mb"] = peak_rss_mb()
    return summary


def talk_recognition(system: str, talks: Sequence[Talk], runs: Sequence[StreamRun],
                     offline: Mapping[Clip, str] | None) -> dict[str, Any]:
    """Recognition scores of one system's talk runs: each talk's final Chinese (joined)
    against its reference sentences (joined), pooled over the talks, and per talk."""
    references = ["".join(s.zh for s in talk.segments) for talk in talks]
    streamed = [run.chinese for run in runs] if system in ASR_SYSTEMS else None
    decoded = None if offline is None else [
        "".join(offline[segment_clip(talk, s)] for s in talk.segments) for talk in talks]
    per_talk = [_recognised(reference, streamed, decoded, index)
                for index, reference in enumerate(references)]
    return {**recognition_scores(references, streamed, decoded), "talks": per_talk}


def _recognised(reference: str, streamed: Sequence[str] | None,
                decoded: Sequence[str] | None, index: int) -> dict[str, Any]:
    """Item ``index``'s reference, streamed and offline Chinese, and their CERs."""
    zh = None if streamed is None else streamed[index]
    zh_offline = None if decoded is None else decoded[index]
    scores = recognition_scores([reference], None if zh is None else [zh],
                                None if zh_offline is None else [zh_offline])
    return {"zh_ref": reference, "zh": zh, "zh_offline": zh_offline, "cer": scores["cer"],
            "cer_offline": scores["cer_offline"]}


def _with_recognition(summary: dict[str, Any], recognition: dict[str, Any]) -> dict[str, Any]:
    """``summary`` with the pooled scores before ``talks``, the per-talk ones merged in."""
    talks = summary.pop("talks")
    for talk, extra in zip(talks, recognition.pop("talks"), strict=True):
        talk.update(extra)
    return {**summary, **recognition, "talks": talks}


def _terms(engines: BenchEngines) -> Glossary:
    """The user's glossary terms (not dictionary names): what ``glossary_term_rate`` checks."""
    return Glossary(terms=engines.pipeline.glossary.terms) if engines.pipeline else Glossary()


def _talk_quality(talks: Sequence[Talk], tracks: Sequence[WordTrack],
                  glossary: Glossary | None = None) -> dict[str, Any]:
    """BLEU/chrF of the streams re-segmented into the reference sentences."""
    hypotheses: list[str] = []
    references: list[tuple[str, ...]] = []
    sources: list[str] = []
    per_talk = []
    for talk, track in zip(talks, tracks, strict=True):
        cut = resegment(track, _references(talk))
        refs = [s.en_refs for s in talk.segments]
        quality = corpus_quality(cut.hypotheses, refs)
        per_talk.append({"id": talk.id, "bleu": quality.bleu, "chrf": quality.chrf,
                         "english": track.text})
        hypotheses += cut.hypotheses
        references += refs
        sources += [s.zh for s in talk.segments]
    quality = corpus_quality(hypotheses, references)
    return {"bleu": quality.bleu, "chrf": quality.chrf, "sentences": len(references),
            **glossary_term_rate(zip(sources, hypotheses, strict=True), glossary or Glossary()),
            "talks": per_talk}


def _references(talk: Talk) -> list[RefSentence]:
    return [RefSentence(s.en_refs, s.start_s, s.end_s) for s in talk.segments]


def talk_summary(talks: Sequence[Talk], runs: Sequence[StreamRun],
                 glossary: Glossary | None = None) -> dict[str, Any]:
    """Every talk metric of one system, pooled over the talks (and per talk)."""
    committed = [committed_track(run.translations) for run in runs]
    displayed = [displayed_track(run.translations) for run in runs]
    summary = _talk_quality(talks, committed, glossary)
    laal_streams, shown_streams, latencies = [], [], []
    for index, (talk, run) in enumerate(zip(talks, runs, strict=True)):
        refs = _references(talk)
        laal_streams.append((resegment(committed[index], refs), refs))
        shown_streams.append((resegment(displayed[index], refs), refs))
        found = run_latencies(talk.segments, run)
        talk_latencies = [value for value in found if value is not None]
        latencies += talk_latencies
        laal = stream_laal([laal_streams[-1]])
        summary["talks"][index].update({
            "stream_laal_s": laal.computation_aware_s,
            "stream_laal_ideal_s": laal.ideal_s,
            "final_latency_p50_s": percentile(talk_latencies, 50),
            "final_latency_p95_s": percentile(talk_latencies, 95),
            "final_latencies_s": found,
            "normalized_erasure": normalized_erasure(displayed[index].erased,
                                                     len(displayed[index].words)),
            "cpu_s_per_audio_s": _ratio(run.cpu_s, run.duration_s),
            "partial_updates": len(run.translations) - len(run.finals),
        })
    laal = stream_laal(laal_streams)
    shown = stream_laal(shown_streams)
    found_count = len(latencies)
    return {
        "stream_laal_s": laal.computation_aware_s,
        "stream_laal_ideal_s": laal.ideal_s,
        "stream_laal_displayed_s": shown.computation_aware_s,
        "final_latency_p50_s": percentile(latencies, 50),
        "final_latency_p95_s": percentile(latencies, 95),
        "final_latency_missed": summary["sentences"] - found_count,
        "bleu": summary["bleu"],
        "chrf": summary["chrf"],
        "normalized_erasure": normalized_erasure(sum(t.erased for t in displayed),
                                                 sum(len(t.words) for t in displayed)),
        "cpu_s_per_audio_s": _ratio(sum(r.cpu_s for r in runs), sum(r.duration_s for r in runs)),
        "sentences": summary["sentences"],
        **{key: summary[key] for key in ("glossary_term_rate", "glossary_terms") if key in summary},
        "sentences_without_output": laal.empty,
        "partial_updates": sum(len(r.translations) - len(r.finals) for r in runs),
        "talks": summary["talks"],
    }


async def _utterances(system: str, utterances: Sequence[Utterance], engines: BenchEngines,
                      settings: Settings, audio: _AudioCache, offline: Mapping[Clip, str] | None,
                      progress: Progress) -> dict[str, Any]:
    english: list[str] = []
    chinese: list[str] = []
    cpu_s = 0.0
    for item in utterances:
        if system == MT_ON_TEXT:
            text = await translate_text([(item.zh, 0.0, item.duration_s)], _translator(engines),
                                        settings, one_session=False)
            english.append(text.english[0])
            cpu_s += text.cpu_s
        else:
            run = await run_stream(system, audio.get(item), engines, settings, realtime=False)
            english.append(run.english)
            chinese.append(run.chinese)
            cpu_s += run.cpu_s
        progress.advance(f"{system} · {item.id}")
    quality = corpus_quality(english, [item.en_refs for item in utterances])
    references = [item.zh for item in utterances]
    streamed = chinese if system in ASR_SYSTEMS else None
    decoded = (None if offline is None or system == MT_ON_TEXT
               else [offline[utterance_clip(item)] for item in utterances])
    items = [{"id": item.id, **_recognised(item.zh, streamed, decoded, index),
              "en": english[index], "en_refs": list(item.en_refs)}
             for index, item in enumerate(utterances)]
    recognition = {} if system == MT_ON_TEXT else recognition_scores(references, streamed,
                                                                     decoded)
    return {"bleu": quality.bleu, "chrf": quality.chrf, **recognition,
            "sentences": len(utterances),
            **glossary_term_rate(zip(references, english, strict=True), _terms(engines)),
            "without_output": sum(1 for text in english if not text),
            "cpu_s_per_audio_s": _ratio(cpu_s, sum(item.duration_s for item in utterances)),
            "peak_rss_mb": peak_rss_mb(), "items": items}


async def _texts(items: Sequence[TextItem], engines: BenchEngines, settings: Settings,
                 progress: Progress) -> dict[str, Any]:
    english: list[str] = []
    for item in items:
        run = await translate_text([(item.zh, 0.0, 0.0)], _translator(engines), settings,
                                   one_session=False)
        english.append(run.english[0])
        progress.advance(f"{MT_ON_TEXT} · {item.id}")
    quality = corpus_quality(english, [item.en_refs for item in items])
    return {"bleu": quality.bleu, "chrf": quality.chrf, "sentences": len(items),
            **glossary_term_rate(zip([item.zh for item in items], english, strict=True),
                                 _terms(engines)),
            "without_output": sum(1 for text in english if not text),
            "items": [{"id": item.id, "zh": item.zh, "en": text, "en_refs": list(item.en_refs)}
                      for item, text in zip(items, english, strict=True)]}


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None
