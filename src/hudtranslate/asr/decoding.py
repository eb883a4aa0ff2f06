"""What one Whisper decode is asked (``DecodeCall``), and of what (``Decoder``: the
engine ``WhisperEngine`` or a test fake)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from hudtranslate.asr.whisper import Decoded
from hudtranslate.events import AudioArray


@dataclass(frozen=True)
class DecodeCall:
    """What one Whisper decode is asked (``WhisperEngine.decode``'s options): continue
    ``prefix`` with at most ``max_new_tokens``, in one of ``languages``."""

    prefix: str
    beam_size: int
    max_new_tokens: int
    padding_s: float
    languages: tuple[str, ...]
    prompt: str

    def options(self, prefix: str | None = None) -> dict[str, Any]:
        """Keyword arguments of ``decode`` (``prefix`` instead of this call's, if given)."""
        return {"prefix": self.prefix if prefix is None else prefix,
                "beam_size": self.beam_size, "max_new_tokens": self.max_new_tokens,
                "padding_s": self.padding_s, "languages": self.languages,
                "prompt": self.prompt}


class Decoder(Protocol):
    """What the recogniser needs of an engine (``WhisperEngine`` or a test fake)."""

    def decode(
        self,
        audio: AudioArray,
        *,
        prefix: str = "",
        beam_size: int = 1,
        max_new_tokens: int = 64,
        padding_s: float = 3.0,
        task: str = "transcribe",
        temperature: float = 0.0,
        languages: Sequence[str] = (),
        prompt: str = "",
    ) -> Decoded: ...
