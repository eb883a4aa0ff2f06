"""The pipeline's async stages: each takes an ``AsyncIterator[In]`` and yields ``Out``.

Sync core, async shell: every stage owns one worker thread for its model, so blocking
calls never run on the event loop. Stages coalesce: they take everything already queued
before doing expensive work, so a slow model never builds a backlog.

Given a ``SessionLoad`` (the server's sessions), the recognition and translation stages
report their queues to it, take turns at the shared models (finals first) and shed
optional work while the server is behind (``overload.py``, ``sharing.py``); without one
(a single stream) they run as they always did.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import functools
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

from hudtranslate.asr.recognizer import StreamingRecognizer
from hudtranslate.events import AudioChunk, SpeechChunk, Transcript, Translation
from hudtranslate.heap import release_free_heap
from hudtranslate.overload import LoadLevel, ShedKind
from hudtranslate.sharing import Model, SessionLoad
from hudtranslate.translate.translator import UtteranceTranslator
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
    flight that newer input arrived, so it can stop (supersession). ``pending_since()``
    is when (``time.monotonic``) the oldest input not yet finished arrived: a batch is
    finished when the consumer asks for the next one.
    """

    def __init__(self, upstream: AsyncIterator[T]) -> None:
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._arrivals: collections.deque[float] = collections.deque()
        self._working_since: float | None = None
        self._task = asyncio.get_running_loop().create_task(self._pump(upstream))

    async def _pump(self, upstream: AsyncIterator[T]) -> None:
        try:
            async for item in upstream:
                self._arrivals.append(time.monotonic())
                self._queue.put_nowait(item)
        finally:
            self._queue.put_nowait(_DONE)

    def newer_waiting(self) -> bool:
        return self._queue.qsize() > 0

    def pending_since(self) -> float | None:
        """Arrival time of the oldest unfinished input; None when there is none."""
        if self._working_since is not None:
            return self._working_since
        return self._arrivals[0] if self._arrivals else None

    async def __aiter__(self) -> AsyncIterator[list[T]]:
        try:
            while True:
                items = [await self._queue.get()]
                while not self._queue.empty():
                    items.append(self._queue.get_nowait())
                done = any(item is _DONE for item in items)
                batch: list[T] = [item for item in items if item is not _DONE]  # type: ignore[misc]
                if batch:
                    self._working_since = self._arrivals[0]
                    for _ in batch:
                        self._arrivals.popleft()
                    try:
                        yield batch
                    finally:
                        self._working_since = None
                if done:
                    break
            await self._task  # re-raise an upstream failure
        finally:
            if not self._task.done():
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task


def _admitted(load: SessionLoad | None, kind: ShedKind) -> bool:
    """May optional work of ``kind`` run? Always for a single stream (no ``load``); a
    shed piece of work is counted by ``admit``."""
    return load is None or load.admit(kind)


def _beam_allowed(load: SessionLoad | None) -> bool:
    """May a final decode search with a beam? Only while its session is alone on the
    server and not shedding beams: with two wearers on 2 cores, beam-3 finals on the
    recogniser's one thread queued the finals (p95 14.9 s against 3.7 s greedy,
    docs/benchmark.md)."""
    return load is None or (load.shared.sessions <= 1 and load.admit(ShedKind.BEAM))


def _alone_on_time(load: SessionLoad | None) -> bool:
    """Is the session alone on the server, which sheds nothing? Only then is a final
    decode made ahead, in a pause (``asr/final_ahead.py``): when the speaker goes on it
    is wasted, and with other wearers the recogniser's time is theirs too. Not counted
    as shed work."""
    return load is None or (load.shared.sessions <= 1 and load.level == LoadLevel.NORMAL)


@contextlib.asynccontextmanager
async def _turn(load: SessionLoad | None, model: Model, *, urgent: bool,
                give_up: Callable[[], bool] | None = None) -> AsyncIterator[bool]:
    """A turn at a shared model when the stream is one of the server's sessions; a
    single stream (no ``load``) has the models to itself."""
    if load is None:
        yield True
        return
    async with load.turn(model, urgent=urgent, give_up=give_up) as granted:
        yield granted


async def _streamed_final(translator: UtteranceTranslator, transcript: Transcript,
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
                    share: CoreShare | None = None,
                    load: SessionLoad | None = None) -> AsyncIterator[Transcript]:
    """Speech → partial and final transcripts; decodes once per batch of queued audio.

    With ``load``: final decodes go before other sessions' partial ones at the shared
    model; partial decodes are shed from load level 2 on and the final beam at level 3,
    or whenever other sessions are open. A session alone on time makes its final decode
    in the pause that may end the utterance (``StreamingRecognizer.decode_final_ahead``).
    """
    share = share or CoreShare()
    batches = Batches(speech)
    if load is not None:
        load.watch("asr", batches.pending_since)
    async for batch in batches:
        open_utterance = False
        for chunk in batch:
            recognizer.insert(chunk)
            open_utterance = not chunk.final
            if chunk.final:
                greedy = recognizer.options.final_beam_size > 1 and not _beam_allowed(load)
                beam = 1 if greedy else None
                async with _turn(load, "asr", urgent=True):
                    finals = await worker.run(functools.partial(recognizer.finish, clock(),
                                                                final_beam_size=beam))
                for final in finals:
                    yield final
        if open_utterance and recognizer.final_ahead_due:
            # The speaker has paused: the final decode is made now, so that it is there
            # when the VAD ends the utterance (not when more audio already waits: a file
            # read faster than real time, where it would only add decodes).
            if _alone_on_time(load) and not batches.newer_waiting():
                async with _turn(load, "asr", urgent=False):
                    await worker.run(recognizer.decode_final_ahead, clock())
        elif open_utterance and recognizer.partial_due:
            # The governor is asked first, so a partial decode the load level sheds is
            # counted as shed even while this session's final is being translated.
            if not _admitted(load, ShedKind.PARTIAL_DECODE):
                recognizer.skip_partial()
            elif not share.translating_final:
                async with _turn(load, "asr", urgent=False):
                    partial = await worker.run(recognizer.process, clock())
                if partial is not None:
                    yield partial


async def merge_drafts(transcripts: AsyncIterator[Transcript], drafts: AsyncIterator[Transcript],
                       clock: Callable[[], float]) -> AsyncIterator[Transcript]:
    """Speech transcripts and the wearer's typed drafts as one stream, in arrival order,
    until both have ended (so whoever feeds ``drafts`` must end it with the audio).

    Utterance ids stay unique and in order of arrival, as displays and the translator
    need: a draft gets the id after every id given so far, and later speech ids are
    shifted past it (without drafts they are unchanged). A draft's ``emitted_s`` is
    stamped with ``clock`` (the stream clock) as it joins. A failing input fails the
    stream at once.
    """
    queue: asyncio.Queue[tuple[bool, Transcript] | BaseException | None] = asyncio.Queue()

    async def pump(is_draft: bool, source: AsyncIterator[Transcript]) -> None:
        try:
            async for item in source:
                queue.put_nowait((is_draft, item))
        except Exception as exc:  # handed to the consumer, which raises it
            queue.put_nowait(exc)
        else:
            queue.put_nowait(None)

    tasks = [asyncio.create_task(pump(False, transcripts)), asyncio.create_task(pump(True, drafts))]
    speech_ids: dict[int, int] = {}
    last_id = -1
    running = len(tasks)
    try:
        while running:
            item = await queue.get()
            if item is None:
                running -= 1
                continue
            if isinstance(item, BaseException):
                raise item
            is_draft, transcript = item
            if is_draft:
                last_id += 1
                yield dataclasses.replace(transcript, utterance_id=last_id, emitted_s=clock())
                continue
            new_id = speech_ids.get(transcript.utterance_id)
            if new_id is None:
                shift = max(speech_ids.values(), default=0) - max(speech_ids, default=0)
                new_id = max(transcript.utterance_id + shift, last_id + 1)
                speech_ids[transcript.utterance_id] = new_id
                for old in sorted(speech_ids)[:-8]:  # an utterance's events come together
                    del speech_ids[old]
            last_id = max(last_id, new_id)
            yield dataclasses.replace(transcript, utterance_id=new_id)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def translate_stage(transcripts: AsyncIterator[Transcript],
                          translator: UtteranceTranslator,
                          worker: Worker, *, partials: bool = True,
                          share: CoreShare | None = None,
                          load: SessionLoad | None = None) -> AsyncIterator[Translation]:
    """Transcripts → English. Finals are all translated, in order; of the partials only
    the newest, and its generation stops as soon as newer input arrives. With
    ``partials``, a final's English is also shown word by word as it is written.

    After a final, when nothing is waiting and the backend says it pays
    (``can_prepare``), the next sentence's prompt (with the new context) is evaluated
    ahead of time, so the next final only evaluates its own words.

    With ``load``: finals go before other sessions' optional work at the shared model;
    partial translations and the prompt prefill are shed from load level 1 on; every
    translation carries the load level it was made at.
    """
    share = share or CoreShare()
    batches = Batches(transcripts)
    if load is not None:
        load.watch("mt", batches.pending_since)

    def stamped(translation: Translation) -> Translation:
        if load is None:
            return translation
        return dataclasses.replace(translation, load_level=int(load.level))

    async for batch in batches:
        finished = {t.utterance_id for t in batch if t.final}
        for transcript in batch:
            if not transcript.final:
                continue
            share.translating_final = True
            try:
                async with _turn(load, "mt", urgent=True):
                    if partials:
                        async for update in _streamed_final(translator, transcript, worker):
                            yield stamped(update)
                    else:
                        result = await worker.run(translator.translate, transcript)
                        if result is not None:
                            yield stamped(result)
            finally:
                share.translating_final = False
        # A backend without a prompt cache (remote, fakes), or where evaluating ahead does
        # not pay (``prefill_pays``), takes no turn.
        if finished and not batches.newer_waiting() and translator.can_prepare and (
                load is None or load.admit(ShedKind.PREPARE)):
            async with _turn(load, "mt", urgent=False, give_up=batches.newer_waiting) as granted:
                if granted:
                    await worker.run(translator.prepare_next)
        if finished and not batches.newer_waiting():
            await worker.run(release_free_heap)  # a quiet moment; at most once a minute
        latest = batch[-1]
        if partials and not latest.final and latest.utterance_id not in finished:
            # With a load, a partial that would not reach the model takes no turn either.
            wanted = load is None or translator.wants_partial(latest)
            if wanted and _admitted(load, ShedKind.PARTIAL_TRANSLATION):
                async with _turn(load, "mt", urgent=False,
                                 give_up=batches.newer_waiting) as granted:
                    result = (await worker.run(translator.translate, latest,
                                               batches.newer_waiting) if granted else None)
                if result is not None:
                    yield stamped(result)
