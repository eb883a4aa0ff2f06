"""The server's metrics (``GET /metrics``) and the sink that feeds them from a session.

Latency is measured as the HUD's users feel it: from the end of speech (the utterance's
end minus the VAD's trailing pad) to the final English, on the session's stream clock,
labelled with the model that translated it.
"""

from __future__ import annotations

from hudtranslate.events import StreamEnd, Transcript, Translation
from hudtranslate.observability import MetricsRegistry
from hudtranslate.translate.router import FallbackBackend
from hudtranslate.translate.translator import TranslationBackend


class ServerMetrics:
    """Every metric the server exports, in one registry."""

    def __init__(self, translator: TranslationBackend | None = None) -> None:
        self.registry = registry = MetricsRegistry()
        self.sessions_active = registry.gauge(
            "hudtranslate_sessions_active", "Wearer sessions open now.")
        self.sessions = registry.counter(
            "hudtranslate_sessions_total", "Wearer sessions ended, by how they ended.",
            ("outcome",))
        self.refused = registry.counter(
            "hudtranslate_connections_refused_total", "Connections refused, by reason.",
            ("reason",))
        self.protocol_errors = registry.counter(
            "hudtranslate_protocol_errors_total", "Error messages sent to clients, by code.",
            ("code",))
        self.audio_s = registry.counter(
            "hudtranslate_audio_seconds_total", "Seconds of wearer audio received.")
        self.translations = registry.counter(
            "hudtranslate_translations_total", "Final sentences translated, by model.",
            ("model",))
        self.final_latency = registry.histogram(
            "hudtranslate_final_latency_seconds",
            "End of speech to final English, by the model that translated.", ("model",))
        self.transcript_latency = registry.histogram(
            "hudtranslate_transcript_latency_seconds", "End of speech to final Chinese.")
        if isinstance(translator, FallbackBackend):
            self._add_router(translator)

    def _add_router(self, router: FallbackBackend) -> None:
        registry = self.registry
        registry.gauge("hudtranslate_remote_healthy",
                       "1 while sentences go to the remote model, 0 while to the local one.",
                       read=lambda: float(router.stats().healthy))
        registry.counter("hudtranslate_remote_ok_total",
                         "Translation requests the remote model answered.",
                         read=lambda: float(router.stats().primary_ok))
        registry.counter("hudtranslate_fallbacks_total",
                         "Remote failures (timeout, connection, HTTP) answered locally instead.",
                         read=lambda: float(router.stats().fallbacks))
        registry.counter("hudtranslate_remote_recoveries_total",
                         "Times the remote answered again after failing.",
                         read=lambda: float(router.stats().recoveries))

    def render(self) -> str:
        return self.registry.render()


class MetricsSink:
    """Pipeline sink: latencies and translations of one session into ``ServerMetrics``."""

    def __init__(self, metrics: ServerMetrics, speech_pad_s: float) -> None:
        self._metrics = metrics
        self._pad_s = speech_pad_s

    def handle(self, event: Transcript | Translation | StreamEnd) -> None:
        if isinstance(event, Translation) and event.final:
            model = event.model or "unknown"
            self._metrics.translations.inc(model=model)
            latency = event.emitted_s - (event.end_s - self._pad_s)
            self._metrics.final_latency.observe(max(0.0, latency), model=model)
        elif isinstance(event, Transcript) and event.final:
            latency = event.emitted_s - (event.end_s - self._pad_s)
            self._metrics.transcript_latency.observe(max(0.0, latency))

    def close(self) -> None:
        """Nothing to release."""
