#!/usr/bin/env python3
"""Three wearers' sentences at the local model: one after another, then side by side.

Three ``SessionTranslator`` streams each translate four sentences, decoding on all
threads as a server with several wearers does; each round their threads ask 0.25 s
apart. First with ``LlamaEngine.write_together`` off (one after another, in lock
order), then on (later ones join the first's generation, ``translate/llama_together.py``).
Prints the wall and CPU time of each pass and the English (which should read the same).

    .venv/bin/python scripts/side_by_side.py
"""

from __future__ import annotations

import sys
import threading
import time

from hudtranslate.config import Settings
from hudtranslate.engines import load_engines
from hudtranslate.events import Transcript
from hudtranslate.translate.llama import LlamaBackend
from hudtranslate.translate.translator import SessionTranslator

STREAMS = [
    ["今天天气很好。", "我们去公园散步吧。", "公园里有很多人。", "孩子们在放风筝。"],
    ["会议下午三点开始。", "请大家准时参加。", "我们要讨论明年的预算。", "经理会介绍新项目。"],
    ["这家餐厅的菜很好吃。", "我们点了一条鱼。", "服务员很热情。", "一共花了三百块钱。"],
]


def run(backend: LlamaBackend, settings: Settings, together: bool) -> list[list[str]]:
    translators = [SessionTranslator(backend, settings.translate) for _ in STREAMS]
    english: list[list[str]] = [[] for _ in STREAMS]
    backend.engine.write_together(together)

    def say(stream: int, index: int) -> None:
        start = index * 10.0
        result = translators[stream].translate(Transcript(
            index, STREAMS[stream][index], "", start, start + 2, True, start + 2))
        english[stream].append(result.committed if result else "")

    wall, cpu = time.monotonic(), time.process_time()
    for index in range(len(STREAMS[0])):
        start = threading.Barrier(len(STREAMS))

        def wearer(stream: int, index: int = index,
                   start: threading.Barrier = start) -> None:
            start.wait()
            time.sleep(0.25 * stream)
            say(stream, index)

        threads = [threading.Thread(target=wearer, args=(stream,))
                   for stream in range(len(STREAMS))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    how = "side by side" if together else "one after another"
    sys.stdout.write(f"{how}: wall {time.monotonic() - wall:.2f} s, "
                     f"CPU {time.process_time() - cpu:.2f} s\n")
    for translator in translators:
        translator.close()
    backend.engine.write_together(False)
    return english


def main() -> int:
    settings = Settings.load()
    backend = load_engines(settings).translator
    if not isinstance(backend, LlamaBackend):
        raise SystemExit("needs the local model (no --remote-url)")
    backend.engine.use_all_threads(True)  # as a server with several wearers decodes
    alone = run(backend, settings, together=False)
    together = run(backend, settings, together=True)
    for first, second in zip(alone, together, strict=True):
        sys.stdout.write(f"  {first}\n  {second}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
