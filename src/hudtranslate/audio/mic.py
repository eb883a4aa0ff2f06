"""The microphone as a source of 16 kHz mono chunks, via PortAudio (sounddevice).

PortAudio calls back on its own thread; blocks cross to the event loop through
``call_soon_threadsafe`` so the loop never blocks on the device. ``sounddevice`` is imported
only when a microphone is used, because importing it fails where PortAudio is missing
(servers, CI) and file input must still work there.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import AsyncGenerator
from types import ModuleType
from typing import Any

import numpy as np

from hudtranslate.audio.pcm import Resampler
from hudtranslate.config import AudioOptions
from hudtranslate.errors import AudioError, one_line
from hudtranslate.events import SAMPLE_RATE_HZ, AudioArray, AudioChunk

log = logging.getLogger(__name__)


def list_input_devices() -> list[str]:
    """Describe each input device as ``"index: name (rate Hz)"``, for ``--device``."""
    sd = _import_sounddevice()
    try:
        devices = sd.query_devices()
    except sd.PortAudioError as exc:
        raise AudioError(f"no microphone found: {one_line(exc)}") from None
    return [
        f"{index}: {info['name']} ({int(info['default_samplerate'])} Hz)"
        for index, info in enumerate(devices)
        if info["max_input_channels"] > 0
    ]


def check_microphone(options: AudioOptions) -> None:
    """Raises ``AudioError`` ("no microphone found: ...") unless an input device is
    connected and ``options.device`` names one that takes mono float32; opens nothing, so
    a command can check before it loads models or makes folders."""
    inputs = list_input_devices()
    if not inputs:
        raise AudioError("no microphone found: no audio input device is connected (connect a "
                         "microphone, or translate a recording: hudtranslate file talk.wav)")
    try:
        _pick_rate(_import_sounddevice(), _device_arg(options.device))
    except AudioError as exc:
        if not options.device.strip():
            raise
        raise AudioError(f"{exc} (--device takes an index or part of a name: "
                         f"{'; '.join(inputs)})") from None


async def microphone_chunks(options: AudioOptions) -> AsyncGenerator[AudioChunk, None]:
    """Record until the consumer stops, yielding ``options.chunk_ms`` chunks at 16 kHz.

    ``options.device`` is a device index, a name fragment, or empty for the default input.
    A device that refuses 16 kHz is opened at its own default rate and resampled. Chunk
    times count the samples received, so they stay exact even if the callback jitters.
    """
    sd = _import_sounddevice()
    device = _device_arg(options.device)
    rate = _pick_rate(sd, device)
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[AudioArray | None] = asyncio.Queue()

    def post(item: AudioArray | None) -> None:
        # The loop may already be closed while PortAudio delivers a last block.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(queue.put_nowait, item)

    def on_block(indata: Any, frames: int, time_info: Any, status: Any) -> None:
        if status:
            log.debug("microphone status: %s", status)
        post(np.array(indata[:frames, 0], dtype=np.float32))

    try:
        stream = sd.InputStream(
            samplerate=rate,
            channels=1,
            dtype="float32",
            device=device,
            blocksize=max(1, rate * options.chunk_ms // 1000),
            callback=on_block,
            finished_callback=lambda: post(None),
        )
        stream.start()
    except (sd.PortAudioError, ValueError) as exc:
        raise AudioError(f"no microphone found: {one_line(exc)}") from None
    log.info("recording from %s at %d Hz", options.device or "the default input", rate)
    resampler = Resampler(rate, SAMPLE_RATE_HZ)
    step = options.chunk_ms * SAMPLE_RATE_HZ // 1000
    pending = np.zeros(0, dtype=np.float32)
    emitted = 0
    try:
        while True:
            block = await queue.get()
            if block is None:
                raise AudioError("the microphone stopped delivering audio (device removed?)")
            pending = np.concatenate([pending, resampler.process(block)])
            while len(pending) >= step:
                chunk = np.ascontiguousarray(pending[:step])
                pending = pending[step:]
                yield AudioChunk(samples=chunk, start_s=emitted / SAMPLE_RATE_HZ)
                emitted += step
    finally:
        with contextlib.suppress(sd.PortAudioError):
            stream.stop()
            stream.close()


def _import_sounddevice() -> ModuleType:
    try:
        return importlib.import_module("sounddevice")
    except OSError as exc:
        raise AudioError(
            f"no microphone found: {one_line(exc)} (install the PortAudio library, "
            "e.g. apt install libportaudio2)"
        ) from None


def _device_arg(device: str) -> int | str | None:
    text = device.strip()
    if not text:
        return None
    return int(text) if text.isdigit() else text


def _pick_rate(sd: ModuleType, device: int | str | None) -> int:
    """16 kHz when the device takes it, else the device's default rate."""
    try:
        try:
            sd.check_input_settings(
                device=device, channels=1, dtype="float32", samplerate=SAMPLE_RATE_HZ
            )
        except sd.PortAudioError:
            info = sd.query_devices(device, "input")
            return int(info["default_samplerate"])
    except (sd.PortAudioError, ValueError) as exc:
        raise AudioError(f"no microphone found: {one_line(exc)}") from None
    return SAMPLE_RATE_HZ
