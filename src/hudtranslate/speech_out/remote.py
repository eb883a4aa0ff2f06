"""A ``Voice`` over any OpenAI-compatible text-to-speech endpoint (``POST /v1/audio/speech``).

The Chinese side's voice when online (no offline Mandarin voice installs cleanly; see
``voice.py``): OpenAI's API, and self-hosted servers that copy it (e.g. Kokoro-FastAPI,
openedai-speech), take ``{"model", "input", "voice", "response_format"}`` and answer
with the audio file. We ask for WAV, so the answer says its own sample rate.

Called from the speech thread, so it blocks: plain ``http.client``, like the remote
translator (``translate/remote.py``). Bounded: one deadline for the whole request
(``timeout_ms``, enforced on every socket read) and at most ``max_bytes`` of answer.
Any failure raises ``BackendError`` (one line); the sentence is then shown, not said.
"""

from __future__ import annotations

import http.client
import io
import json
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np
import soundfile

from hudtranslate.audio.pcm import to_mono
from hudtranslate.errors import BackendError, ConfigError
from hudtranslate.events import AudioArray

_READ_BYTES = 65_536


@dataclass(frozen=True)
class RemoteVoiceOptions:
    """Where the speech server is: ``url`` is its base (``http://host:8000`` or
    ``.../v1``) or the full ``.../audio/speech`` address."""

    url: str
    model: str = "tts-1"
    voice: str = "alloy"
    api_key: str = ""
    language: str = "zh"
    timeout_ms: int = 8000
    max_bytes: int = 16_000_000
    """About 6 minutes of 22 kHz 16-bit mono WAV: far more than one caption."""

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ConfigError(f"the speech server URL must be http(s), got {self.url!r}")
        if not 100 <= self.timeout_ms <= 120_000:
            raise ConfigError(f"speech timeout must be 100-120000 ms, got {self.timeout_ms}")

    @property
    def path(self) -> str:
        path = urlsplit(self.url).path.rstrip("/")
        if path.endswith("/audio/speech"):
            return path
        return (path if path.endswith("/v1") else path + "/v1") + "/audio/speech"


class RemoteVoice:
    """Says text through the server (see the module doc); ``name`` is the model name."""

    def __init__(self, options: RemoteVoiceOptions) -> None:
        self.options = options
        self.language = options.language
        self.name = f"{options.model}/{options.voice}"
        parts = urlsplit(options.url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port or (443 if self._https else 80)

    def synthesize(self, text: str) -> tuple[AudioArray, int]:
        """The server's audio for ``text`` as float32 mono; raises ``BackendError``."""
        if not text.strip():
            return np.zeros(0, dtype=np.float32), 16_000
        body = json.dumps({"model": self.options.model, "input": text,
                           "voice": self.options.voice, "response_format": "wav"},
                          ensure_ascii=False).encode("utf-8")
        data = self._post(body)
        try:
            samples, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
        except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
            raise BackendError(f"the speech server sent audio that cannot be read: "
                               f"{' '.join(str(exc).split())[:120]}") from None
        return to_mono(samples), int(rate)

    def _post(self, body: bytes) -> bytes:
        deadline = time.monotonic() + self.options.timeout_ms / 1000
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        connection = cls(self._host, self._port, timeout=_remaining(deadline))
        headers = {"Content-Type": "application/json", "Accept": "audio/wav"}
        if self.options.api_key:
            headers["Authorization"] = f"Bearer {self.options.api_key}"
        try:
            connection.connect()
            sock: socket.socket = connection.sock
            sock.settimeout(_remaining(deadline))
            connection.request("POST", self.options.path, body=body, headers=headers)
            response = connection.getresponse()
            if response.status >= 400:
                detail = response.read(300).decode("utf-8", errors="replace")
                raise BackendError(f"the speech server answered HTTP {response.status}: "
                                   f"{' '.join(detail.split())[:200]}")
            chunks: list[bytes] = []
            size = 0
            while not response.isclosed():  # it closes itself once the whole body is read
                sock.settimeout(_remaining(deadline))
                chunk = response.read(_READ_BYTES)
                if not chunk:
                    break
                size += len(chunk)
                if size > self.options.max_bytes:
                    raise BackendError(f"the speech server's answer is over "
                                       f"{self.options.max_bytes} bytes")
                chunks.append(chunk)
            return b"".join(chunks)
        except TimeoutError:
            raise BackendError("the speech server timed out") from None
        except (OSError, http.client.HTTPException) as exc:
            raise BackendError(f"cannot reach the speech server: {exc or type(exc).__name__}"
                               ) from None
        finally:
            connection.close()


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left
