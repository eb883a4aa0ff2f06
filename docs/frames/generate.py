"""Regenerate the example HUD frames in this folder (README pictures).

Plays the captions of the first shared development talk (scripted at the talk's own
timing, with its reference English: no models needed) into each display profile and
saves the display at one moment mid-sentence: committed lines, the dimmer tentative
tail, and the Chinese line. The 1-bit Even G1 frame is saved as the wearer sees it
(lit pixels in green); ``hudtranslate file --frames`` writes the raw 1-bit PNGs.

    python docs/frames/generate.py [path/to/shared/data]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from hudtranslate.captions import PROFILES, HudEngine, PacingOptions, preview_image, render_frame
from hudtranslate.testing import scripted_captions

MOMENT_S = 16.6
"""Mid-sentence in dev-talk1: two committed sentences above a growing third."""


def main() -> None:
    here = Path(__file__).resolve().parent
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else here.parents[2] / "shared" / "data"
    talk = json.loads((data / "audio" / "talks.jsonl").read_text("utf-8").splitlines()[0])
    segments = [(s["start_s"], s["end_s"], s["zh"], s["en_refs"][0]) for s in talk["segments"]]
    events = [e for e in scripted_captions(segments) if e.emitted_s <= MOMENT_S]
    for name, profile in PROFILES.items():
        engine = HudEngine(profile, PacingOptions())
        for event in events:
            engine.update(event, event.emitted_s)
        image = preview_image(render_frame(engine.frame(MOMENT_S)), profile)
        image.save(here / f"{name}.png", optimize=True)


if __name__ == "__main__":
    main()
