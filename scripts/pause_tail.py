"""How much Whisper base's final decode depends on the end of the pause that ends an
utterance: each unit the VAD ends with a pause (``SpeechChunk.pause_start_s``) is decoded
as the product's final decode alone would (levelled, beam 3) with its whole trailing pause
(``full``), and with only its first ``--keep-s`` heard, the rest as silence (``zero``, what
``asr.final_ahead_ms`` makes every such final hear), made of the part heard, repeated
(``repeat``), or left out (``cut``). Prints each unit whose decodes differ, then how many
of each variant differ from ``full``.

    .venv/bin/python scripts/pause_tail.py ../shared/data/real/real-0*.wav --keep-s 0.1
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from hudtranslate.asr.levels import normalize_speech_level
from hudtranslate.asr.whisper import WhisperEngine
from hudtranslate.audio import read_audio_file
from hudtranslate.config import Settings
from hudtranslate.events import SAMPLE_RATE_HZ, AudioArray, AudioChunk
from hudtranslate.models import resolve_model
from hudtranslate.vad.segmenter import SpeechSegmenter
from hudtranslate.vad.silero import SileroVad

VARIANTS = ("zero", "repeat", "cut")


def pause_ended_units(audio: AudioArray, settings: Settings) -> list[tuple[AudioArray, int]]:
    """Each utterance the VAD ends with a pause: its audio, and where the pause began (a
    sample of it)."""
    segmenter = SpeechSegmenter(SileroVad(), settings.vad)
    units: dict[int, dict[str, object]] = {}
    step = SAMPLE_RATE_HZ // 10
    chunks = [segmenter.feed(AudioChunk(audio[i:i + step], i / SAMPLE_RATE_HZ))
              for i in range(0, len(audio), step)] + [segmenter.finish()]
    for chunk in (chunk for batch in chunks for chunk in batch):
        unit = units.setdefault(chunk.utterance_id, {"start_s": chunk.start_s, "pieces": []})
        unit["pieces"].append(chunk.samples)  # type: ignore[attr-defined]
        if chunk.final:
            unit["pause_s"] = chunk.pause_start_s
    ended = []
    for unit in units.values():
        if unit.get("pause_s") is None:
            continue
        samples = np.concatenate(unit["pieces"])  # type: ignore[call-overload]
        pause = round((unit["pause_s"] - unit["start_s"]) * SAMPLE_RATE_HZ)  # type: ignore[operator]
        ended.append((samples, pause))
    return ended


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("recordings", type=Path, nargs="+")
    parser.add_argument("--keep-s", type=float, default=0.1)
    args = parser.parse_args()
    settings = Settings.load()
    engine = WhisperEngine(resolve_model(settings.asr.model, "asr", settings.cache_path),
                           cpu_threads=1)
    differ = dict.fromkeys(VARIANTS, 0)
    units = 0
    for path in args.recordings:
        for samples, pause in pause_ended_units(read_audio_file(path), settings):
            keep = pause + round(args.keep_s * SAMPLE_RATE_HZ)
            if keep >= len(samples):
                continue
            heard, rest = samples[pause:keep], len(samples) - keep
            variants = {
                "full": samples,
                "zero": np.concatenate([samples[:keep], np.zeros(rest, np.float32)]),
                "repeat": np.concatenate([samples[:keep],
                                          np.resize(heard, rest).astype(np.float32)]),
                "cut": samples[:keep]}
            texts = {name: engine.decode(normalize_speech_level(audio), beam_size=3).text
                     for name, audio in variants.items()}
            units += 1
            for name in VARIANTS:
                differ[name] += texts[name] != texts["full"]
            if len(set(texts.values())) > 1:
                sys.stdout.write(json.dumps({"recording": path.name, **texts},
                                            ensure_ascii=False) + "\n")
    sys.stdout.write(json.dumps({"units": units, "differ_from_full": differ}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
