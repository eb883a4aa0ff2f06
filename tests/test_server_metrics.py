"""Prometheus text output, JSON logs, the metrics sink and the token bucket."""

from __future__ import annotations

import json
import logging

import pytest

from hudtranslate.errors import ConfigError
from hudtranslate.events import StreamEnd, Transcript, Translation
from hudtranslate.observability import JsonFormatter, MetricsRegistry
from hudtranslate.server.limits import SessionLimits, TokenBucket
from hudtranslate.server.metrics import MetricsSink, ServerMetrics
from hudtranslate.testing import FakeBackend
from hudtranslate.translate.router import FallbackBackend

pytestmark = pytest.mark.timeout(30)


def test_registry_renders_the_prometheus_text_format() -> None:
    registry = MetricsRegistry()
    requests = registry.counter("app_requests_total", "Requests.", ("code",))
    open_now = registry.gauge("app_open", "Open now.")
    latency = registry.histogram("app_latency_seconds", "Latency.", ("model",),
                                 buckets=(0.5, 1.0))
    requests.inc(code="200")
    requests.inc(2, code="500")
    open_now.inc()
    open_now.inc()
    open_now.dec()
    for value in (0.2, 0.7, 3.0):
        latency.observe(value, model='big "q"')
    text = registry.render()
    assert text.endswith("\n")
    assert "# TYPE app_requests_total counter" in text
    assert 'app_requests_total{code="200"} 1\napp_requests_total{code="500"} 2' in text
    assert "# TYPE app_open gauge\napp_open 1" in text
    assert "# TYPE app_latency_seconds histogram" in text
    label = 'model="big \\"q\\""'
    assert f'app_latency_seconds_bucket{{{label},le="0.5"}} 1' in text
    assert f'app_latency_seconds_bucket{{{label},le="1"}} 2' in text
    assert f'app_latency_seconds_bucket{{{label},le="+Inf"}} 3' in text
    assert f"app_latency_seconds_sum{{{label}}} 3.9" in text
    assert f"app_latency_seconds_count{{{label}}} 3" in text
    assert latency.count(model='big "q"') == 3
    with pytest.raises(ValueError):
        requests.inc(code="200", extra="x")
    with pytest.raises(ValueError):
        requests.inc(-1, code="200")
    with pytest.raises(ValueError):
        registry.counter("app_open", "again")


def test_metrics_sink_measures_from_the_end_of_speech() -> None:
    metrics = ServerMetrics()
    sink = MetricsSink(metrics, speech_pad_s=0.3)
    sink.handle(Transcript(1, "你好", "", 0.0, 2.3, True, 2.5))
    sink.handle(Translation(1, "你好", "Hello", "", 0.0, 2.3, False, 2.6, model="local"))
    sink.handle(Translation(1, "你好", "Hello", "", 0.0, 2.3, True, 3.0, model="local"))
    sink.handle(StreamEnd(4.0))
    sink.close()
    assert metrics.translations.value(model="local") == 1
    assert metrics.final_latency.count(model="local") == 1
    text = metrics.render()
    assert 'hudtranslate_final_latency_seconds_sum{model="local"} 1' in text
    assert "hudtranslate_transcript_latency_seconds_sum 0.5" in text
    assert "hudtranslate_remote_healthy" not in text


class Remote(FakeBackend):
    def probe(self) -> bool:
        return True


def test_router_metrics_are_read_when_scraped() -> None:
    router = FallbackBackend(Remote(name="big"), FakeBackend(name="small"))
    metrics = ServerMetrics(router)
    router.translate("你好", [], forced_prefix="", max_new_tokens=8, cancelled=lambda: False)
    text = metrics.render()
    assert "hudtranslate_remote_healthy 1" in text
    assert "# TYPE hudtranslate_fallbacks_total counter\nhudtranslate_fallbacks_total 0" in text
    assert "hudtranslate_remote_ok_total 1" in text
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
