"""hudtranslate: live Mandarin speech → English captions for smart-glasses displays.

Runs offline on two CPU cores: Silero VAD → Whisper (faster-whisper) → Qwen (llama.cpp).
"""

from hudtranslate.config import Settings
from hudtranslate.errors import HudTranslateError
from hudtranslate.events import AudioChunk, SpeechChunk, StreamEnd, Transcript, Translation

__version__ = "0.1.0"

__all__ = [
    "AudioChunk",
    "HudTranslateError",
    "Settings",
    "SpeechChunk",
    "StreamEnd",
    "Transcript",
    "Translation",
    "__version__",
]
