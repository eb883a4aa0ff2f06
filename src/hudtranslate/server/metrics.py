"""The server's metrics (``GET /metrics``) and the sink that feeds them from a session.

Kept with ``prometheus_client``, each server (and each test's app) in a registry of its own,
not the library's global one, so that several apps in one process do not clash. Its
``_created`` series (a timestamp beside every counter and histogram) are switched off,
so the exposition has exactly the series it always had.

Latency is measured as the HUD's users feel it: from the end of speech (the utterance's
end minus the VAD's trailing pad) to the final English, on the session's stream clock,
labelled with the model that translated it.

Overload (``follow_load``): ``hudtranslate_load_level`` (0-3, ``overload.LoadLevel``),
``hudtranslate_backlog_seconds`` (the worst session's backlog, read when scraped) and
``hudtranslate_shed_total`` by kind of optional work not done.
"""

from __future__ import annotations

from collections.abc import Iterator

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hudtranslate.events import StreamEnd, Transcript, Translation
from hudtranslate.overload import ShedKind
from hudtranslate.sharing import SharedLoad
from hudtranslate.translate.router import FallbackBackend
from hudtranslate.translate.translator import TranslationBackend

LATENCY_BUCKETS_S = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 7.5, 10.0)
"""Around the 2-3 s a caption may lag speech; the library's default buckets are for web
requests (5 ms to 10 s, mostly under a second)."""

CONTENT_TYPE = prometheus_client.CONTENT_TYPE_PLAIN_0_0_4
"""What ``generate_latest`` writes (names that need no escaping): the text format 0.0.4,
as the library's own HTTP handler labels it (its ``CONTENT_TYPE_LATEST`` says 1.0.0)."""


class ServerMetrics:
    """Every metric the server exports, in one registry of its own (``registry``)."""

    def __init__(self, translator: TranslationBackend | None = None) -> None:
        prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]  # module doc
        self.registry = registry = CollectorRegistry()
        self.sessions_active = Gauge(
            "hudtranslate_sessions_active", "Wearer sessions open now.", registry=registry)
        self.sessions = Counter(
            "hudtranslate_sessions_total", "Wearer sessions ended (after start), by how "
            "they ended.", ["outcome"], registry=registry)
        self.refused = Counter(
            "hudtranslate_connections_refused_total", "Connections that never became a "
            "session, by reason: capacity, unauthorized, or how one ended before start "
            "(bad_audio_format, idle_timeout, disconnected, ...).", ["reason"],
            registry=registry)
        self.protocol_errors = Counter(
            "hudtranslate_protocol_errors_total", "Error messages sent to clients, by code.",
            ["code"], registry=registry)
        self.audio_s = Counter(
            "hudtranslate_audio_seconds_total", "Seconds of wearer audio received.",
            registry=registry)
        self.translations = Counter(
            "hudtranslate_translations_total", "Final sentences translated, by model.",
            ["model"], registry=registry)
        self.final_latency = Histogram(
            "hudtranslate_final_latency_seconds",
            "End of speech to final English, by the model that translated.", ["model"],
            buckets=LATENCY_BUCKETS_S, registry=registry)
        self.transcript_latency = Histogram(
            "hudtranslate_transcript_latency_seconds", "End of speech to final Chinese.",
            buckets=LATENCY_BUCKETS_S, registry=registry)
        self.shed = Counter(
            "hudtranslate_shed", "Optional work not done because the server was behind, by "
            "kind: partial_translation, prepare (prompt prefill), partial_decode, beam "
            "(a final decoded greedily).", ["kind"], registry=registry)
        for kind in ShedKind:
            self.shed.labels(kind=kind.value)  # every kind exported from the start, at 0
        self.load_level = Gauge(
            "hudtranslate_load_level", "Optional work shed now: 0 none, 1 partial "
            "translations, 2 also partial decodes (finals only), 3 also final beams.",
            registry=registry)
        self.backlog = Gauge(
            "hudtranslate_backlog_seconds", "The worst session's backlog: how long the "
            "oldest unfinished input of its recognition and of its translation have "
            "waited, summed.", registry=registry)
        self.overflow_active = Gauge(
            "hudtranslate_overflow_active", "1 while finals go to the overflow model (the "
            "main translation model saturated), else 0.", registry=registry)
        if isinstance(translator, FallbackBackend):
            registry.register(RouterCollector(translator))

    def follow_load(self, load: SharedLoad) -> None:
        """Export ``load``'s level, backlog and overflow state (read when scraped)."""
        self.load_level.set_function(lambda: float(load.level))
        self.backlog.set_function(load.backlog_s)
        self.overflow_active.set_function(lambda: float(load.has_overflow and load.behind()))

    def count_shed(self, kind: ShedKind) -> None:
        self.shed.labels(kind=kind.value).inc()

    def render(self) -> bytes:
        """The exposition text (UTF-8) for ``GET /metrics``, served as ``CONTENT_TYPE``."""
        return prometheus_client.generate_latest(self.registry)

    def value(self, name: str, **labels: str) -> float | None:
        """One sample's value as it would be scraped (None if it has none yet)."""
        return self.registry.get_sample_value(name, labels)


class RouterCollector(Collector):
    """The fallback router's counts, read from ``FallbackBackend.stats()`` when scraped."""

    def __init__(self, router: FallbackBackend) -> None:
        self._router = router

    def collect(self) -> Iterator[Metric]:
        stats = self._router.stats()
        yield GaugeMetricFamily(
            "hudtranslate_remote_healthy",
            "1 while sentences go to the remote model, 0 while to the local one.",
            value=float(stats.healthy))
        yield CounterMetricFamily(
            "hudtranslate_remote_ok_total", "Translation requests the remote model answered.",
            value=stats.primary_ok)
        yield CounterMetricFamily(
            "hudtranslate_fallbacks_total",
            "Sentences the remote failed (timeout, connection, HTTP) or answered unusably, "
            "translated locally instead.", value=stats.fallbacks)
        yield CounterMetricFamily(
            "hudtranslate_remote_rejected_total",
            "Remote answers not shown (unfinished, cut off, empty, chatter, too long); each "
            "is also a fallback.", value=stats.rejected)
        yield CounterMetricFamily(
            "hudtranslate_remote_recoveries_total",
            "Times the remote answered again after failing.", value=stats.recoveries)


class MetricsSink:
    """Pipeline sink: latencies and translations of one session into ``ServerMetrics``."""

    def __init__(self, metrics: ServerMetrics, speech_pad_s: float) -> None:
        self._metrics = metrics
        self._pad_s = speech_pad_s

    def handle(self, event: Transcript | Translation | StreamEnd) -> None:
        if isinstance(event, Translation) and event.final:
            model = event.model or "unknown"
            self._metrics.translations.labels(model=model).inc()
            if event.draft:  # typed, not spoken: no end of speech to measure from
                return
            latency = event.emitted_s - (event.end_s - self._pad_s)
            self._metrics.final_latency.labels(model=model).observe(max(0.0, latency))
        elif isinstance(event, Transcript) and event.final and not event.draft:
            latency = event.emitted_s - (event.end_s - self._pad_s)
            self._metrics.transcript_latency.observe(max(0.0, latency))

    def close(self) -> None:
        """Nothing to release."""
