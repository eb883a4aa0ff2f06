"""The pipeline's async stages: each takes an ``AsyncIterator[In]`` and yields ``Out``.

Sync core, async shell: every stage owns one worker thread for its model, so blocking
calls never run on the event loop. Stages coalesce: they take everything already queued
before doing expensive work, so a slow model never builds a backlog.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

from hudtranslate.asr.recognizer import StreamingRecognizer
from hudtranslate.events import AudioChunk, SpeechChunk, Transcript, Translation
from hudtranslate.translate.translator import SessionTranslator
from hudtranslate.vad.segmenter import SpeechSegmenter

T = TypeVar("T")
R = TypeVar("R")

_DONE = object()


class Worker:
    """One thread per stage: runs its model's blocking calls off the event loop."""

    def __init__(self, name: str) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    async def run(self, func: Callable[..., R], *args: object) -> R:
        return await asyncio.get_running_loop().run_in_executor(self._pool, func, *args)

    def close(self) -> None:
        """Drop queued calls without blocking the event loop: a model call still running
        (after a cancellation) finishes on its own thread, under its engine's lock."""
        self._pool.shutdown(wait=False, cancel_futures=True)


class Batches(Generic[T]):
    """Reads an upstream iterator in a background task; hands out everything queued.

    ``newer_waiting()`` is safe to call from a worker thread: it tells a generation in
    flight that newer input arrived, so it can stop (supersession).
    """

    def __init__(self, upstream: AsyncIterator[T]) -> None:
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._pump(upstream))

    async def _pump(self, upstream: AsyncIterator[T]) -> None:
        try:
            async for item in upstream:
                self._queue.put_nowait(item)
        finally:
            self._queue.put_nowait(_DONE)

    def newer_waiting(self) -> bool:
        return self._queue.qsize() > 0

    async def __aiter__(self) -> AsyncIterator[list[T]]:
        try:
            while True:
                items = [await self._queue.get()]
                while not self._queue.empty():
                    items.append(self._queue.get_nowait())
                done = any(item is _DONE for item in items)
                batch: list[T] = [item for item in items if item is not _DONE]  # type: ignore[misc]
                if batch:
                    yield batch
                if done:
                    break
            await self._task  # re-raise an upstream failure
        finally:
            if not self._task.done():
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task


async def _streamed_final(translator: SessionTranslator, transcript: Transcript,
                          worker: Worker) -> AsyncIterator[Translation]:
    """Translate a final on the worker, yielding its word-by-word updates as they come
    (handed over from the worker thread), then the final itself."""
    loop = asyncio.get_running_loop()
    updates: asyncio.Queue[Translation] = asyncio.Queue()

    def emit(update: Translation) -> None:
        loop.call_soon_threadsafe(updates.put_nowait, update)

    job = asyncio.ensure_future(worker.run(functools.partial(translator.translate, transcript,
                                                             emit=emit)))
    while not job.done():
        waiting = asyncio.ensure_future(updates.get())
        try:
            await asyncio.wait({job, waiting}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            got = waiting.done()
            if not got:
                waiting.cancel()
        if got:
            yield waiting.result()
    while not updates.empty():  # updates scheduled before the job's result was set
        yield updates.get_nowait()
    result = job.result()
    if result is not None:
        yield result


async def vad_stage(chunks: AsyncIterator[AudioChunk], segmenter: SpeechSegmenter,
                    worker: Worker) -> AsyncIterator[SpeechChunk]:
    """Audio → speech chunks; silence, noise and music yield nothing."""
    async for chunk in chunks:
        for speech in await worker.run(segmenter.feed, chunk):
            yield speech
    for speech in await worker.run(segmenter.finish):
        yield speech


@dataclass
class CoreShare:
    """How the stages share the cores: while a final is being translated (the English
    the wearer waits for), recognition postpones its partial decodes, so the translator
    runs alone; finals are never postponed."""

    translating_final: bool = False


async def asr_stage(speech: AsyncIterator[SpeechChunk], recognizer: StreamingRecognizer,
                    worker: Worker, clock: Callable[[], float],
                    share: CoreShare | None = None) -> AsyncIterator[Transcript]:
    """Speech → partial and final transcripts; decodes once per batch of queued audio."""
    share = share or CoreShare()
    async for batch in Batches(speech):
        open_utterance = False
        for chunk in batch:
            recognizer.insert(chunk)
            open_utterance = not chunk.final
            if chunk.final:
                final = await worker.run(recognizer.finish, clock())
                if final is not None:
                    yield final
        if open_utterance and not share.translating_final:
            partial = await worker.run(recognizer.process, clock())
            if partial is not None:
                yield partial


async def translate_stage(transcripts: AsyncIterator[Transcript], translator: SessionTranslator,
                          worker: Worker, *, partials: bool = True,
                          share: CoreShare | None = None) -> AsyncIterator[Translation]:
    """Transcripts → English. Finals are all translated, in order; of the partials only
    the newest, and its generation stops as soon as newer input arrives. With
    ``partials``, a final's English is also shown word by word as it is written.

    After a final, when nothing is waiting, the next sentence's prompt (with the new
    context) is evaluated ahead of time, so the next final only evaluates its own words.
    """
    share = share or CoreShare()
    batches = Batches(transcripts)
    async for batch in batches:
        finished = {t.utterance_id for t in batch if t.final}
        for transcript in batch:
            if not transcript.final:
                continue
            share.translating_final = True
            try:
                if partials:
                    async for update in _streamed_final(translator, transcript, worker):
                        yield update
                else:
                    result = await worker.run(translator.translate, transcript)
                    if result is not None:
                        yield result
            finally:
                share.translating_final = False
        if finished and not batches.newer_waiting():
            await worker.run(translator.prepare_next)
        latest = batch[-1]
        if partials and not latest.final and latest.utterance_id not in finished:
            result = await worker.run(translator.translate, latest, batches.newer_waiting)
            if result is not None:
                yield result
