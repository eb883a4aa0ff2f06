"""The /metrics exposition (prometheus_client), JSON logs, the metrics sink, the token bucket."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.test_server_sessions import START, make_client, started_socket

from hudtranslate.errors import ConfigError
from hudtranslate.events import StreamEnd, Transcript, Translation
from hudtranslate.observability import JsonFormatter
from hudtranslate.server.limits import SessionLimits, TokenBucket
from hudtranslate.server.metrics import MetricsSink, ServerMetrics
from hudtranslate.testing import FakeBackend
from hudtranslate.translate.router import FallbackBackend

pytestmark = pytest.mark.timeout(30)


class Remote(FakeBackend):
    def probe(self) -> bool:
        return True


EXPOSED = {  # name: (type, label names): what /metrics has always exposed, plus rejected
    "hudtranslate_sessions_active": ("gauge", ()),
    "hudtranslate_sessions": ("counter", ("outcome",)),
    "hudtranslate_connections_refused": ("counter", ("reason",)),
    "hudtranslate_protocol_errors": ("counter", ("code",)),
    "hudtranslate_audio_seconds": ("counter", ()),
    "hudtranslate_translations": ("counter", ("model",)),
    "hudtranslate_final_latency_seconds": ("histogram", ("model",)),
    "hudtranslate_transcript_latency_seconds": ("histogram", ()),
    "hudtranslate_remote_healthy": ("gauge", ()),
    "hudtranslate_remote_ok": ("counter", ()),
    "hudtranslate_fallbacks": ("counter", ()),
    "hudtranslate_remote_rejected": ("counter", ()),
    "hudtranslate_remote_recoveries": ("counter", ()),
    "hudtranslate_shed": ("counter", ("kind",)),  # graceful overload (issue 10)
    "hudtranslate_load_level": ("gauge", ()),
    "hudtranslate_backlog_seconds": ("gauge", ()),
    "hudtranslate_overflow_active": ("gauge", ()),
}


def exposed(text: bytes) -> dict[str, tuple[str, tuple[str, ...]]]:
    families = {}
    for family in text_string_to_metric_families(text.decode("utf-8")):
        labels = {name for sample in family.samples for name in sample.labels} - {"le"}
        families[family.name] = (family.type, tuple(sorted(labels)))
    return families


def test_the_exposition_keeps_its_names_and_labels() -> None:
    router = FallbackBackend(Remote(name="big"), FakeBackend(name="small"))
    metrics = ServerMetrics(router)
    MetricsSink(metrics, speech_pad_s=0.3).handle(
        Translation(1, "你好", "Hello", "", 0.0, 2.3, True, 3.0, model="big"))
    MetricsSink(metrics, speech_pad_s=0.3).handle(Transcript(1, "你好", "", 0.0, 2.3, True, 2.5))
    metrics.sessions.labels(outcome="completed").inc()
    metrics.refused.labels(reason="capacity").inc()
    metrics.protocol_errors.labels(code="server_full").inc()
    metrics.sessions_active.inc()
    metrics.audio_s.inc(2.5)
    text = metrics.render()
    assert exposed(text) == EXPOSED
    assert b"_created" not in text  # the library's creation timestamps stay off
    assert b'hudtranslate_final_latency_seconds_bucket{le="1.5",model="big"} 1.0' in text
    assert b'hudtranslate_final_latency_seconds_bucket{le="+Inf",model="big"} 1.0' in text
    router.close()


def test_each_server_has_its_own_registry() -> None:
    """Two apps in one process (as in the tests) neither clash nor share counts."""
    first, second = ServerMetrics(), ServerMetrics()
    first.sessions.labels(outcome="completed").inc()
    assert first.value("hudtranslate_sessions_total", outcome="completed") == 1
    assert second.value("hudtranslate_sessions_total", outcome="completed") is None
    assert b"hudtranslate_remote_healthy" not in first.render()


def test_label_values_are_escaped() -> None:
    metrics = ServerMetrics()
    metrics.translations.labels(model='big "q"\n').inc()
    assert b'hudtranslate_translations_total{model="big \\"q\\"\\n"} 1.0' in metrics.render()
    [family] = [f for f in text_string_to_metric_families(metrics.render().decode())
                if f.name == "hudtranslate_translations"]
    assert family.samples[0].labels == {"model": 'big "q"\n'}


def test_metrics_sink_measures_from_the_end_of_speech() -> None:
    metrics = ServerMetrics()
    sink = MetricsSink(metrics, speech_pad_s=0.3)
    sink.handle(Transcript(1, "你好", "", 0.0, 2.3, True, 2.5))
    sink.handle(Translation(1, "你好", "Hello", "", 0.0, 2.3, False, 2.6, model="local"))
    sink.handle(Translation(1, "你好", "Hello", "", 0.0, 2.3, True, 3.0, model="local"))
    sink.handle(StreamEnd(4.0))
    sink.close()
    assert metrics.value("hudtranslate_translations_total", model="local") == 1
    assert metrics.value("hudtranslate_final_latency_seconds_count", model="local") == 1
    assert metrics.value("hudtranslate_final_latency_seconds_sum",
                         model="local") == pytest.approx(1.0)
    assert metrics.value("hudtranslate_transcript_latency_seconds_sum") == pytest.approx(0.5)
    assert b"hudtranslate_remote_healthy" not in metrics.render()


def test_router_metrics_are_read_when_scraped() -> None:
    router = FallbackBackend(Remote(name="big"), FakeBackend(name="small"))
    metrics = ServerMetrics(router)
    assert metrics.value("hudtranslate_remote_ok_total") == 0
    router.translate("你好", [], forced_prefix="", max_new_tokens=8, cancelled=lambda: False)
    text = metrics.render()
    assert b"hudtranslate_remote_healthy 1.0" in text
    assert b"# TYPE hudtranslate_fallbacks_total counter\nhudtranslate_fallbacks_total 0.0" in text
    assert metrics.value("hudtranslate_remote_ok_total") == 1
    assert metrics.value("hudtranslate_remote_rejected_total") == 0
    router.close()


def test_json_log_lines_carry_extra_fields() -> None:
    record = logging.LogRecord("hudtranslate.server", logging.INFO, __file__, 1,
                               "session %s started", ("abc",), None)
    record.session_id = "abc"
    record.latency_s = 1.25
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "session abc started" and line["level"] == "info"
    assert line["session_id"] == "abc" and line["latency_s"] == 1.25
    assert line["logger"] == "hudtranslate.server" and line["ts"].endswith("Z")
    assert "args" not in line and "msecs" not in line


def test_token_bucket_allows_bursts_then_the_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=1.0, burst=2.0, clock=lambda: now[0])
    assert bucket.take(1.5)
    assert not bucket.take(1.0)
    now[0] = 0.5
    assert bucket.take(1.0)
    now[0] = 100.0
    assert bucket.take(2.0) and not bucket.take(0.1)


def test_limits_are_checked() -> None:
    with pytest.raises(ConfigError, match="max_sessions"):
        SessionLimits(max_sessions=0)
    with pytest.raises(ConfigError, match="even"):
        SessionLimits(max_frame_bytes=3201)


async def test_connections_that_never_start_a_session_are_refusals_not_sessions(
        tmp_path: Path) -> None:
    """A bad handshake, a wearer gone or silent before ``start``: no session began, so
    none ended; over capacity was already counted this way."""
    client, manager = await make_client(tmp_path, limits=SessionLimits(idle_timeout_s=0.5))
    try:
        bad = await client.ws_connect("/ws/audio")
        await bad.send_json({**START, "sample_rate_hz": 8000})
        gone = await client.ws_connect("/ws/audio")
        await gone.close()
        idle = await client.ws_connect("/ws/audio")
        for socket in (bad, idle):
            while (await socket.receive(timeout=5)).type is aiohttp.WSMsgType.TEXT:
                pass
        started, _ = await started_socket(client)
        await started.send_json({"type": "end"})
        while (await started.receive(timeout=5)).type is aiohttp.WSMsgType.TEXT:
            pass
        for _ in range(100):
            if manager.active == 0:
                break
            await asyncio.sleep(0.05)
        metrics = manager.metrics
        assert metrics.value("hudtranslate_sessions_total", outcome="completed") == 1
        for outcome in ("bad_audio_format", "disconnected", "idle_timeout"):
            assert metrics.value("hudtranslate_sessions_total", outcome=outcome) is None
            assert metrics.value("hudtranslate_connections_refused_total", reason=outcome) == 1
    finally:
        await client.close()
