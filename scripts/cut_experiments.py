"""Offline experiments on where speech is cut, with the real Whisper base and Silero.

Three ideas for issue 9, all measured and dropped (docs/benchmark.md, tenth and
twenty-fourth sessions):

``left-context``: decode a unit that was cut in running speech together with the last
``--left`` seconds of the unit before it, so Whisper hears the words around the cut, and
drop what belongs to the earlier unit — by Whisper's word timestamps (CTranslate2
``align``) or by aligning the text with the earlier unit's. Units are the captions of
``hudtranslate file`` runs (``--units DIR``: one ``<id>/<id>.jsonl`` per clip).

``right-context``: decode each VAD unit with the next ``--right`` seconds of audio after
it and keep the words Whisper's timestamps place before the unit's end (the words after
a cut are what a unit decoded alone lacks).

``pause-cuts``: the segmentation rules simulated on the VAD's candidate short pauses (a
unit may be cut at any pause once ``--strict-after`` seconds long when Silero fell
below 0.5 there, at any short pause once ``--loose-after`` seconds long, and from
``--text-after`` seconds where Whisper's decode up to the pause ends in 。？！). Prints each
clip's text and cuts as JSON lines; ``--score real.jsonl`` gives the CER of the lot,
``--cases`` how long each sentence of a shared case waits for the cut after it.

    .venv/bin/python scripts/cut_experiments.py left-context --units /tmp/units --left 2
    .venv/bin/python scripts/cut_experiments.py right-context --references /tmp/far/real.jsonl
    .venv/bin/python scripts/cut_experiments.py pause-cuts --strict-after 2 --loose-after 3 \\
        --score ../shared/data/real/real.jsonl ../shared/data/real/real-*.wav
    .venv/bin/python scripts/cut_experiments.py pause-cuts --strict-after 2 --loose-after 3 \
        --cases ../shared/cases/cases.jsonl ../shared/cases/06-nonstop-speech.wav
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from hudtranslate.asr.levels import normalize_speech_level
from hudtranslate.asr.text import normalize_chinese
from hudtranslate.config import Settings, VadOptions
from hudtranslate.eval.cer import corpus_cer
from hudtranslate.events import SAMPLE_RATE_HZ, AudioChunk
from hudtranslate.models.resolve import resolve_model

SENTENCE_MARKS = "。？！"


def say(result: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")


def cut_lags(path: Path, cuts: list[float], cases: Path | None) -> dict[str, float]:
    """For a shared case with sentence starts: seconds from each sentence's end to the
    first cut after it (p50, p95) — how long a sentence waits for its unit to close."""
    if cases is None:
        return {}
    case = next((json.loads(line) for line in cases.read_text().splitlines()
                 if line.strip() and json.loads(line)["file"] == path.name), None)
    if case is None:
        return {}
    starts = [segment["start_s"] for segment in case["segments"]]
    ends = [*starts[1:], len(load_mono(path)) / SAMPLE_RATE_HZ]
    lags = sorted(next(cut for cut in cuts if cut >= end - 0.3) - end
                  for end in ends if any(cut >= end - 0.3 for cut in cuts))
    return {"cut_lag_p50_s": round(float(np.percentile(lags, 50)), 2),
            "cut_lag_p95_s": round(float(np.percentile(lags, 95)), 2)}


def chinese_references(manifest: Path) -> dict[str, str]:
    """Each clip's reference Chinese in a real.jsonl-style manifest, by id."""
    rows = [json.loads(line) for line in manifest.read_text().splitlines() if line.strip()]
    return {row["id"]: row["zh"] for row in rows}


def load_mono(path: Path) -> np.ndarray:
    audio, rate = sf.read(path, dtype="float32")
    if rate != SAMPLE_RATE_HZ:
        raise SystemExit(f"{path}: {rate} Hz; these experiments take 16 kHz files")
    mono = audio.mean(axis=1) if audio.ndim > 1 else audio
    return np.asarray(mono, dtype=np.float32)


class Whisper:
    """Whisper base decoding a piece of audio the way a final is decoded (beam 3, 3 s of
    padding, levelled), with word timings when asked."""

    def __init__(self, settings: Settings) -> None:
        import ctranslate2

        from hudtranslate.asr.whisper import WhisperEngine

        self.engine = WhisperEngine(resolve_model(settings.asr.model, "asr",
                                                  settings.cache_path), cpu_threads=2)
        self.model = self.engine._model
        self.tokenizer = self.engine._tokenizer
        self.storage_view = ctranslate2.StorageView

    def words(self, audio: np.ndarray) -> tuple[str, list[dict[str, Any]]]:
        padded = np.concatenate([normalize_speech_level(audio),
                                 np.zeros(3 * SAMPLE_RATE_HZ, np.float32)])
        features = self.model.feature_extractor(padded)
        frames = min(features.shape[-1] - features.shape[-1] % 2, 3000)
        batch = np.ascontiguousarray(features[None, :, :frames], dtype=np.float32)
        encoded = self.model.model.encode(self.storage_view.from_array(batch))
        prompt = [*self.tokenizer.sot_sequence, self.tokenizer.no_timestamps]
        result = self.model.model.generate(encoded, [prompt], beam_size=3,
                                           max_length=len(prompt) + 120,
                                           repetition_penalty=1.1)[0]
        ids = [t for t in result.sequences_ids[0] if t < self.tokenizer.eot]
        words = (self.model.find_alignment(self.tokenizer, [ids], encoded, [frames])[0]
                 if ids else [])
        return normalize_chinese(self.tokenizer.decode(ids)), words

    def text(self, audio: np.ndarray) -> str:
        return self.words(audio)[0]

    def after_prefix(self, audio: np.ndarray, prefix: str) -> str:
        """What Whisper hears in ``audio`` after being made to say ``prefix`` first."""
        decoded = self.engine.decode(normalize_speech_level(audio), prefix=prefix,
                                     beam_size=3, max_new_tokens=120)
        return normalize_chinese(decoded.text[len(prefix):] if decoded.text.startswith(prefix)
                                 else decoded.text)


def after_overlap(earlier: str, decoded: str, gain: float = 0.5) -> str:
    """``decoded`` without its opening that repeats the end of ``earlier``: the split
    point maximises matched characters minus edits (semi-global edit distance)."""
    n, m = len(earlier), len(decoded)
    cost = np.zeros((n + 1, m + 1))
    cost[0, :] = np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost[i, j] = min(cost[i - 1, j] + 1, cost[i, j - 1] + 1,
                             cost[i - 1, j - 1] + (earlier[i - 1] != decoded[j - 1]))
    best = min(range(m + 1), key=lambda j: (cost[n, j] - gain * j, -j))
    return decoded[best:]


def left_context(args: argparse.Namespace, whisper: Whisper) -> None:
    references = chinese_references(args.references)
    alone_all, by_time_all, by_text_all, by_prefix_all, refs = [], [], [], [], []
    for clip in sorted(references):
        audio = load_mono(args.references.parent / f"{clip}.wav")
        units = ([json.loads(line) for line in
                  (args.units / clip / f"{clip}.jsonl").read_text().splitlines()]
                 if args.units else
                 [{"start_s": start, "end_s": end}
                  for start, end in vad_units(audio, Settings.load().vad)])
        alone: list[str] = []
        by_time: list[str] = []
        by_text: list[str] = []
        by_prefix: list[str] = []
        previous: tuple[float, float] | None = None
        for unit in units:
            start, end = unit["start_s"], unit["end_s"]
            piece = audio[int(start * SAMPLE_RATE_HZ):int(end * SAMPLE_RATE_HZ)]
            text = whisper.text(piece)
            alone.append(text)
            if previous is None or abs(previous[1] - start) > 0.01:
                by_time.append(text)
                by_text.append(text)
                by_prefix.append(text)
            else:
                by_prefix.append(whisper.after_prefix(
                    audio[int(previous[0] * SAMPLE_RATE_HZ):int(end * SAMPLE_RATE_HZ)],
                    alone[-2]))
                begin = max(0.0, start - args.left)
                wider, words = whisper.words(
                    audio[int(begin * SAMPLE_RATE_HZ):int(end * SAMPLE_RATE_HZ)])
                cut = start - begin
                by_time.append(normalize_chinese(
                    "".join(w["word"] for w in words if w["end"] >= cut + 0.05)))
                by_text.append(after_overlap("".join(alone[:-1]), wider))
            previous = (start, end)
        alone_all.append("".join(alone))
        by_prefix_all.append("".join(by_prefix))
        by_time_all.append("".join(by_time))
        by_text_all.append("".join(by_text))
        refs.append(references[clip])
    say({"left_s": args.left, "cer_alone": round(corpus_cer(refs, alone_all), 4),
         "cer_left_by_timestamps": round(corpus_cer(refs, by_time_all), 4),
         "cer_left_by_text": round(corpus_cer(refs, by_text_all), 4),
         "cer_previous_unit_as_prefix": round(corpus_cer(refs, by_prefix_all), 4)})
    for clip, ref, alone_text, prefixed in zip(sorted(references), refs, alone_all,
                                               by_prefix_all, strict=True):
        say({"id": clip, "cer_alone": round(corpus_cer([ref], [alone_text]), 4),
             "cer_previous_unit_as_prefix": round(corpus_cer([ref], [prefixed]), 4),
             "alone": alone_text, "previous_unit_as_prefix": prefixed})


def right_context(args: argparse.Namespace, whisper: Whisper) -> None:
    """Each unit decoded alone, and with the next ``--right`` seconds of audio after it
    (when the next unit starts within ``--gap`` s), keeping the words Whisper places
    before the unit's end (their midpoint, by its word timestamps)."""
    references = chinese_references(args.references)
    alone_all, right_all, refs = [], [], []
    for clip in sorted(references):
        audio = load_mono(args.references.parent / f"{clip}.wav")
        units = vad_units(audio, Settings.load().vad)
        alone: list[str] = []
        right: list[str] = []
        for index, (start, end) in enumerate(units):
            piece = audio[int(start * SAMPLE_RATE_HZ):int(end * SAMPLE_RATE_HZ)]
            text = whisper.text(piece)
            alone.append(text)
            following = units[index + 1][0] if index + 1 < len(units) else None
            if following is None or following - end > args.gap:
                right.append(text)
                continue
            until = min(len(audio) / SAMPLE_RATE_HZ, end + args.right)
            _, words = whisper.words(audio[int(start * SAMPLE_RATE_HZ):int(until * SAMPLE_RATE_HZ)])
            length = end - start
            right.append(normalize_chinese("".join(
                w["word"] for w in words if (w["start"] + w["end"]) / 2 < length)))
        alone_all.append("".join(alone))
        right_all.append("".join(right))
        refs.append(references[clip])
        say({"id": clip, "units": len(units),
             "cer_alone": round(corpus_cer([references[clip]], [alone_all[-1]]), 4),
             "cer_right": round(corpus_cer([references[clip]], [right_all[-1]]), 4),
             "alone": " | ".join(alone), "right": " | ".join(right)})
    say({"right_s": args.right, "gap_s": args.gap,
         "cer_alone": round(corpus_cer(refs, alone_all), 4),
         "cer_right_by_timestamps": round(corpus_cer(refs, right_all), 4)})


def candidate_pauses(audio: np.ndarray, settings: Settings,
                     probability: float) -> list[tuple[float, float]]:
    """Units the VAD makes when every short pause may cut (``long_utterance_s`` 0.5)."""
    return vad_units(audio, dataclasses.replace(settings.vad, long_utterance_s=0.5,
                                                short_pause_probability=probability))


def vad_units(audio: np.ndarray, options: VadOptions) -> list[tuple[float, float]]:
    """The (start, end) seconds of the units the VAD cuts ``audio`` into."""
    from hudtranslate.vad.segmenter import SpeechSegmenter
    from hudtranslate.vad.silero import SileroVad

    segmenter = SpeechSegmenter(SileroVad(), options)
    chunks = []
    for begin in range(0, len(audio), 1600):
        chunks += segmenter.feed(AudioChunk(audio[begin:begin + 1600],
                                            begin / SAMPLE_RATE_HZ))
    chunks += segmenter.finish()
    units: dict[int, list[float]] = {}
    for chunk in chunks:
        unit = units.setdefault(chunk.utterance_id, [chunk.start_s, chunk.end_s])
        unit[1] = chunk.cut_s if chunk.cut_s is not None else max(unit[1], chunk.end_s)
    return [(start, end) for start, end in units.values()]


def pause_cuts(args: argparse.Namespace, whisper: Whisper, settings: Settings) -> None:
    hypotheses, references = [], []
    known = ({json.loads(line)["wav"]: json.loads(line)["zh"]
              for line in args.score.read_text().splitlines() if line.strip()}
             if args.score else {})
    for path in args.audio:
        audio = load_mono(path)
        units = candidate_pauses(audio, settings, settings.vad.short_pause_probability)
        strict_ends = [end for _, end in candidate_pauses(audio, settings, 0.5)]
        texts, cuts = [], []
        begin = units[0][0]
        for index, (_, end) in enumerate(units):
            following = units[index + 1][0] if index + 1 < len(units) else None
            piece = audio[int(begin * SAMPLE_RATE_HZ):int(end * SAMPLE_RATE_HZ)]
            if following is None or following - end >= 0.05:
                kind = "pause"
            elif end - begin >= args.loose_after:
                kind = "loose"
            elif (end - begin >= args.strict_after
                  and any(abs(end - strict) < 0.04 for strict in strict_ends)):
                kind = "strict"
            elif end - begin >= args.text_after and whisper.text(piece)[-1:] in SENTENCE_MARKS:
                kind = "text"  # the recogniser itself ended the sentence there
            else:
                continue
            texts.append(whisper.text(piece))
            cuts.append((round(end, 2), kind))
            begin = following if kind == "pause" and following is not None else end
        say({"file": path.name, "text": "".join(texts), "cuts": cuts,
             **cut_lags(path, [end for end, _ in cuts], args.cases)})
        if path.name in known:
            hypotheses.append("".join(texts))
            references.append(known[path.name])
    if references:
        say({"cer": round(corpus_cer(references, hypotheses), 4)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    left = commands.add_parser("left-context")
    left.add_argument("--units", type=Path,
                      help="hudtranslate file outputs per clip (default: the VAD's units)")
    left.add_argument("--references", type=Path,
                      default=Path("../shared/data/real/real.jsonl"))
    left.add_argument("--left", type=float, default=2.0)
    right = commands.add_parser("right-context")
    right.add_argument("--references", type=Path,
                       default=Path("../shared/data/real/real.jsonl"))
    right.add_argument("--right", type=float, default=1.5)
    right.add_argument("--gap", type=float, default=1.5)
    pauses = commands.add_parser("pause-cuts")
    pauses.add_argument("--strict-after", type=float, default=99.0)
    pauses.add_argument("--loose-after", type=float, default=3.0)
    pauses.add_argument("--text-after", type=float, default=99.0)
    pauses.add_argument("--score", type=Path, help="real.jsonl: CER of the clips in it")
    pauses.add_argument("--cases", type=Path, help="cases.jsonl: cut lags of the cases in it")
    pauses.add_argument("audio", type=Path, nargs="+")
    args = parser.parse_args()
    settings = Settings.load()
    whisper = Whisper(settings)
    if args.command == "left-context":
        left_context(args, whisper)
    elif args.command == "right-context":
        right_context(args, whisper)
    else:
        pause_cuts(args, whisper, settings)


if __name__ == "__main__":
    main()
