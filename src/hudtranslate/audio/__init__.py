"""Audio sources (microphone, files) and PCM helpers; all yield 16 kHz mono float32."""

from hudtranslate.audio.files import audio_duration_s, file_chunks, read_audio_file
from hudtranslate.audio.mic import check_microphone, list_input_devices, microphone_chunks
from hudtranslate.audio.pcm import (
    Resampler,
    float32_to_pcm16le,
    pcm16le_to_float32,
    resample,
    to_mono,
)

__all__ = [
    "Resampler",
    "audio_duration_s",
    "check_microphone",
    "file_chunks",
    "float32_to_pcm16le",
    "list_input_devices",
    "microphone_chunks",
    "pcm16le_to_float32",
    "read_audio_file",
    "resample",
    "to_mono",
]
