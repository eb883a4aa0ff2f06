"""Run ``hudtranslate`` (any command, usually ``bench``) with Whisper's decodes logged: one
JSON line per decode that detected a language (``--all``: every decode) with the audio's
length, the language kept, its detection probability, the mean token log-probability and
the text. How sure Whisper is of what it calls English is what
``asr.decode_checks.UNSURE_SECOND_LANGUAGE_LOGPROB`` was chosen from.

    HUDTRANSLATE_CONVERSATION_MODE=converse .venv/bin/python scripts/language_probe.py \\
        --out probe.jsonl -- bench --utterances ../shared/data/real/real.jsonl \\
        --systems hudtranslate --no-offline-asr
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from hudtranslate import cli
from hudtranslate.asr import whisper
from hudtranslate.events import SAMPLE_RATE_HZ


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="JSONL to append to")
    parser.add_argument("--all", action="store_true", help="log every decode, not only "
                        "those that detected a language")
    parser.add_argument("command", nargs=argparse.REMAINDER,
                        help="hudtranslate's arguments, after --")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    decode = whisper.WhisperEngine.decode
    with args.out.open("a", encoding="utf-8") as log:
        def logged(self: whisper.WhisperEngine, audio: Any, *rest: Any,
                   **options: Any) -> whisper.Decoded:
            decoded = decode(self, audio, *rest, **options)
            offered = tuple(options.get("languages", ()))
            if args.all or len(offered) > 1:
                log.write(json.dumps({
                    "audio_s": round(len(audio) / SAMPLE_RATE_HZ, 2), "offered": offered,
                    "language": decoded.language, "probability": round(decoded.language_prob, 4),
                    "logprob": round(decoded.avg_logprob, 3), "text": decoded.text},
                    ensure_ascii=False) + "\n")
                log.flush()
            return decoded

        whisper.WhisperEngine.decode = logged  # type: ignore[method-assign]
        return cli.main(command)


if __name__ == "__main__":
    sys.exit(main())
