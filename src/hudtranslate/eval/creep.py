"""Latency creep: does the system slow down over a long stream?

Queues that never drain, a context that keeps growing, a KV cache that is re-evaluated
more and more: each shows up as latency rising over time. The talks are looped into one
continuous stream of at least ``minutes`` and played at real-time pace through one
session; the last minute's median final latency is compared with the first minute's.

The stream is built so that its last minute *is* its first minute again (whole loops of
the talks, with the pauses between talks stretched to fit, then the first minute's
sentences once more): a difference between the two is then the system, not the content
(a noisy talk in the last minute would otherwise look like creep).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hudtranslate.eval.manifests import Segment, Talk
from hudtranslate.eval.metrics import percentile
from hudtranslate.events import SAMPLE_RATE_HZ, AudioArray

WINDOW_S = 60.0
MIN_GAP_S = 1.0


@dataclass(frozen=True)
class LoopedStream:
    """One long recording made of looped talks, with every sentence's new position."""

    samples: AudioArray
    segments: tuple[Segment, ...]
    loops: int
    minute_sentences: int
    """The first minute's sentences: the stream's first and last this many."""

    @property
    def duration_s(self) -> float:
        return len(self.samples) / SAMPLE_RATE_HZ


def loop_talks(talks: Sequence[Talk], audio: Sequence[AudioArray], minutes: float) -> LoopedStream:
    """Whole loops of ``talks`` (silence between talks stretched so the total fits), then
    the first talk's sentences that end within its first minute, cut after the last one.
    The result lasts at least ``minutes``."""
    if not talks:
        raise ValueError("latency creep needs at least one talk")
    head_segments = [s for s in talks[0].segments if s.end_s <= WINDOW_S]
    if not head_segments:
        raise ValueError(f"{talks[0].where}: no sentence ends within the first minute")
    head_s = min(head_segments[-1].end_s + MIN_GAP_S, talks[0].duration_s)
    speech_s = sum(talk.duration_s for talk in talks)
    target_s = minutes * 60.0
    loops = max(1, math.floor((target_s - head_s) / (speech_s + MIN_GAP_S * len(talks))))
    gap_s = max(MIN_GAP_S, ((target_s - head_s) / loops - speech_s) / len(talks))
    gap = np.zeros(round(gap_s * SAMPLE_RATE_HZ), dtype=np.float32)
    pieces: list[AudioArray] = []
    segments: list[Segment] = []
    position = 0
    for _ in range(loops):
        for talk, samples in zip(talks, audio, strict=True):
            segments += _shifted(talk.segments, position / SAMPLE_RATE_HZ)
            pieces += [samples, gap]
            position += len(samples) + len(gap)
    segments += _shifted(head_segments, position / SAMPLE_RATE_HZ)
    pieces.append(audio[0][: round(head_s * SAMPLE_RATE_HZ)])
    return LoopedStream(np.concatenate(pieces).astype(np.float32), tuple(segments), loops,
                        len(head_segments))


def _shifted(segments: Sequence[Segment], offset_s: float) -> list[Segment]:
    return [Segment(s.start_s + offset_s, s.end_s + offset_s, s.zh, s.en_refs) for s in segments]


def creep_summary(stream: LoopedStream, latencies: Sequence[float | None]) -> dict[str, Any]:
    """First vs last minute's median final latency (one per sentence of the stream, None
    for a sentence that got no English), and the whole stream's."""
    end_s = stream.duration_s
    count = stream.minute_sentences
    first = [value for value in latencies[:count] if value is not None]
    last = [value for value in latencies[-count:] if value is not None]
    found = [value for value in latencies if value is not None]
    first_p50, last_p50 = percentile(first, 50), percentile(last, 50)
    return {
        "duration_s": end_s,
        "loops": stream.loops,
        "first_minute_p50_s": first_p50,
        "last_minute_p50_s": last_p50,
        "last_to_first_ratio": last_p50 / first_p50 if first_p50 and last_p50 is not None
        else None,
        "minute_sentences": count,
        "first_minute_missed": count - len(first),
        "last_minute_missed": count - len(last),
        "final_latency_p50_s": percentile(found, 50),
        "final_latency_p95_s": percentile(found, 95),
        "final_latency_missed": len(latencies) - len(found),
        "per_minute_p50_s": _per_minute(latencies, stream.segments, end_s),
    }


def _per_minute(latencies: Sequence[float | None], segments: Sequence[Segment],
                end_s: float) -> list[float | None]:
    minutes = max(1, int(end_s // WINDOW_S))  # a last partial minute joins the one before
    buckets: list[list[float]] = [[] for _ in range(minutes)]
    for value, segment in zip(latencies, segments, strict=True):
        if value is not None:
            buckets[min(minutes - 1, int(segment.end_s // WINDOW_S))].append(value)
    return [percentile(bucket, 50) for bucket in buckets]


RSS_SAMPLE_S = 10.0
"""How often the resident memory is sampled during a creep stream."""
RSS_WARM_UP_MIN = 10
"""Memory growth is measured from this minute on (issue 10: between minute 10 and 60)."""


def current_rss_mb() -> float:
    """The process's resident memory now (Linux ``/proc/self/status``; 0 elsewhere)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def rss_summary(samples: Sequence[tuple[float, float]]) -> dict[str, Any]:
    """Resident memory per minute of the stream (the last sample of each minute, MB) and
    its growth from minute ``RSS_WARM_UP_MIN`` to the end (None for a shorter stream).
    ``samples``: (seconds since the stream started, MB)."""
    per_minute: dict[int, float] = {}
    for elapsed_s, megabytes in samples:
        per_minute[int(elapsed_s // WINDOW_S)] = megabytes
    minutes = [per_minute[minute] for minute in sorted(per_minute)]
    warm = per_minute.get(RSS_WARM_UP_MIN)
    return {
        "rss_mb_per_minute": minutes,
        "rss_growth_mb_after_warm_up": (minutes[-1] - warm
                                        if warm is not None and len(minutes) > RSS_WARM_UP_MIN + 1
                                        else None),
    }
