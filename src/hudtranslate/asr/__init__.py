"""Streaming Mandarin recognition: Whisper backend, LocalAgreement policy, text clean-up."""

from hudtranslate.asr.decoding import Decoder
from hudtranslate.asr.policy import LocalAgreement
from hudtranslate.asr.recognizer import StreamingRecognizer
from hudtranslate.asr.text import normalize_chinese, to_simplified
from hudtranslate.asr.whisper import Decoded, WhisperEngine

__all__ = [
    "Decoded",
    "Decoder",
    "LocalAgreement",
    "StreamingRecognizer",
    "WhisperEngine",
    "normalize_chinese",
    "to_simplified",
]
