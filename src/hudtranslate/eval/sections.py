"""What the report's own sections (photos, voice) share: targets read from a table of
thresholds, and how their numbers are written in Markdown."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def threshold_targets(prefix: str, table: Mapping[str, tuple[str, float]],
                      summary: Mapping[str, Any]) -> dict[str, Any]:
    """Each target of ``table`` (name → (">=" or "<=", limit)) with the summary's value
    and whether it is met (None: not measured), named ``"{prefix} {name}"``."""
    out = {}
    for name, (sense, limit) in table.items():
        value = summary.get(name)
        met = None if value is None else (value >= limit if sense == ">=" else value <= limit)
        out[f"{prefix} {name}"] = {"target": f"{sense} {limit}", "value": value, "met": met}
    return out


def format_number(value: Any) -> str:
    """A table cell: "—" for None, three significant digits below 10, one decimal above."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3g}" if value < 10 else f"{value:.1f}"
    return str(value)
