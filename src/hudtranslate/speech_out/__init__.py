"""Speaking the translations: voices (text → audio) and a sink that says final captions.

``numbers`` writes numbers out as words, ``voice`` holds the offline English voice and the
``Voice`` protocol, ``remote`` a voice over an OpenAI-compatible speech endpoint (the
Chinese side when online), ``queue`` the pure rules for what is still worth saying, and
``sinks`` the pipeline sink and this machine's audio output.
"""

from hudtranslate.speech_out.numbers import spell_numbers
from hudtranslate.speech_out.queue import SpeechItem, SpeechQueue
from hudtranslate.speech_out.remote import RemoteVoice, RemoteVoiceOptions
from hudtranslate.speech_out.sinks import (
    AudioOutput,
    DeviceOutput,
    SpeechSink,
    device_speech_sink,
    load_voices,
)
from hudtranslate.speech_out.voice import (
    VOICE_MISSING,
    ChineseVoice,
    EnglishVoice,
    Voice,
    to_16k,
)

__all__ = [
    "VOICE_MISSING",
    "AudioOutput",
    "ChineseVoice",
    "DeviceOutput",
    "EnglishVoice",
    "RemoteVoice",
    "RemoteVoiceOptions",
    "SpeechItem",
    "SpeechQueue",
    "SpeechSink",
    "Voice",
    "device_speech_sink",
    "load_voices",
    "spell_numbers",
    "to_16k",
]
