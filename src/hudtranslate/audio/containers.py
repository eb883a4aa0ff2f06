"""Audio that libsndfile does not read, decoded by FFmpeg through PyAV.

Phones record voice memos as M4A (AAC in MP4), browsers as WebM/Opus, old phones as AMR,
and a Mandarin video (MP4, MOV, MKV) is a natural thing to subtitle with
``hudtranslate file``. libsndfile reads WAV/FLAC/OGG/MP3 only; PyAV (already installed with
faster-whisper, which decodes with it too) reads the rest. Its resampler (libswresample)
gives 16 kHz float32; mono and stereo channels are averaged as for the files libsndfile
reads (``pcm.to_mono``), more channels (a film's 5.1) downmixed by libswresample's
standard matrix, which keeps the centre channel's dialogue.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from hudtranslate.audio.pcm import SampleBuffer, silence_non_finite, to_mono
from hudtranslate.errors import AudioError, one_line
from hudtranslate.events import SAMPLE_RATE_HZ, AudioArray

log = logging.getLogger(__name__)


def read_with_ffmpeg(path: Path) -> AudioArray:
    """The first audio track of ``path`` (any container and codec FFmpeg knows) as 16 kHz
    mono float32.

    Raises ``AudioError`` with one line for a file FFmpeg cannot open, one without an
    audio track, or one whose audio cannot be decoded from the start; audio that breaks
    off part-way (a decode error, or less audio than the track or container declares) is
    kept up to the break, with a warning. Samples that are not numbers (a damaged float
    file) are read as silence, with a warning, as libsndfile's path does.
    """
    try:
        import av
    except ImportError as exc:
        raise AudioError(f"cannot read {path}: PyAV is not installed ({exc}); "
                         "pip install av, or convert the file to WAV") from None
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        raise AudioError(f"not an audio file or unreadable: {path} ({one_line(exc)})") from None
    decoded = SampleBuffer()  # filled as decoded: a long recording is never held twice
    broken = 0
    with container:
        if not container.streams.audio:
            raise AudioError(f"{path} has no audio track")
        stream = container.streams.audio[0]
        if stream.codec_context is None:  # a codec FFmpeg has no decoder for
            raise AudioError(f"cannot decode the audio of {path}: its codec is one FFmpeg "
                             "cannot decode; save it as PCM WAV or FLAC from the program "
                             "that made it")
        # a film's 5.1 keeps its dialogue in the centre channel: FFmpeg's standard downmix
        # (ITU-R BS.775 weights) keeps it; an average of six channels buries it 15 dB down
        surround = stream.channels > 2
        resampler = av.AudioResampler(format="fltp", layout="mono" if surround else None,
                                      rate=SAMPLE_RATE_HZ)
        declared_s = _declared_s(container, stream)
        if declared_s is not None and declared_s * _BYTES_PER_S_MIN <= _file_size(path):
            decoded = SampleBuffer(round(declared_s * SAMPLE_RATE_HZ))  # sized once
        try:
            for frame in container.decode(stream):
                if isinstance(frame, av.AudioFrame):
                    for out in resampler.resample(frame):
                        broken += _append_finite(decoded, _mono(out.to_ndarray()))
            for out in resampler.resample(None):
                broken += _append_finite(decoded, _mono(out.to_ndarray()))
        except (av.error.FFmpegError, ValueError) as exc:
            if not len(decoded):
                raise AudioError(f"cannot decode the audio of {path} ({one_line(exc)})") from None
            heard_s = len(decoded) / SAMPLE_RATE_HZ
            log.warning("%s: the audio breaks off after %.1f s (%s); read up to there",
                        path, heard_s, one_line(exc))
        else:
            _warn_if_short(path, declared_s, len(decoded) / SAMPLE_RATE_HZ)
    if broken:
        log.warning("%s: %d samples are not numbers (NaN/inf); read as silence", path, broken)
    return decoded.samples()


_BYTES_PER_S_MIN = 64
"""Fewer bytes a second of audio than any codec writes (Opus at 6 kbit/s: 750): a header
declaring more seconds than this allows is not believed when sizing the array up front
(it grows as it must instead)."""


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _append_finite(decoded: SampleBuffer, piece: AudioArray) -> int:
    """Append ``piece`` with samples that are not numbers as silence, as libsndfile's
    path reads them (``pcm.silence_non_finite``); return how many there were."""
    piece, broken = silence_non_finite(piece)
    decoded.append(piece)
    return broken


SHORT_BY_S = 0.5
"""Audio this much shorter than its file declares was cut off (a WebM whose upload broke
off keeps the duration written in its header); less is codec padding and rounding."""


def _declared_s(container: Any, stream: Any) -> float | None:
    """The audio track's length as its file declares it, in seconds; None when unknown.
    The container's duration counts only for a file with no other track (a video's
    picture may run on after its sound)."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None and len(container.streams) == 1:
        return float(container.duration / 1_000_000)  # AV_TIME_BASE: microseconds
    return None


def _warn_if_short(path: Path, declared_s: float | None, heard_s: float) -> None:
    if declared_s is not None and heard_s < declared_s - SHORT_BY_S:
        log.warning("%s is truncated: it declares %.1f s of audio, %.1f s are there; "
                    "read up to there", path, declared_s, heard_s)


def _mono(planes: np.ndarray) -> AudioArray:
    """Planar ``(channels, n)`` samples as ``(n,)``, channels averaged."""
    return to_mono(planes.T)
