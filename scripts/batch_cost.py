#!/usr/bin/env python3
"""What one token of a prompt batch costs the local model, by batch size.

Evaluates batches of 1 to 64 new tokens after a 300-token prompt (the size of the fixed
translation prompt) with the default translation model, one and two threads, and prints
the best of three wall and CPU milliseconds per token. On CPUs with AVX-512, llama.cpp's
kernel for repacked Q4_K weights works on 16 tokens at a time, so a batch of 10-15 costs
more than one of 16 (``llama_batch.WHOLE_BATCH_TOKENS``). Run it alone: it measures speed.

    .venv/bin/python scripts/batch_cost.py [--sizes 1 4 8 12 15 16 32] [--threads 1 2]
"""

from __future__ import annotations

import argparse
import sys
import time

from hudtranslate.config import Settings
from hudtranslate.models.resolve import resolve_model

PROMPT_TOKENS = 300
TOKENS_PER_SIZE = 64
REPEATS = 3


def main() -> int:
    import llama_cpp

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+",
                        default=[1, 2, 4, 8, 10, 12, 15, 16, 17, 24, 32, 64])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    if min(args.sizes) < 1 or max(args.sizes) > TOKENS_PER_SIZE:
        parser.error(f"sizes must be 1..{TOKENS_PER_SIZE}")
    settings = Settings.load()
    path = resolve_model(settings.translate.model, "translate", settings.cache_path)
    llm = llama_cpp.Llama(str(path), n_ctx=1024, n_batch=256, verbose=False)
    text = "你好，今天我们讨论一下明年的预算和新的项目计划。" * 40
    tokens = llm.tokenize(text.encode("utf-8"))[: PROMPT_TOKENS + TOKENS_PER_SIZE]
    llm.eval(tokens[:PROMPT_TOKENS])
    memory = llama_cpp.llama_get_memory(llm._ctx.ctx)
    sys.stdout.write(f"{path.name}; {llama_cpp.llama_print_system_info().decode().strip()}\n")
    for threads in args.threads:
        llama_cpp.llama_set_n_threads(llm._ctx.ctx, threads, threads)
        for size in args.sizes:
            walls, cpus = [], []
            batches = max(1, TOKENS_PER_SIZE // size)
            for _ in range(REPEATS):
                llm.n_tokens = PROMPT_TOKENS
                llama_cpp.llama_memory_seq_rm(memory, 0, PROMPT_TOKENS, -1)
                wall, cpu = time.perf_counter(), time.process_time()
                for index in range(batches):
                    start = PROMPT_TOKENS + index * size
                    llm.eval(tokens[start : start + size])
                count = batches * size
                walls.append((time.perf_counter() - wall) / count)
                cpus.append((time.process_time() - cpu) / count)
            sys.stdout.write(f"threads {threads}  batch {size:3d}: {1000 * min(walls):6.1f} ms "
                             f"wall, {1000 * min(cpus):6.1f} ms CPU per token; the batch "
                             f"{1000 * size * min(cpus):6.0f} ms CPU\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
