"""Settings of a conversation: who is translated (``[conversation]``) and what is said
aloud (``[voice]``). Kept apart from ``config`` for size; ``config.Settings`` holds them
and ``hudtranslate.config`` re-exports both classes."""

from __future__ import annotations

from dataclasses import dataclass

from hudtranslate.errors import ConfigError, check_range

__all__ = ["MODES", "ConversationOptions", "VoiceOptions"]

MODES = ("listen", "converse")


@dataclass(frozen=True)
class ConversationOptions:
    """Who is translated. ``mode`` "listen" (the default): Mandarin speech → English for the
    wearer. "converse": each utterance's language is detected (zh or en); the other
    person's Mandarin → English, the wearer's English → Chinese for the other person (the
    partner page), and English starting with a draft command ("draft: tell her …", see
    ``conversation.drafts``) → a polite Chinese message ready to send."""

    mode: str = "listen"

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"conversation.mode must be one of {', '.join(MODES)}, "
                              f"got {self.mode!r}")


@dataclass(frozen=True)
class VoiceOptions:
    """Speaking the translations (``--speak``; ``speech_out``).

    ``speak``: say each final English sentence aloud (the offline Joe voice, extra
    ``voice``); a wearer on ``serve`` asks for it in its ``start`` message instead.
    ``onnx_threads``: onnxruntime threads of the voice (one: real-time factor ~0.1).
    ``length_scale``: speaking pace (> 1 slower). ``output_device``: a PortAudio output
    device index or name fragment ("": the default). Stale speech is skipped: a sentence
    waiting longer than ``max_wait_s``, or more than ``max_captions_behind`` captions
    behind the newest, is never said; once a newer caption has waited ``cut_after_s`` the
    sentence being said is cut for it. ``zh_url``: an OpenAI-compatible ``/v1/audio/speech``
    server for the Chinese side (``--mode converse``; "": Chinese is shown, not spoken),
    with ``zh_model``, ``zh_voice`` and ``zh_timeout_ms`` (key:
    ``$HUDTRANSLATE_REMOTE_API_KEY`` or ``$OPENAI_API_KEY``).
    """

    speak: bool = False
    onnx_threads: int = 1
    length_scale: float = 1.0
    output_device: str = ""
    max_wait_s: float = 8.0
    max_captions_behind: int = 1
    cut_after_s: float = 3.0
    zh_url: str = ""
    zh_model: str = "tts-1"
    zh_voice: str = "alloy"
    zh_timeout_ms: int = 8000

    def __post_init__(self) -> None:
        check_range("voice.onnx_threads", self.onnx_threads, 1, 64)
        check_range("voice.length_scale", self.length_scale, 0.5, 2.0)
        check_range("voice.max_wait_s", self.max_wait_s, 0.5, 600.0)
        check_range("voice.max_captions_behind", self.max_captions_behind, 0, 100)
        check_range("voice.cut_after_s", self.cut_after_s, 0.0, 600.0)
        check_range("voice.zh_timeout_ms", self.zh_timeout_ms, 100, 120_000)
        if self.zh_url and not self.zh_url.startswith(("http://", "https://")):
            raise ConfigError(f"voice.zh_url must be an http(s) URL, got {self.zh_url!r}")
