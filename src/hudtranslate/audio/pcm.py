"""Pure PCM helpers: mono down-mix, polyphase resampling and int16 <-> float32.

Everything returns C-contiguous float32 arrays, because the VAD and Whisper want exactly
that. The resampler is a numpy port of the classic polyphase design (Kaiser-windowed sinc,
the same filter as ``scipy.signal.resample_poly``) so the project needs no SciPy; it is
streaming, so a microphone at 44.1/48 kHz is resampled chunk by chunk without clicks at
chunk boundaries.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from hudtranslate.errors import AudioError
from hudtranslate.events import AudioArray

_KAISER_BETA = 5.0
_HALF_LEN_PER_RATE = 10  # filter half-length in taps per unit of max(up, down)
_BLOCK_OUTPUTS = 16_384  # outputs computed per vectorised block, bounds memory


def to_mono(samples: npt.ArrayLike) -> AudioArray:
    """Average the channels of ``(n,)`` or ``(n, channels)`` audio into ``(n,)`` float32."""
    array = np.asarray(samples)
    if array.ndim == 1:
        mono = array
    elif array.ndim == 2:
        mono = array[:, 0] if array.shape[1] == 1 else array.mean(axis=1, dtype=np.float64)
    else:
        raise AudioError(f"audio must have shape (n,) or (n, channels), got {array.shape}")
    return np.ascontiguousarray(mono, dtype=np.float32)


def pcm16le_to_float32(data: bytes | bytearray | memoryview) -> AudioArray:
    """Decode little-endian signed 16-bit PCM to float32 in [-1, 1)."""
    raw = bytes(data)
    if len(raw) % 2:
        raise AudioError(f"16-bit PCM needs an even number of bytes, got {len(raw)}")
    ints = np.frombuffer(raw, dtype="<i2")
    return (ints.astype(np.float32) / np.float32(32768.0)).astype(np.float32, copy=False)


def float32_to_pcm16le(samples: npt.ArrayLike) -> bytes:
    """Encode float audio as little-endian signed 16-bit PCM, clipping to [-1, 1]."""
    array = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
    return np.round(array * 32767.0).astype("<i2").tobytes()


def resample(samples: npt.ArrayLike, from_hz: int, to_hz: int) -> AudioArray:
    """Resample a whole mono signal; the output has ``ceil(n * to_hz / from_hz)`` samples."""
    resampler = Resampler(from_hz, to_hz)
    head = resampler.process(samples)
    tail = resampler.flush()
    return np.ascontiguousarray(np.concatenate([head, tail]), dtype=np.float32)


class Resampler:
    """Streaming polyphase resampler: ``process`` chunks, then ``flush`` once at the end.

    Output sample ``m`` is ``sum_j x[j] * h[m*down + half_len - j*up]``: the zero-stuffed
    input filtered by a centred low-pass FIR, so the output is not delayed. Inputs are kept
    only as long as some future output still needs them.
    """

    def __init__(self, from_hz: int, to_hz: int) -> None:
        if from_hz <= 0 or to_hz <= 0:
            raise ValueError(f"sample rates must be positive, got {from_hz} and {to_hz}")
        gcd = math.gcd(from_hz, to_hz)
        self._up = to_hz // gcd
        self._down = from_hz // gcd
        self._identity = self._up == self._down == 1
        max_rate = max(self._up, self._down)
        self._half_len = _HALF_LEN_PER_RATE * max_rate
        taps = 2 * self._half_len + 1
        cutoff = 1.0 / max_rate
        n = np.arange(taps, dtype=np.float64) - self._half_len
        h = cutoff * np.sinc(cutoff * n) * np.kaiser(taps, _KAISER_BETA)
        h *= self._up / h.sum()
        self._taps_per_phase = -(-taps // self._up)
        padded = np.zeros(self._taps_per_phase * self._up, dtype=np.float64)
        padded[:taps] = h
        # phases[p, i] = h[p + i*up]
        self._phases = padded.reshape(self._taps_per_phase, self._up).T.astype(np.float32)
        self._buffer = np.zeros(self._taps_per_phase, dtype=np.float32)
        self._buffer_start = -self._taps_per_phase  # absolute index of _buffer[0]
        self._received = 0
        self._next_out = 0
        self._flushed = False

    def process(self, samples: npt.ArrayLike) -> AudioArray:
        """Take the next mono samples; return every output sample they complete."""
        if self._flushed:
            raise ValueError("Resampler.process() called after flush()")
        chunk = np.asarray(samples, dtype=np.float32).reshape(-1)
        if self._identity:
            return np.array(chunk, dtype=np.float32)
        self._buffer = np.concatenate([self._buffer, chunk])
        self._received += len(chunk)
        return self._produce(self._last_ready_output(self._received))

    def flush(self) -> AudioArray:
        """Finish the stream: return the outputs that needed input past the end."""
        if self._flushed or self._identity:
            self._flushed = True
            return np.zeros(0, dtype=np.float32)
        self._flushed = True
        total = -(-self._received * self._up // self._down)
        if total <= self._next_out:
            return np.zeros(0, dtype=np.float32)
        needed = ((total - 1) * self._down + self._half_len) // self._up + 1
        pad = max(0, needed - (self._buffer_start + len(self._buffer)))
        self._buffer = np.concatenate([self._buffer, np.zeros(pad, dtype=np.float32)])
        return self._produce(total)

    def _last_ready_output(self, available: int) -> int:
        """Exclusive bound of outputs whose inputs all lie below ``available``."""
        return max(self._next_out, (available * self._up - 1 - self._half_len) // self._down + 1)

    def _produce(self, end: int) -> AudioArray:
        pieces: list[AudioArray] = []
        offsets = np.arange(self._taps_per_phase)
        for block_start in range(self._next_out, end, _BLOCK_OUTPUTS):
            outputs = np.arange(block_start, min(end, block_start + _BLOCK_OUTPUTS))
            t = outputs * self._down + self._half_len
            newest = t // self._up - self._buffer_start
            window = self._buffer[newest[:, None] - offsets[None, :]]
            pieces.append(np.einsum("ij,ij->i", window, self._phases[t % self._up]))
        self._next_out = max(self._next_out, end)
        oldest_needed = (self._next_out * self._down + self._half_len) // self._up
        drop = oldest_needed - self._taps_per_phase + 1 - self._buffer_start
        if drop > 0:
            self._buffer = self._buffer[drop:]
            self._buffer_start += drop
        if not pieces:
            return np.zeros(0, dtype=np.float32)
        return np.ascontiguousarray(np.concatenate(pieces), dtype=np.float32)


def silence_non_finite(samples: npt.NDArray[np.float32]) -> tuple[npt.NDArray[np.float32], int]:
    """``samples`` (any shape) with the values that are not numbers (NaN/inf, a damaged
    float file) as silence, and how many there were; the same array when there are none.
    Before resampling or mixing, which would spread one bad value over its neighbours."""
    finite = np.isfinite(samples)
    if finite.all():
        return samples, 0
    return np.where(finite, samples, np.float32(0.0)), int(np.count_nonzero(~finite))


class SampleBuffer:
    """Decoded pieces gathered into one float32 array, grown in place.

    Joining a list of pieces with ``np.concatenate`` holds the pieces and the joined copy
    at once: twice the file's samples at the peak (0.94 GB for a 2-hour recording, beside
    the models). Here the pieces are copied into one array as they come and dropped, so a
    file is held once. ``expected`` (samples, e.g. from the file's header) sizes the array
    up front; without it, or past it, it grows by half again with ``ndarray.resize``
    (``realloc``: a large array is remapped, not copied).
    """

    def __init__(self, expected: int = 0) -> None:
        self._data = np.empty(max(0, expected) + 1024, dtype=np.float32)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def append(self, piece: AudioArray) -> None:
        """Copy ``piece`` (mono) to the end."""
        end = self._size + len(piece)
        if end > len(self._data):
            self._data.resize(max(end, len(self._data) * 3 // 2), refcheck=False)
        self._data[self._size:end] = piece
        self._size = end

    def samples(self) -> AudioArray:
        """Everything appended, as one C-contiguous array (the spare room given back);
        the buffer is empty after it."""
        data, size = self._data, self._size
        self._data, self._size = np.empty(0, dtype=np.float32), 0
        data.resize(size, refcheck=False)
        return data
