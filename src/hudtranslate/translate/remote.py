"""A ``TranslationBackend`` over any OpenAI-compatible chat-completions endpoint.

vLLM, llama.cpp's server, ``python -m llama_cpp.server`` and hosted APIs all speak it,
so one class covers "a bigger Qwen when online". It is called from a stage's worker
thread, so it blocks: plain ``http.client``, no extra dependency. Answers are streamed
(server-sent events) so that a superseded partial stops as soon as ``cancelled()`` says
so, and the whole request has one deadline (``timeout_ms``), checked between pieces and
enforced on every socket read: a hung server costs at most that long.

Nothing of an answer is shown before all of it is checked (``answers.clean_answer``): a
stream that ends without ``data: [DONE]`` or at the token limit, an empty answer, chatter
with no clear translation or one far too long raises ``RejectedAnswerError``, and the
router has the local model translate that sentence. So the remote's English appears a
sentence at a time, not word by word; on a GPU server a sentence takes a fraction of a
second. The translation is one line: once a line that is not chatter has ended, the
request is closed and the notes that may follow are neither waited for nor paid for (the
server is not told to stop at a newline: a model that writes "Here is the translation:"
on a line of its own would then send nothing else).

Forced prefix: chat endpoints cannot be relied on to continue a partial assistant message
(most close it and open a new one), so the English already committed is sent as an
instruction after the Chinese, and the answer is reconciled: if it starts with the
prefix, the rest is the continuation; otherwise as many leading words as the prefix has
are dropped. The prompt before the sentence is the same as the local model's
(``chat_messages``), so servers with prefix caching reuse it.

Direction: a prompt set whose ``target_language`` is "zh" (the wearer's English put into
Chinese) has its answer checked by ``answers_zh.clean_chinese_answer`` instead, the prefix
instruction speaks of Chinese, and the prefix is reconciled by characters, not words.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import socket
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from hudtranslate.errors import BackendError, ConfigError, RejectedAnswerError
from hudtranslate.translate.answers import clean_answer, first_line_done
from hudtranslate.translate.answers_zh import chinese_first_line_done, clean_chinese_answer
from hudtranslate.translate.prompts import SPEECH, PromptSet, chat_messages

log = logging.getLogger(__name__)

API_KEY_VARIABLES = ("HUDTRANSLATE_REMOTE_API_KEY", "OPENAI_API_KEY")
PREAMBLE_TOKENS = 16
"""Tokens allowed beyond the translation for a preamble ("Sure! Here is the translation:"
is 9), so that chatter does not cut a translation that ``clean_answer`` could keep."""


def api_key_from_env(env: Mapping[str, str] | None = None) -> str:
    """The remote API key: ``$HUDTRANSLATE_REMOTE_API_KEY``, else ``$OPENAI_API_KEY``."""
    env = os.environ if env is None else env
    return next((env[name] for name in API_KEY_VARIABLES if env.get(name)), "")


@dataclass(frozen=True)
class RemoteOptions:
    """Where the remote model is and how long to wait for it.

    ``url`` is the server's base (``http://host:8000`` or ``.../v1``) or its full
    ``.../chat/completions`` address. ``timeout_ms`` bounds a whole request (connect to
    last token); ``probe_interval_s`` is how often a failed remote is tried again.
    """

    url: str
    model: str = ""
    api_key: str = ""
    timeout_ms: int = 2500
    connect_timeout_ms: int = 1000
    probe_interval_s: float = 5.0

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ConfigError(f"--remote-url must be an http(s) URL, got {self.url!r}")
        if not 100 <= self.timeout_ms <= 120_000:
            raise ConfigError(f"remote timeout must be 100-120000 ms, got {self.timeout_ms}")
        if not 50 <= self.connect_timeout_ms <= 30_000:
            raise ConfigError(f"remote connect timeout must be 50-30000 ms, "
                              f"got {self.connect_timeout_ms}")
        if not 0.1 <= self.probe_interval_s <= 3600:
            raise ConfigError(f"probe interval must be 0.1-3600 s, got {self.probe_interval_s}")

    @property
    def base_path(self) -> str:
        """The path under which ``/chat/completions`` and ``/models`` live."""
        path = urlsplit(self.url).path.rstrip("/")
        if path.endswith("/chat/completions"):
            return path[: -len("/chat/completions")]
        return path if path.endswith("/v1") else path + "/v1"


class OpenAIChatBackend:
    """Translates through ``POST {base}/chat/completions``; raises ``BackendError`` on
    timeout, connection failure, HTTP error status or an answer it cannot read."""

    def __init__(self, options: RemoteOptions, *, glossary_example: bool = False) -> None:
        self.options = options
        self.probe_error = ""
        """Why the last ``probe`` failed ("cannot reach remote: ... refused"): a wrong
        port or host, told apart from a slow server."""
        self.glossary_example = glossary_example
        self.name = options.model or "remote"
        parts = urlsplit(options.url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port or (443 if self._https else 80)

    # --- TranslationBackend ---------------------------------------------------------------

    def translate(
        self,
        source: str,
        context: Sequence[tuple[str, str]],
        *,
        forced_prefix: str,
        max_new_tokens: int,
        cancelled: Callable[[], bool],
        on_text: Callable[[str], None] | None = None,
        prompts: PromptSet = SPEECH,
    ) -> str | None:
        """The checked translation (see the module doc); ``on_text`` is never called, as
        nothing is shown before the whole answer is checked. Raises ``BackendError`` when
        the remote fails, ``RejectedAnswerError`` when its answer cannot be used."""
        if cancelled():
            return None
        chinese = prompts.target_language == "zh"
        messages = chat_messages(source, context, glossary=self.glossary_example,
                                 prompts=prompts)
        if forced_prefix:
            language = "Chinese" if chinese else "English"
            what = "characters" if chinese else "words"
            messages[-1]["content"] = (
                f"{source}\n\n(The {language} so far is: \"{forced_prefix.strip()}\". Reply "
                f"with the whole {language} translation, starting with exactly those {what}.)")
        # the answer restates the prefix (English: about 4 characters a token; Chinese:
        # about 1.5, counted as 1) and may start chatting
        restated = len(forced_prefix) if chinese else len(forced_prefix) // 3
        max_tokens = max_new_tokens + restated + PREAMBLE_TOKENS
        line_done = chinese_first_line_done if chinese else first_line_done
        check = clean_chinese_answer if chinese else clean_answer
        body: dict[str, Any] = {"messages": messages, "temperature": 0.0,
                                "max_tokens": max_tokens, "stream": True}
        if self.options.model:
            body["model"] = self.options.model
        deadline = time.monotonic() + self.options.timeout_ms / 1000
        answer = ""
        with closing(self._stream(body, deadline)) as pieces:
            for piece in pieces:
                answer += piece
                if cancelled():
                    return None
                if line_done(answer, source):
                    break  # the request is closed: what follows the line is notes
        if cancelled():
            return None
        if chinese:
            return reconcile_chinese(forced_prefix, check(answer, source))
        return reconcile(forced_prefix, check(answer, source))

    # --- health ---------------------------------------------------------------------------

    def probe(self) -> bool:
        """Is the server answering? ``GET {base}/models`` within the connect timeout."""
        deadline = time.monotonic() + self.options.connect_timeout_ms / 1000 * 2
        try:
            connection, response, _ = self._request("GET", "/models", None, deadline)
        except BackendError as exc:
            log.debug("remote probe failed: %s", exc)
            self.probe_error = str(exc)
            return False
        try:
            response.read()
        except (OSError, http.client.HTTPException):
            return False
        finally:
            response.close()
            connection.close()
        return True

    # --- HTTP -----------------------------------------------------------------------------

    def _request(self, method: str, path: str, body: bytes | None, deadline: float
                 ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse, socket.socket]:
        connect_s = min(self.options.connect_timeout_ms / 1000, _remaining(deadline))
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        connection = cls(self._host, self._port, timeout=connect_s)
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self.options.api_key:
            headers["Authorization"] = f"Bearer {self.options.api_key}"
        try:
            connection.connect()
            sock = connection.sock
            sock.settimeout(_remaining(deadline))
            connection.request(method, self.options.base_path + path, body=body,
                               headers=headers)
            response = connection.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise _failure("cannot reach", exc) from None
        if response.status >= 400:
            detail = _safe_read(response)[:200]
            connection.close()
            raise BackendError(f"remote answered HTTP {response.status}: {detail}")
        return connection, response, sock

    def _stream(self, body: dict[str, Any], deadline: float
                ) -> Generator[str, None, None]:
        """Yield the content pieces of a streamed (or plain JSON) chat completion; raise
        ``RejectedAnswerError`` when it ends without ``[DONE]`` ("unfinished") or at the
        token limit ("cut") — after yielding what came, as a finished line still counts."""
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        connection, response, sock = self._request("POST", "/chat/completions", payload,
                                                   deadline)
        try:
            if "text/event-stream" not in (response.getheader("Content-Type") or ""):
                sock.settimeout(_remaining(deadline))
                answer = _json(response.read())
                yield _message_content(answer)
                if _finish_reason(answer) == "length":
                    raise RejectedAnswerError("cut", "the token limit ended the answer")
                return
            while True:
                sock.settimeout(_remaining(deadline))
                line = response.readline()
                if not line:
                    raise RejectedAnswerError("unfinished", "the stream ended before [DONE]")
                text = line.decode("utf-8", errors="replace").strip()
                if not text.startswith("data:"):
                    continue
                data = text[5:].strip()
                if data == "[DONE]":
                    return
                chunk = _json(data.encode("utf-8"))
                piece = _delta_content(chunk)
                if piece:
                    yield piece
                if _finish_reason(chunk) == "length":
                    raise RejectedAnswerError("cut", "the token limit ended the answer")
        except (OSError, http.client.HTTPException) as exc:
            raise _failure("lost", exc) from None
        finally:
            # with "Connection: close" the response owns the socket: close both
            response.close()
            connection.close()


def reconcile(forced_prefix: str, answer: str) -> str:
    """``forced_prefix`` + the part of ``answer`` that continues it (see the module doc)."""
    if not forced_prefix:
        return answer
    prefix = forced_prefix.strip()
    if answer.lower().startswith(prefix.lower()):
        rest = answer[len(prefix):]
    else:
        rest = " ".join(answer.split()[len(prefix.split()):])
    return f"{forced_prefix.rstrip()} {rest.strip()}".rstrip() if rest.strip() else forced_prefix


def reconcile_chinese(forced_prefix: str, answer: str) -> str:
    """``reconcile`` for Chinese, which has no spaces between words: the answer's
    continuation of ``forced_prefix`` is what follows the prefix when it starts with it,
    else what follows as many characters as the prefix has (spaces ignored)."""
    prefix = "".join(forced_prefix.split())
    if not prefix:
        return answer
    answer = answer.strip()
    rest = answer[len(prefix):] if answer.startswith(prefix) else "".join(
        answer.split())[len(prefix):]
    return forced_prefix.rstrip() + rest.strip()


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise BackendError("remote timed out")
    return left


def _failure(what: str, exc: BaseException) -> BackendError:
    if isinstance(exc, TimeoutError):
        return BackendError("remote timed out")
    return BackendError(f"{what} remote: {exc or type(exc).__name__}")


def _safe_read(response: http.client.HTTPResponse) -> str:
    try:
        return response.read(4096).decode("utf-8", errors="replace")
    except (OSError, http.client.HTTPException):
        return ""


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError):  # RecursionError: nested past Python's stack
        raise BackendError(f"remote sent something that is not JSON: {data[:80]!r}") from None


def _delta_content(chunk: Any) -> str:
    try:
        content = chunk["choices"][0].get("delta", {}).get("content") if chunk["choices"] else ""
    except (KeyError, IndexError, TypeError, AttributeError):
        raise BackendError(f"remote sent an unexpected stream chunk: {chunk!r:.120}") from None
    return content if isinstance(content, str) else ""


def _finish_reason(chunk: Any) -> str:
    """Why the model stopped ("stop", "length"), or "" while it goes on or if unsaid."""
    try:
        reason = chunk["choices"][0].get("finish_reason")
    except (KeyError, IndexError, TypeError, AttributeError):
        return ""
    return reason if isinstance(reason, str) else ""


def _message_content(answer: Any) -> str:
    try:
        content = answer["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise BackendError(f"remote sent an unexpected answer: {answer!r:.120}") from None
    return content if isinstance(content, str) else ""
