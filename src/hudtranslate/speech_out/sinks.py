"""The speaking sink: final translations → a voice → an audio output, in its own thread.

``SpeechSink`` is a pipeline sink (``handle``/``close``). ``handle`` runs on the event
loop and only queues; one thread per sink synthesises and plays, so a slow voice never
holds up the captions. A caption of several sentences is said one sentence at a time, the
next made while one plays: its first words are heard after one sentence's synthesis, not
the whole caption's (a voice with a ``sentences`` method; others say the caption whole).
Which captions are said: final, not drafts, in a language that has
a voice (English: the Joe voice; Chinese: only a configured remote voice, else the
Chinese is text only). The queue's rules (``queue.py``) skip stale speech and cut a
sentence that talks over a newer caption for too long.

Outputs: ``DeviceOutput`` (this machine's speakers, through PortAudio) and, for a wearer on
``serve``, ``server.sessions``' socket output. Anything missing — the voice extra, an
output device, PortAudio itself — gives one warning line naming what is missing and how
to get it, and the pipeline goes on without speech (listening keeps working).
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any, Protocol

import numpy as np

from hudtranslate.config import VoiceOptions
from hudtranslate.errors import AudioError, HudTranslateError
from hudtranslate.events import AudioArray, StreamEnd, Transcript, Translation
from hudtranslate.speech_out.queue import SpeechItem, SpeechQueue
from hudtranslate.speech_out.voice import (
    SENTENCE_PAUSE_S,
    VOICE_MISSING,
    EnglishVoice,
    Voice,
    voice_extra_missing,
)

log = logging.getLogger(__name__)

BLOCK_S = 0.05
"""Audio is played in blocks this long; a cut takes effect at the next block."""
FADE_S = 0.01
"""A cut fades out over this long instead of clicking."""
CLOSE_GRACE_S = 2.0
"""After the stream ends, speech may go on for ``max_wait_s`` plus this long."""


class AudioOutput(Protocol):
    """Where speech goes. ``play`` blocks while the item is heard (or until
    ``interrupted()`` says to stop) and returns True if it played to the end; it raises
    ``AudioError`` when the output is gone."""

    def play(self, item: SpeechItem, samples: AudioArray, sample_rate_hz: int,
             interrupted: Callable[[], bool]) -> bool: ...

    def close(self) -> None: ...


class SpeechSink:
    """Says final captions (see the module doc). ``voices`` maps a target language
    ("en", "zh") to its voice. ``close_wait_s``: how long ``close`` lets queued speech go
    on (default ``max_wait_s`` + 2 s; none at all when the stream was cancelled, e.g. by
    Ctrl-C; a server passes 0, as ``close`` runs on its event loop). ``clock``: tests."""

    def __init__(self, voices: Mapping[str, Voice], output: AudioOutput,
                 options: VoiceOptions | None = None, *,
                 close_wait_s: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        options = options or VoiceOptions()
        self.voices = dict(voices)
        self.output = output
        self.queue = SpeechQueue(options.max_wait_s, options.max_captions_behind,
                                 options.cut_after_s)
        self.said: list[SpeechItem] = []
        """Items played to the end, in order (for tests and logs)."""
        self._clock = clock
        self._close_wait_s = (options.max_wait_s + CLOSE_GRACE_S if close_wait_s is None
                              else close_wait_s)
        self._cond = threading.Condition()
        self._closing = False
        self._stop = False
        self._failed_voices: set[str] = set()
        self._thread = threading.Thread(target=self._run, name="speech", daemon=True)
        self._thread.start()

    def handle(self, event: Transcript | Translation | StreamEnd) -> None:
        if not isinstance(event, Translation) or not event.final or event.draft:
            return
        text = event.text.strip()
        language = event.target_language
        if not text or language not in self.voices:
            return
        with self._cond:
            if self.queue.add(SpeechItem(event.utterance_id, text, language, self._clock())):
                self._cond.notify()

    def close(self, wait_s: float | None = None) -> None:
        """Let what is still worth saying be said (for ``wait_s``, default as in the class
        doc), then stop."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        wait_s = 0.0 if _cancelled() else self._close_wait_s if wait_s is None else wait_s
        if wait_s > 0:
            self._thread.join(wait_s)
        with self._cond:
            self._stop = True
            self._cond.notify()
        if wait_s > 0:  # else the thread ends by itself at its next block of audio
            self._thread.join(1.0)

    # --- the speech thread ----------------------------------------------------------------

    def _run(self) -> None:
        try:
            while (item := self._next()) is not None:
                self._say(item)
        except AudioError as exc:
            log.warning("not speaking any more: %s", exc)
        except Exception:  # never silently: the captions go on without speech
            log.exception("the voice failed; captions go on without speech")
        finally:
            self.output.close()  # here, not in close(): only this thread plays

    def _next(self) -> SpeechItem | None:
        with self._cond:
            while not self._stop:
                item = self.queue.next(self._clock())
                if item is not None:
                    return item
                if self._closing:
                    return None
                self._cond.wait()
        return None

    def _say(self, item: SpeechItem) -> None:
        outcome = self._say_sentences(item, self.voices[item.language])
        with self._cond:
            self.queue.done(cut=outcome == "cut")
            if outcome == "said":
                self.said.append(item)

    def _say_sentences(self, item: SpeechItem, voice: Voice) -> str:
        """Say ``item`` a sentence at a time, the next one made while one plays; returns
        "said", "cut" (stale, stopped, or cut for a newer caption), "failed" or "silent".
        The first sentence may not be said once stale (``queue.is_stale``); later ones go
        on unless the caption is cut (``queue.should_cut``, as while one plays)."""
        split = getattr(voice, "sentences", None)  # a voice without it says the whole
        try:
            texts: list[str] = split(item.text) if split is not None else [item.text]
        except HudTranslateError as exc:  # as a failed synthesis: this caption only
            self._voice_failed(voice, exc)
            return "failed"
        upcoming: _Synthesis | None = None
        played = False
        for index, text in enumerate(texts):
            try:
                samples, rate = (upcoming.result() if upcoming is not None
                                 else voice.synthesize(text))
            except HudTranslateError as exc:
                self._voice_failed(voice, exc)
                return "failed"
            upcoming = _Synthesis(voice, texts[index + 1]) if index + 1 < len(texts) else None
            with self._cond:
                now = self._clock()
                stop = self._stop or (self.queue.is_stale(item, now) if index == 0
                                      else self.queue.should_cut(now))
            if stop:
                return "cut"
            if not samples.size:
                continue
            if played:  # the pause ``synthesize`` puts between sentences
                pause = np.zeros(round(SENTENCE_PAUSE_S * rate), dtype=np.float32)
                samples = np.concatenate([pause, samples])
            sentence = item if len(texts) == 1 else dataclasses.replace(item, text=text)
            if not self.output.play(sentence, samples, rate, self._interrupted):
                return "cut"
            played = True
        return "said" if played else "silent"

    def _interrupted(self) -> bool:
        with self._cond:
            return self._stop or self.queue.should_cut(self._clock())

    def _voice_failed(self, voice: Voice, exc: HudTranslateError) -> None:
        """One warning per voice (a remote server that is down fails every sentence)."""
        if voice.name not in self._failed_voices:
            self._failed_voices.add(voice.name)
            log.warning("the %s voice failed, its captions are shown only: %s",
                        voice.language, exc)
        else:
            log.debug("the %s voice failed again: %s", voice.language, exc)


class _Synthesis:
    """One sentence being made in a daemon thread while the one before it plays (a voice
    that hangs cannot keep the process from exiting). ``result`` waits for it and raises
    what ``synthesize`` raised, so the speech thread handles it as its own."""

    def __init__(self, voice: Voice, text: str) -> None:
        self._done = threading.Event()
        self._result: tuple[AudioArray, int] = (np.zeros(0, dtype=np.float32), 1)
        self._error: Exception | None = None
        threading.Thread(target=self._make, args=(voice, text), name="speech-next",
                         daemon=True).start()

    def _make(self, voice: Voice, text: str) -> None:
        try:
            self._result = voice.synthesize(text)
        except Exception as exc:  # raised again in the speech thread, handled as if made there
            self._error = exc
        finally:
            self._done.set()

    def result(self) -> tuple[AudioArray, int]:
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._result


class DeviceOutput:
    """This machine's audio output through PortAudio (``sounddevice``): ``device`` is an
    output device index, a name fragment, or "" for the default. Raises ``AudioError``
    (one line: what is missing and how to get it) when there is no output to play to."""

    def __init__(self, device: str = "") -> None:
        self._sd = _import_sounddevice()
        self._device: int | str | None = (int(device) if device.strip().isdigit()
                                          else device.strip() or None)
        try:
            info = self._sd.query_devices(self._device, "output")
        except (self._sd.PortAudioError, ValueError) as exc:
            raise AudioError(f"no audio output device ({_one_line(exc)}): connect speakers "
                             "or headphones, or choose one with [voice] output_device "
                             "(python -m sounddevice lists them)") from None
        self.default_rate_hz = int(info["default_samplerate"])
        self._stream: Any = None
        self._rate = 0

    def play(self, item: SpeechItem, samples: AudioArray, sample_rate_hz: int,
             interrupted: Callable[[], bool]) -> bool:
        if interrupted():
            return False
        samples, rate = self._open(samples, sample_rate_hz)
        block = max(1, round(BLOCK_S * rate))
        try:
            for start in range(0, len(samples), block):
                if interrupted():
                    fade = samples[start:start + round(FADE_S * rate)]
                    self._stream.write(fade * np.linspace(1.0, 0.0, len(fade),
                                                          dtype=np.float32))
                    return False
                self._stream.write(np.ascontiguousarray(samples[start:start + block]))
        except self._sd.PortAudioError as exc:
            raise AudioError(f"the audio output stopped: {_one_line(exc)}") from None
        return True

    def close(self) -> None:
        if self._stream is not None:
            try:
                self._stream.stop()
                self._stream.close()
            except self._sd.PortAudioError as exc:
                log.debug("closing the audio output: %s", exc)
            self._stream = None

    def _open(self, samples: AudioArray, rate: int) -> tuple[AudioArray, int]:
        """A stream at the voice's rate, or at the device's own rate (resampled) if the
        device refuses it."""
        from hudtranslate.audio.pcm import resample

        if rate != self._rate:
            self.close()
            try:
                self._sd.check_output_settings(device=self._device, channels=1,
                                               dtype="float32", samplerate=rate)
                self._rate = rate
            except (self._sd.PortAudioError, ValueError):
                self._rate = self.default_rate_hz
            try:
                self._stream = self._sd.OutputStream(samplerate=self._rate, channels=1,
                                                     dtype="float32", device=self._device)
                self._stream.start()
            except (self._sd.PortAudioError, ValueError) as exc:
                raise AudioError(f"cannot open the audio output: {_one_line(exc)}") from None
        if rate != self._rate:
            return resample(samples, rate, self._rate), self._rate
        return samples, rate


def load_voices(options: VoiceOptions, *, api_key: str = "") -> dict[str, Voice]:
    """The voices ``options`` ask for, loaded and warmed up: English always (the Joe
    voice), Chinese when ``zh_url`` is set. A voice that cannot be loaded is left out
    with one warning line saying how to get it."""
    voices: dict[str, Voice] = {}
    try:
        english = EnglishVoice.from_options(options)
        # loads the phoneme dictionaries and imports inflect for the number words (~2-3 s
        # once; else the first caption with a number would wait for it)
        english.synthesize("Ready at 5:30 pm.")
        voices["en"] = english
    except HudTranslateError as exc:
        log.warning("not speaking English: %s", exc)
    if options.zh_url:
        from hudtranslate.speech_out.remote import RemoteVoice, RemoteVoiceOptions

        voices["zh"] = RemoteVoice(RemoteVoiceOptions(
            options.zh_url, options.zh_model, options.zh_voice, api_key,
            timeout_ms=options.zh_timeout_ms))
    return voices


def device_speech_sink(options: VoiceOptions, voices: Mapping[str, Voice] | None = None,
                       *, close_wait_s: float | None = None) -> SpeechSink | None:
    """A ``SpeechSink`` to this machine's audio output, or None (after one warning line)
    when there is no voice or no output device: the captions go on without speech.
    ``voices`` default to ``load_voices(options)``; ``close_wait_s`` as ``SpeechSink``'s.
    With neither the voice extra nor an output device, both are said, the voice first (a
    user who connected a speaker would only then have learned the voice was missing)."""
    try:
        output = DeviceOutput(options.output_device)  # first: it fails fast, a voice loads slowly
    except AudioError as exc:
        if voices is None and voice_extra_missing():
            log.warning("not speaking English: %s", VOICE_MISSING)
        log.warning("not speaking: %s", exc)
        return None
    if voices is None:
        from hudtranslate.translate.remote import api_key_from_env

        voices = load_voices(options, api_key=api_key_from_env())
    if not voices:
        return None
    return SpeechSink(voices, output, options, close_wait_s=close_wait_s)


def _cancelled() -> bool:
    """Whether the task closing the sink is being cancelled (Ctrl-C): then nothing more
    is said."""
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no event loop: called from plain code
        return False
    return task is not None and task.cancelling() > 0


def _import_sounddevice() -> ModuleType:
    try:
        return importlib.import_module("sounddevice")
    except OSError as exc:
        raise AudioError(f"no audio output: {_one_line(exc)} (install the PortAudio "
                         "library, e.g. apt install libportaudio2)") from None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
