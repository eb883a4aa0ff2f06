"""Audio files as a source: decode to 16 kHz mono, then stream as chunks.

A file can be played "fast" (as quickly as the pipeline takes it, for batch runs and
benchmarks) or "realtime" (paced like a microphone, for demos and latency measurements).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import sys
import tempfile
import time
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
import soundfile

from hudtranslate.audio.containers import read_with_ffmpeg
from hudtranslate.audio.pcm import Resampler, SampleBuffer, silence_non_finite, to_mono
from hudtranslate.errors import AudioError
from hudtranslate.events import SAMPLE_RATE_HZ, AudioArray, AudioChunk

log = logging.getLogger(__name__)

_READ_BLOCK_FRAMES = 65_536  # decode in blocks so long files never hold two full copies
_FFMPEG_READS_BETTER = frozenset({"MP3"})
"""libsndfile formats FFmpeg reads instead: libsndfile (mpg123) reads a cut-off MP3 to its
header's length, making up the missing half, and prints mpg123's warnings to stderr."""


_FFMPEG_SUFFIXES = frozenset({".mp3"})
"""Files given straight to FFmpeg by their name: libsndfile's MP3 reader writes "Note:
Illegal Audio-MPEG-Header …" lines to stderr for what is not an MP3 before it fails."""


class _UseFfmpeg(Exception):
    """Raised inside ``read_audio_file`` to hand the file to FFmpeg."""


def read_audio_file(path: str | Path) -> AudioArray:
    """Decode an audio file (any rate, any channels) to 16 kHz mono float32: WAV, FLAC
    and OGG by libsndfile, MP3 and anything else FFmpeg reads (M4A voice memos, the audio
    of an MP4/MOV/WebM video, AMR…) by PyAV (``containers.read_with_ffmpeg``).

    ``-`` is standard input (``ffmpeg … -f wav - | hudtranslate file -``); it and a named
    pipe are read to their end first.

    Raises AudioError with a one-line message for a missing, non-audio or empty file (or
    a device, or a standard input that is a terminal). A recording cut off part-way is
    read up to the cut with a warning.
    """
    if str(path) == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise AudioError("no audio on standard input (it is a terminal): pipe one in, "
                             "e.g. `ffmpeg -i talk.mp4 -f wav - | hudtranslate file -`")
        return _read_whole(sys.stdin.buffer, "stdin", "standard input")
    path = Path(path)
    if not path.exists():
        raise AudioError(f"audio file not found: {path}")
    if path.is_dir():
        raise AudioError(f"{path} is a directory, not an audio file")
    if path.is_fifo():  # `hudtranslate file <(ffmpeg …)`: what the pipe brings, read whole
        with path.open("rb") as pipe:
            return _read_whole(pipe, path.name, str(path))
    if not path.is_file():
        raise AudioError(f"{path} is a device, not an audio file")
    if path.stat().st_size == 0:
        raise AudioError(f"audio file is empty (0 bytes): {path}")
    decoded = SampleBuffer()  # filled as decoded: a long file is never held twice
    broken = 0  # NaN/inf samples of a damaged float file: silence, before resampling spreads them
    try:
        if path.suffix.lower() in _FFMPEG_SUFFIXES:
            raise _UseFfmpeg  # libsndfile's mpg123 would print its notes on stderr first
        with soundfile.SoundFile(path) as handle:
            if handle.format in _FFMPEG_READS_BETTER or handle.frames == 0 or handle.channels > 2:
                # 0 frames: also a WAV whose recorder was killed before it wrote the
                # header's sizes (still 0): FFmpeg reads the samples that follow it.
                # Surround (5.1 WAV/FLAC): FFmpeg's downmix keeps the centre's dialogue
                raise _UseFfmpeg
            resampler = Resampler(handle.samplerate, SAMPLE_RATE_HZ)
            # libsndfile's frame count is what the file holds (a cut-off WAV's header
            # may say more): sizes the array once
            decoded = SampleBuffer(handle.frames * SAMPLE_RATE_HZ // handle.samplerate + 1)
            for block in handle.blocks(
                blocksize=_READ_BLOCK_FRAMES, dtype="float32", always_2d=True
            ):
                block, bad = silence_non_finite(block)
                broken += bad
                decoded.append(resampler.process(to_mono(block)))
            decoded.append(resampler.flush())
    except (RuntimeError, OSError, _UseFfmpeg):
        # a container libsndfile does not know (M4A, MP4, WebM, AMR…), an MP3, or a file
        # that breaks off part-way (libsndfile refuses it whole): FFmpeg reads what is there
        samples = read_with_ffmpeg(path)
    else:
        samples = decoded.samples()
        if handle.format == "OGG":
            _warn_if_ogg_cut(path, len(samples) / SAMPLE_RATE_HZ)
        else:
            _warn_if_truncated(path, handle.frames, handle.samplerate)
    if len(samples) == 0:
        raise AudioError(f"audio file is empty (no samples): {path}")
    if broken:
        log.warning("%s: %d samples are not numbers (NaN/inf); read as silence", path, broken)
    return np.ascontiguousarray(samples, dtype=np.float32)


def _read_whole(stream: BinaryIO, name: str, shown: str) -> AudioArray:
    """Decode what a pipe brings, kept whole in a temporary file first (the decoders seek).
    Errors name the pipe as ``shown``: the copy's path is gone once they are read."""
    with tempfile.TemporaryDirectory(prefix="hudtranslate-pipe-") as folder:
        copy = Path(folder) / name
        with copy.open("wb") as kept:
            shutil.copyfileobj(stream, kept)
        if copy.stat().st_size == 0:
            raise AudioError(f"no audio came through {name} (0 bytes)")
        try:
            return read_audio_file(copy)
        except AudioError as exc:
            raise AudioError(str(exc).replace(str(copy), shown)) from None


def audio_duration_s(path: str | Path) -> float:
    """Seconds of audio in the file at ``path``, as ``read_audio_file`` will read it: from
    the header where libsndfile reads the format well (WAV, FLAC, OGG), else by decoding
    it (M4A, MP4, WebM, MP3, a WAV whose header says 0 bytes). Raises AudioError as
    ``read_audio_file`` does."""
    try:
        info = soundfile.info(str(path))
    except (RuntimeError, OSError):
        pass
    else:
        if info.frames > 0 and info.samplerate > 0 and info.format not in _FFMPEG_READS_BETTER:
            return float(info.frames / info.samplerate)
    return len(read_audio_file(path)) / SAMPLE_RATE_HZ


_UNKNOWN_LENGTH_FRAMES = 0x7FFF_FFFF // 8
"""A data size this large in a WAV header is a placeholder (recorders that stream write
0xFFFFFFFF and never come back to fix it), not a length."""


def _warn_if_truncated(path: Path, frames: int, sample_rate: int) -> None:
    """Warn when a PCM WAV's header promises more frames than the file holds. The
    header is read by the standard library's ``wave`` (PCM only; other files are not
    checked), the frames present by libsndfile."""
    try:
        with wave.open(str(path), "rb") as header:
            promised = header.getnframes()
    except (wave.Error, EOFError, OSError):
        return
    if frames < promised < _UNKNOWN_LENGTH_FRAMES:
        log.warning("%s is truncated: its header says %.1f s of audio, %.1f s are there",
                    path, promised / sample_rate, frames / sample_rate)


_OGG_PAGE_MAX_BYTES = 27 + 255 + 255 * 255
"""The largest Ogg page: a 27-byte header, 255 lacing values, 255 segments of 255 bytes
(RFC 3533, section 6)."""
_OGG_LAST_PAGE = 0x04
"""The header-type flag of a logical stream's last page (RFC 3533: "eos")."""


def _warn_if_ogg_cut(path: Path, heard_s: float) -> None:
    """Warn when an Ogg file (Vorbis, Opus, FLAC in Ogg) breaks off: its last page is not
    marked as the stream's last, or is itself cut short. An Ogg file declares no length
    up front, so libsndfile reads a cut one to the cut without a word."""
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - _OGG_PAGE_MAX_BYTES))
        tail = handle.read()
    start = tail.rfind(b"OggS")
    header = tail[start:start + 27]
    if start < 0 or len(header) < 27 or header[4] != 0:  # version 0 is the only one
        cut = True
    else:
        lacing = tail[start + 27:start + 27 + header[26]]
        page_bytes = 27 + header[26] + sum(lacing)
        cut = not header[5] & _OGG_LAST_PAGE or len(tail) - start < page_bytes \
            or len(lacing) < header[26]
    if cut:
        log.warning("%s is truncated: its Ogg stream breaks off without its last page; "
                    "read up to there (%.1f s)", path, heard_s)


async def file_chunks(
    samples: AudioArray,
    chunk_ms: int,
    realtime: bool,
    start_offset_s: float = 0.0,
) -> AsyncIterator[AudioChunk]:
    """Yield consecutive ``chunk_ms`` chunks of 16 kHz ``samples``; the last may be shorter.

    ``start_offset_s`` skips into the audio; chunk times stay positions in the file, so
    they line up with reference timings. When ``realtime``, each chunk is released once
    its last sample would have been recorded, measured from the first chunk against
    ``time.monotonic`` (absolute deadlines, so no drift). Otherwise the loop gets a turn
    between chunks so consumers keep up.
    """
    if chunk_ms <= 0:
        raise ValueError(f"chunk_ms must be positive, got {chunk_ms}")
    if start_offset_s < 0:
        raise ValueError(f"start_offset_s must not be negative, got {start_offset_s}")
    step = max(1, chunk_ms * SAMPLE_RATE_HZ // 1000)
    first = min(len(samples), round(start_offset_s * SAMPLE_RATE_HZ))
    clock_start = time.monotonic()
    for begin in range(first, len(samples), step):
        end = min(begin + step, len(samples))
        if realtime:
            deadline = clock_start + (end - first) / SAMPLE_RATE_HZ
            await asyncio.sleep(max(0.0, deadline - time.monotonic()))
        else:
            await asyncio.sleep(0)
        yield AudioChunk(samples=samples[begin:end], start_s=begin / SAMPLE_RATE_HZ)
