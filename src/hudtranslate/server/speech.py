"""Speech for a wearer: the server's voice, sent back on the wearer's own socket.

A wearer that asks for speech (``"speak": true`` in its ``start``) gets a ``SpeechSink``
whose output is the socket: each sentence as a ``speech`` message and one binary frame of
16 kHz s16le PCM (``protocol.py``, "Speech"). The wearer plays it; the server cannot hear
it, so it assumes the wearer plays each sentence from when it is sent and waits that long
before sending the next one. So the queue's rules (stale speech skipped, a sentence cut
once it talks over a newer caption for too long) hold for what the wearer hears, and the
socket never carries a backlog of audio. A sentence sent after a cut says
``"interrupt": true``: stop what is playing, play this now.

Synthesis runs in the sink's own thread; messages reach the socket through the event
loop (``call_soon_threadsafe``), the header and its frame back to back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping

from hudtranslate.audio.pcm import float32_to_pcm16le
from hudtranslate.config import VoiceOptions
from hudtranslate.events import (
    SAMPLE_RATE_HZ,
    AudioArray,
    StreamEnd,
    Transcript,
    Translation,
)
from hudtranslate.server import protocol
from hudtranslate.server.broadcast import Viewer
from hudtranslate.speech_out.queue import SpeechItem
from hudtranslate.speech_out.sinks import BLOCK_S, CLOSE_GRACE_S, SpeechSink
from hudtranslate.speech_out.voice import Voice, to_16k

log = logging.getLogger(__name__)


class SocketSpeechOutput:
    """``AudioOutput`` to a wearer's socket (see the module doc). ``voice_names``: each
    language's voice, named in the messages. ``sleep`` and ``clock`` are for tests."""

    def __init__(self, loop: asyncio.AbstractEventLoop, outbox: Viewer,
                 voice_names: Mapping[str, str] | None = None, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._loop, self._outbox = loop, outbox
        self._voice_names = dict(voice_names or {})
        self._clock, self._sleep = clock, sleep
        self._cut = False
        self.sent = 0

    def play(self, item: SpeechItem, samples: AudioArray, sample_rate_hz: int,
             interrupted: Callable[[], bool]) -> bool:
        pcm = float32_to_pcm16le(to_16k(samples, sample_rate_hz))
        header = protocol.speech_message(item.utterance_id, item.language, item.text,
                                         samples=len(pcm) // 2, interrupt=self._cut,
                                         voice=self._voice_names.get(item.language, ""))
        try:
            self._loop.call_soon_threadsafe(self._send, header, pcm)
        except RuntimeError:  # the loop has closed: the session is over
            return False
        self.sent += 1
        end_s = self._clock() + len(pcm) / 2 / SAMPLE_RATE_HZ
        while (left_s := end_s - self._clock()) > 0:
            if interrupted():
                self._cut = True
                return False
            self._sleep(min(BLOCK_S, left_s))
        self._cut = False
        return True

    def close(self) -> None:
        """The socket is closed by the session."""

    def _send(self, header: dict[str, object], pcm: bytes) -> None:
        self._outbox.send(header)
        self._outbox.send_binary(pcm)


class WearerSpeech:
    """One wearer's speech sink in the pipeline. The pipeline closes its sinks on the
    event loop, where waiting is not allowed, the moment the wearer's audio is
    translated: the last sentence, still being made, was never sent. So ``close`` waits
    for nothing here, and the session calls ``finish`` before closing the socket."""

    def __init__(self, sink: SpeechSink, finish_s: float) -> None:
        self.sink, self.finish_s = sink, finish_s

    def handle(self, event: Transcript | Translation | StreamEnd) -> None:
        self.sink.handle(event)

    def close(self) -> None:
        """Deferred to ``finish`` (or ``stop``)."""

    async def finish(self) -> None:
        """Let what is still worth saying go out (at most ``finish_s``: the sink's own
        limits on stale speech), in a thread: the loop goes on sending it."""
        await asyncio.to_thread(self.sink.close, self.finish_s)

    def stop(self) -> None:
        """Say nothing more (the wearer is gone, or the server is stopping)."""
        self.sink.close(0.0)


def wearer_speech_sink(voices: Mapping[str, Voice], outbox: Viewer,
                       options: VoiceOptions) -> WearerSpeech:
    """The speaking sink of one wearer session (see ``WearerSpeech``)."""
    output = SocketSpeechOutput(asyncio.get_running_loop(), outbox,
                                {language: voice.name for language, voice in voices.items()})
    return WearerSpeech(SpeechSink(voices, output, options, close_wait_s=0.0),
                        options.max_wait_s + CLOSE_GRACE_S)
