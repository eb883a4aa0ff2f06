"""Speech a server sends to a wearer, played on this machine (``hudtranslate stream --speak``).

The server already chose what to say and when (``server/speech.py``: stale sentences
skipped, a ``speech`` header and one binary frame of 16 kHz s16le PCM per sentence). The
player only keeps the order, and obeys ``"interrupt": true``: whatever is playing or
waiting is dropped for the new sentence. It plays on its own thread, so the socket is
never held up by the speaker.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

from hudtranslate.audio.pcm import pcm16le_to_float32
from hudtranslate.errors import AudioError
from hudtranslate.events import SAMPLE_RATE_HZ
from hudtranslate.speech_out.queue import SpeechItem
from hudtranslate.speech_out.sinks import AudioOutput

log = logging.getLogger(__name__)


class ReceivedSpeech:
    """Plays received sentences on ``output`` (``DeviceOutput``, or a fake in tests) in
    arrival order; ``close`` lets what is queued finish for at most ``drain_s`` seconds."""

    def __init__(self, output: AudioOutput, *, drain_s: float = 15.0) -> None:
        self.output = output
        self.drain_s = drain_s
        self._queue: queue.Queue[tuple[SpeechItem, bytes] | None] = queue.Queue()
        self._cut = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="speech-player", daemon=True)
        self._thread.start()

    def add(self, header: dict[str, Any], pcm: bytes) -> None:
        """One sentence: its ``speech`` header and the PCM frame that followed it."""
        item = SpeechItem(int(header.get("utterance_id", 0)), str(header.get("text", "")),
                          str(header.get("language", "en")), time.monotonic())
        if header.get("interrupt"):
            self._drop_waiting()
            self._cut.set()
        self._queue.put((item, pcm))

    def close(self) -> None:
        """Let the queued speech finish (bounded by ``drain_s``), then close the output."""
        self._queue.put(None)
        self._thread.join(self.drain_s)
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join(2.0)
        self.output.close()

    def _drop_waiting(self) -> None:
        try:
            while True:
                entry = self._queue.get_nowait()
                if entry is None:  # closing: keep the end marker
                    self._queue.put(None)
                    return
        except queue.Empty:
            return

    def _run(self) -> None:
        while (entry := self._queue.get()) is not None:
            item, pcm = entry
            self._cut.clear()
            try:
                self.output.play(item, pcm16le_to_float32(pcm), SAMPLE_RATE_HZ,
                                 lambda: self._cut.is_set() or self._stop.is_set())
            except AudioError as exc:
                log.warning("speech stopped: %s", exc)
                return
            if self._stop.is_set():
                return
