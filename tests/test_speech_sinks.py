"""The speaking sink's plumbing with fake voices and outputs; the remote voice against a
loopback fake server; what happens without a voice or a speaker."""

from __future__ import annotations

import http.server
import io
import json
import logging
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import soundfile

from hudtranslate.config import Settings, VoiceOptions
from hudtranslate.errors import AudioError, BackendError, ConfigError
from hudtranslate.events import AudioArray, StreamEnd, Transcript, Translation
from hudtranslate.speech_out.queue import SpeechItem
from hudtranslate.speech_out.remote import RemoteVoice, RemoteVoiceOptions
from hudtranslate.speech_out.sinks import DeviceOutput, SpeechSink, device_speech_sink
from hudtranslate.speech_out.voice import VOICE_MISSING, VOICE_MODULES

pytestmark = pytest.mark.timeout(60)

RATE = 8000


class FakeClock:
    """Time that moves only when the fake output plays a block (whole milliseconds, so
    that 30 blocks of 50 ms are exactly 1.5 s)."""

    def __init__(self) -> None:
        self._ms = 0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._ms / 1000

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._ms += round(seconds * 1000)


@dataclass
class FakeVoice:
    """A tone a tenth of a second per character; fails on text containing "FAIL"."""

    language: str = "en"
    name: str = "fake-voice"
    calls: list[str] = field(default_factory=list)

    def synthesize(self, text: str) -> tuple[AudioArray, int]:
        self.calls.append(text)
        if "FAIL" in text:
            raise BackendError("the fake voice is down")
        n = int(0.1 * len(text) * RATE)
        return (0.3 * np.sin(np.arange(n) / 5)).astype(np.float32), RATE


@dataclass
class FakeOutput:
    """Plays in 50 ms blocks of fake time; ``at`` runs actions when time reaches a point."""

    clock: FakeClock
    at: dict[float, Callable[[], None]] = field(default_factory=dict)
    played: list[tuple[int, float, bool]] = field(default_factory=list)
    """(utterance id, seconds played, played to the end)"""
    closed: bool = False

    def play(self, item: SpeechItem, samples: AudioArray, sample_rate_hz: int,
             interrupted: Callable[[], bool]) -> bool:
        duration_s, played_s = len(samples) / sample_rate_hz, 0.0
        while played_s < duration_s - 1e-9:
            for when in sorted(self.at):
                if self.clock() >= when:
                    self.at.pop(when)()
            if interrupted():
                self.played.append((item.utterance_id, round(played_s, 2), False))
                return False
            self.clock.advance(0.05)
            played_s += 0.05
        self.played.append((item.utterance_id, round(played_s, 2), True))
        return True

    def close(self) -> None:
        self.closed = True


def caption(utterance_id: int, text: str, *, final: bool = True, source_language: str = "zh",
            draft: bool = False) -> Translation:
    return Translation(utterance_id, "源", text, "", 0.0, 1.0, final, 1.0,
                       source_language=source_language, draft=draft)


def sink_with(voices: dict[str, Any], output: FakeOutput, clock: FakeClock,
              **options: Any) -> SpeechSink:
    return SpeechSink(voices, output, VoiceOptions(**options), clock=clock)


def test_only_final_english_that_is_not_a_draft_is_said() -> None:
    clock = FakeClock()
    output = FakeOutput(clock)
    voice = FakeVoice()
    sink = sink_with({"en": voice}, output, clock)
    for event in (Transcript(1, "你好", "", 0.0, 1.0, True, 1.0),
                  caption(1, "Hello there", final=False),
                  caption(1, "Hello there."),
                  caption(2, "Tell her I agree.", draft=True),
                  caption(3, "你好，我同意。", source_language="en"),  # Chinese: no voice
                  caption(4, "   "),
                  StreamEnd(5.0)):
        sink.handle(event)
    sink.close()
    assert voice.calls == ["Hello there."]
    assert [(uid, done) for uid, _, done in output.played] == [(1, True)]
    assert [item.text for item in sink.said] == ["Hello there."]
    assert output.closed


def test_chinese_is_said_when_a_chinese_voice_is_configured() -> None:
    clock = FakeClock()
    output = FakeOutput(clock)
    chinese = FakeVoice(language="zh", name="remote-zh")
    sink = sink_with({"en": FakeVoice(), "zh": chinese}, output, clock)
    sink.handle(caption(7, "你好，我同意。", source_language="en"))
    sink.close()
    assert chinese.calls == ["你好，我同意。"]
    assert [item.language for item in sink.said] == ["zh"]


def test_a_newer_caption_cuts_speech_that_talks_over_it_too_long() -> None:
    clock = FakeClock()
    output = FakeOutput(clock)
    sink = sink_with({"en": FakeVoice()}, output, clock, cut_after_s=1.0)
    # item 1 lasts 4 s; item 2 arrives at 0.5 s: item 1 is cut 1 s later
    output.at = {0.5: lambda: sink.handle(caption(2, "second"))}
    sink.handle(caption(1, "x" * 40))
    sink.close()
    assert output.played == [(1, 1.5, False), (2, 0.6, True)]
    assert sink.queue.cut == 1 and sink.queue.dropped == 0


def test_speech_two_captions_behind_is_cut_or_skipped() -> None:
    clock = FakeClock()
    output = FakeOutput(clock)
    sink = sink_with({"en": FakeVoice()}, output, clock, cut_after_s=1.0)
    # item 1 (4 s) is cut as soon as it is two captions behind (item 3 at 0.6 s); item 2,
    # one behind, may start, and is cut when it has talked over item 3 for 1 s
    output.at = {0.5: lambda: sink.handle(caption(2, "second " * 3)),
                 0.6: lambda: sink.handle(caption(3, "third"))}
    sink.handle(caption(1, "x" * 40))
    sink.close()
    assert output.played == [(1, 0.6, False), (2, 1.0, False), (3, 0.5, True)]
    assert sink.queue.cut == 2
    # and one arriving while three newer ones wait is never said
    sink = sink_with({"en": FakeVoice()}, output, clock)
    output.played.clear()
    output.at = {clock() + 0.1: lambda: [sink.handle(caption(n, f"item {n}"))
                                         for n in (11, 12, 13)]}
    sink.handle(caption(10, "x" * 10))
    sink.close()
    assert [uid for uid, _, _ in output.played] == [10, 12, 13]
    assert sink.queue.dropped == 1


def test_a_failing_voice_warns_once_and_speech_goes_on(caplog: pytest.LogCaptureFixture
                                                       ) -> None:
    clock = FakeClock()
    output = FakeOutput(clock)
    sink = sink_with({"en": FakeVoice()}, output, clock)
    with caplog.at_level(logging.WARNING):
        for number, text in enumerate(["FAIL one", "FAIL two", "fine"], start=1):
            sink.handle(caption(number, text))
            time.sleep(0.05)
        sink.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "the fake voice is down" in warnings[0]
    assert [item.text for item in sink.said] == ["fine"]


def test_close_does_not_wait_with_close_wait_zero() -> None:
    clock = FakeClock()
    gate = threading.Event()

    class SlowVoice(FakeVoice):
        def synthesize(self, text: str) -> tuple[AudioArray, int]:
            gate.wait(5.0)
            return super().synthesize(text)

    output = FakeOutput(clock)
    sink = SpeechSink({"en": SlowVoice()}, output, VoiceOptions(), close_wait_s=0.0,
                      clock=clock)
    sink.handle(caption(1, "Hello."))
    started = time.monotonic()
    sink.close()
    assert time.monotonic() - started < 0.5
    gate.set()
    sink._thread.join(5.0)
    assert not sink._thread.is_alive() and output.closed
    assert output.played == []  # stopped: what was being made is not said


@dataclass
class SentenceVoice(FakeVoice):
    """A fake voice that says a caption sentence by sentence (split after ". ")."""

    def sentences(self, text: str) -> list[str]:
        return text.replace(". ", ".\n").split("\n")


def test_a_caption_is_said_a_sentence_at_a_time_the_next_made_while_one_plays() -> None:
    """The whole caption was synthesised before its first word was heard: with three
    sentences, the wearer waited for all three to be made."""
    clock = FakeClock()
    first_playing = threading.Event()
    overlapped: list[bool] = []

    class Voice(SentenceVoice):
        def synthesize(self, text: str) -> tuple[AudioArray, int]:
            if self.calls:  # a later sentence: made while the one before plays
                overlapped.append(first_playing.wait(5.0))
            return super().synthesize(text)

    class Output(FakeOutput):
        def play(self, item: SpeechItem, samples: AudioArray, sample_rate_hz: int,
                 interrupted: Callable[[], bool]) -> bool:
            first_playing.set()
            time.sleep(0.05)  # real time for the next sentence to start being made
            return super().play(item, samples, sample_rate_hz, interrupted)

    output = Output(clock)
    voice = Voice()
    texts = ["We met at noon.", "The train was late.", "x" * 40]
    sink = sink_with({"en": voice}, output, clock, max_wait_s=2.0)
    sink.handle(caption(1, " ".join(texts)))
    sink.close()
    assert voice.calls == texts and overlapped == [True, True]
    # each said whole, the later ones after the voice's pause between sentences; the
    # last starts 3.55 s after the caption came, past max_wait_s, and is still said
    assert output.played == [(1, 1.5, True), (1, 2.05, True), (1, 4.15, True)]
    assert [item.text for item in sink.said] == [" ".join(texts)]


def test_a_newer_caption_cuts_a_caption_between_its_sentences() -> None:
    clock = FakeClock()
    output = FakeOutput(clock)
    sink = sink_with({"en": SentenceVoice()}, output, clock, cut_after_s=0.98)
    output.at = {0.4: lambda: sink.handle(caption(2, "second"))}
    sink.handle(caption(1, "One two three. Four five six seven. Eight nine."))
    sink.close()
    # sentence 1 (1.4 s) has talked over caption 2 for cut_after_s when it ends: the rest
    # of caption 1 is not said
    assert output.played == [(1, 1.4, True), (2, 0.6, True)]
    assert sink.queue.cut == 1 and [item.utterance_id for item in sink.said] == [2]


def test_a_voice_failing_on_a_later_sentence_ends_that_caption_only(
        caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    output = FakeOutput(clock)
    sink = sink_with({"en": SentenceVoice()}, output, clock)
    with caplog.at_level(logging.WARNING):
        sink.handle(caption(1, "Fine words. FAIL here. Never said."))
        time.sleep(0.2)
        sink.handle(caption(2, "Next caption."))
        sink.close()
    assert [uid for uid, _, _ in output.played] == [1, 2]
    assert [item.utterance_id for item in sink.said] == [2]
    assert "the fake voice is down" in caplog.text


def test_a_voice_that_cannot_split_a_caption_skips_that_caption_only() -> None:
    class Voice(SentenceVoice):
        def sentences(self, text: str) -> list[str]:
            if "FAIL" in text:
                raise BackendError("cannot split")
            return super().sentences(text)

    clock = FakeClock()
    output = FakeOutput(clock)
    sink = sink_with({"en": Voice()}, output, clock)
    sink.handle(caption(1, "FAIL to split. Here."))
    time.sleep(0.1)
    sink.handle(caption(2, "Next caption."))
    sink.close()
    assert [item.utterance_id for item in sink.said] == [2]


# --- the device output, with a fake PortAudio ----------------------------------------------


class FakeStream:
    def __init__(self, samplerate: int, **_: Any) -> None:
        self.samplerate = samplerate
        self.written: list[np.ndarray] = []

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...

    def write(self, data: np.ndarray) -> None:
        self.written.append(np.array(data))


def fake_sounddevice(rates: set[int], devices: bool = True) -> types.ModuleType:
    module = types.ModuleType("sounddevice")

    class PortAudioError(Exception):
        pass

    def query_devices(device: Any = None, kind: str = "") -> dict[str, Any]:
        if not devices:
            raise PortAudioError("Error querying device -1")
        return {"name": "fake", "default_samplerate": 48_000.0}

    def check_output_settings(*, samplerate: int, **_: Any) -> None:
        if samplerate not in rates:
            raise PortAudioError("Invalid sample rate")

    module.PortAudioError = PortAudioError  # type: ignore[attr-defined]
    module.query_devices = query_devices  # type: ignore[attr-defined]
    module.check_output_settings = check_output_settings  # type: ignore[attr-defined]
    module.OutputStream = FakeStream  # type: ignore[attr-defined]
    return module


def item(uid: int = 1) -> SpeechItem:
    return SpeechItem(uid, "text", "en", 0.0)


def test_device_output_plays_at_the_voice_rate_or_resamples(
        monkeypatch: pytest.MonkeyPatch) -> None:
    tone = (0.5 * np.sin(np.arange(22_050) / 7)).astype(np.float32)
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice({22_050, 48_000}))
    output = DeviceOutput()
    assert output.play(item(), tone, 22_050, lambda: False)
    stream = output._stream
    assert stream.samplerate == 22_050
    assert np.array_equal(np.concatenate(stream.written), tone)
    output.close()
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice({48_000}))
    output = DeviceOutput()
    assert output.play(item(), tone, 22_050, lambda: False)
    assert output._stream.samplerate == 48_000
    assert abs(sum(len(block) for block in output._stream.written) - 48_000) <= 2


def test_device_output_cut_fades_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice({16_000}))
    output = DeviceOutput()
    calls = iter(range(100))
    tone = np.full(16_000, 0.5, dtype=np.float32)
    # asked before anything is played, then before each 50 ms block: cut before the third
    assert not output.play(item(), tone, 16_000, lambda: next(calls) >= 3)
    blocks = output._stream.written
    assert [len(block) for block in blocks] == [800, 800, 160]
    assert blocks[-1][0] == pytest.approx(0.5) and blocks[-1][-1] == pytest.approx(0.0)


def test_no_output_device_is_one_warning_and_no_sink(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice(set(), devices=False))
    with pytest.raises(AudioError, match="no audio output device"):
        DeviceOutput()
    with caplog.at_level(logging.WARNING):
        assert device_speech_sink(VoiceOptions(speak=True), {"en": FakeVoice()}) is None
    [record] = caplog.records
    assert record.getMessage().startswith("not speaking: no audio output device")


def test_missing_portaudio_is_one_warning(monkeypatch: pytest.MonkeyPatch,
                                          caplog: pytest.LogCaptureFixture) -> None:
    def broken(name: str) -> Any:
        raise OSError("PortAudio library not found")

    monkeypatch.setattr("hudtranslate.speech_out.sinks.importlib.import_module", broken)
    with caplog.at_level(logging.WARNING):
        assert device_speech_sink(VoiceOptions(speak=True), {"en": FakeVoice()}) is None
    [record] = caplog.records
    assert "PortAudio library not found" in record.getMessage()
    assert "apt install libportaudio2" in record.getMessage()


def test_missing_voice_is_one_warning(monkeypatch: pytest.MonkeyPatch,
                                      caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "sanotts", None)
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice({22_050}))
    with caplog.at_level(logging.WARNING):
        assert device_speech_sink(VoiceOptions(speak=True)) is None
    [record] = caplog.records
    assert record.getMessage() == ("not speaking English: the English voice is not "
                                   "installed: pip install 'hudtranslate[voice]'")


@pytest.mark.parametrize("missing", VOICE_MODULES)
def test_missing_voice_and_speaker_are_both_said_voice_first(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        missing: str) -> None:
    """Only the missing speaker was reported: the user learned of the missing voice extra
    only after connecting one."""
    monkeypatch.setitem(sys.modules, missing, None)
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice(set(), devices=False))
    with caplog.at_level(logging.WARNING):
        assert device_speech_sink(VoiceOptions(speak=True)) is None
    voice, speaker = (record.getMessage() for record in caplog.records)
    assert voice == f"not speaking English: {VOICE_MISSING}"
    assert "pip install 'hudtranslate[voice]'" in voice
    assert speaker.startswith("not speaking: no audio output device")


def test_with_the_voice_installed_only_the_speaker_is_missing(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    for name in VOICE_MODULES:
        pytest.importorskip(name, reason="the voice extra is not installed")
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice(set(), devices=False))
    with caplog.at_level(logging.WARNING):
        assert device_speech_sink(VoiceOptions(speak=True)) is None
    [record] = caplog.records
    assert record.getMessage().startswith("not speaking: no audio output device")


def test_speak_flag_and_settings() -> None:
    from hudtranslate.cli import build_parser, settings_from_args

    for argv in (["file", "x.wav", "--speak"], ["live", "--speak"], ["demo", "--speak"],
                 ["serve", "--speak"]):
        assert settings_from_args(build_parser().parse_args(argv)).voice.speak, argv
    assert not settings_from_args(build_parser().parse_args(["file", "x.wav"])).voice.speak
    settings = Settings.load(env={"HUDTRANSLATE_VOICE_CUT_AFTER_S": "1.5",
                                  "HUDTRANSLATE_VOICE_SPEAK": "1"})
    assert settings.voice.cut_after_s == 1.5 and settings.voice.speak
    with pytest.raises(ConfigError, match=r"voice\.zh_url"):
        VoiceOptions(zh_url="ftp://x")


# --- the remote (Chinese) voice against a loopback fake server ----------------------------


@dataclass
class FakeSpeechServer:
    behaviour: str = "wav"
    requests: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


TONE = (0.25 * np.sin(np.arange(24_000) / 9)).astype(np.float32)


@pytest.fixture
def speech_server() -> Iterator[tuple[str, FakeSpeechServer]]:
    state = FakeSpeechServer()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append((self.path, body, self.headers.get("Authorization", "")))
            if state.behaviour == "hang":
                time.sleep(2.0)
                return
            if state.behaviour == "error":
                self.send_response(503)
                self.end_headers()
                self.wfile.write(b'{"error": "model loading"}')
                return
            data = (wav_bytes(TONE, 24_000) if state.behaviour == "wav"
                    else b"x" * 5000 if state.behaviour == "huge" else b"not audio")
            self.send_response(200)
            self.send_header("Content-Type", "audio/wav")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None: ...

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", state
    finally:
        server.shutdown()
        server.server_close()


def test_remote_voice_says_chinese(speech_server: tuple[str, FakeSpeechServer]) -> None:
    url, state = speech_server
    voice = RemoteVoice(RemoteVoiceOptions(url, "tts-zh", "xiaoxiao", api_key="k1",
                                           timeout_ms=3000))
    samples, rate = voice.synthesize("你好，我同意。")
    assert rate == 24_000 and samples.dtype == np.float32
    assert np.allclose(samples, TONE, atol=1 / 16_000)
    [(path, body, auth)] = state.requests
    assert path == "/v1/audio/speech" and auth == "Bearer k1"
    assert body == {"model": "tts-zh", "input": "你好，我同意。", "voice": "xiaoxiao",
                    "response_format": "wav"}
    assert voice.language == "zh"


@pytest.mark.parametrize(("behaviour", "message"), [
    ("error", "HTTP 503"), ("hang", "timed out"), ("garbage", "cannot be read"),
    ("huge", "over 1000 bytes"),
])
def test_remote_voice_failures_are_one_line(speech_server: tuple[str, FakeSpeechServer],
                                            behaviour: str, message: str) -> None:
    url, state = speech_server
    state.behaviour = behaviour
    voice = RemoteVoice(RemoteVoiceOptions(url, timeout_ms=500, max_bytes=1000))
    started = time.monotonic()
    with pytest.raises(BackendError, match=message):
        voice.synthesize("你好")
    assert time.monotonic() - started < 1.5


def test_remote_voice_unreachable_and_urls() -> None:
    voice = RemoteVoice(RemoteVoiceOptions("http://127.0.0.1:9/v1", timeout_ms=500))
    with pytest.raises(BackendError, match=r"cannot reach|timed out"):
        voice.synthesize("你好")
    assert RemoteVoiceOptions("http://h:1").path == "/v1/audio/speech"
    assert RemoteVoiceOptions("http://h:1/api/v1/").path == "/api/v1/audio/speech"
    assert RemoteVoiceOptions("http://h:1/x/audio/speech").path == "/x/audio/speech"
    with pytest.raises(ConfigError):
        RemoteVoiceOptions("localhost:8000")


def test_file_speak_wires_the_sink_into_the_run(tmp_path: Any, monkeypatch: pytest.MonkeyPatch
                                                ) -> None:
    """``hudtranslate file --speak``: every final caption reaches the speaking sink."""
    from hudtranslate.cli import main
    from hudtranslate.pipeline import Engines
    from hudtranslate.testing import FakeBackend, FakeDecoder, FakeVad, fake_english
    from hudtranslate.testing import tone_and_silence as tones

    script = ["我们走吧。", "今天下雨了吗？"]
    wav = tmp_path / "talk.wav"
    soundfile.write(wav, tones([(0.3, False), (1.5, True), (0.8, False), (1.5, True),
                                (0.8, False)]), 16_000)
    monkeypatch.setattr("hudtranslate.runner.load_engines", lambda settings: Engines(
        asr=FakeDecoder(script, chars_per_s=8.0), translator=FakeBackend(),
        vad_factory=FakeVad))
    clock = FakeClock()
    made: list[SpeechSink] = []

    def fake_sink(options: VoiceOptions) -> SpeechSink:
        assert options.speak
        made.append(SpeechSink({"en": FakeVoice()}, FakeOutput(clock), options, clock=clock))
        return made[0]

    monkeypatch.setattr("hudtranslate.speech_out.sinks.device_speech_sink", fake_sink)
    assert main(["file", str(wav), "--speak", "--out", str(tmp_path / "out")]) == 0
    assert [item.text for item in made[0].said] == [fake_english(line) for line in script]
    assert main(["file", str(wav), "--out", str(tmp_path / "out2")]) == 0
    assert len(made) == 1  # no --speak: no speaking sink
