"""Speech detection: Silero VAD, a pure speech-state machine, and the streaming segmenter."""

from hudtranslate.vad.segmenter import SpeechSegmenter
from hudtranslate.vad.silero import FRAME_MS, FRAME_SAMPLES, SileroVad, VadModel
from hudtranslate.vad.state import (
    SpeechStateMachine,
    UtteranceEnd,
    UtteranceStart,
    VadEvent,
)

__all__ = [
    "FRAME_MS",
    "FRAME_SAMPLES",
    "SileroVad",
    "SpeechSegmenter",
    "SpeechStateMachine",
    "UtteranceEnd",
    "UtteranceStart",
    "VadEvent",
    "VadModel",
]
