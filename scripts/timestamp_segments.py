"""Would Whisper's timestamp segments find the sentence ends Whisper base does not
punctuate in nonstop speech? Each unit of a ``scripts/run_cases.py`` report (its finals'
``start_s``/``end_s``) at least ``--min-s`` long is decoded again with timestamps
(faster-whisper's ``transcribe``, beam 3, no VAD, nothing carried between units) and
printed with its segments, to be read against the case's sentences.

    .venv/bin/python scripts/run_cases.py --only 06-nonstop-speech > /tmp/nonstop.json
    .venv/bin/python scripts/timestamp_segments.py ../shared/cases/06-nonstop-speech.wav \\
        /tmp/nonstop.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from hudtranslate.audio import read_audio_file
from hudtranslate.config import Settings
from hudtranslate.events import SAMPLE_RATE_HZ
from hudtranslate.models import resolve_model


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("audio", type=Path)
    parser.add_argument("report", type=Path, help="scripts/run_cases.py output (one case)")
    parser.add_argument("--min-s", type=float, default=2.5)
    args = parser.parse_args()
    from faster_whisper import WhisperModel

    settings = Settings.load()
    model = WhisperModel(str(resolve_model(settings.asr.model, "asr", settings.cache_path)),
                         device="cpu", compute_type="int8", cpu_threads=settings.threads)
    audio = read_audio_file(args.audio)
    report = json.loads(args.report.read_text(encoding="utf-8"))[0]
    for final in report["finals"]:
        if final["end_s"] - final["start_s"] < args.min_s:
            continue
        unit = audio[int(final["start_s"] * SAMPLE_RATE_HZ):int(final["end_s"] * SAMPLE_RATE_HZ)]
        segments, _info = model.transcribe(unit, language="zh", beam_size=3,
                                           without_timestamps=False, vad_filter=False,
                                           condition_on_previous_text=False)
        sys.stdout.write(json.dumps({
            "start_s": round(final["start_s"], 2), "zh": final["zh"],
            "segments": [[round(s.start, 1), round(s.end, 1), s.text] for s in segments]},
            ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
