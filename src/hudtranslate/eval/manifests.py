"""Benchmark inputs: talks, utterances and text references, read from JSON-lines manifests.

The format is the one of ``shared/data`` (see its README): one JSON object per line, wav
paths relative to the manifest's folder, English references as a list ``en_refs``. Every
problem is a ``DataError`` naming the file and line, found before any model runs, so a
20-minute benchmark never dies at minute 19 on a typo.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hudtranslate.audio import audio_duration_s
from hudtranslate.errors import AudioError, DataError
from hudtranslate.eval.cer import normalize_for_cer

AUDIO_SLACK_S = 0.01
"""A segment may end this far past the end of the audio (rounding of sample counts)."""


@dataclass(frozen=True)
class Segment:
    """One reference sentence of a talk: where it is spoken, what it says, its English."""

    start_s: float
    end_s: float
    zh: str
    en_refs: tuple[str, ...]

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class Talk:
    """A long recording read one sentence after another; ``where`` is ``file:line``."""

    id: str
    wav: Path
    duration_s: float
    segments: tuple[Segment, ...]
    where: str


@dataclass(frozen=True)
class Utterance:
    """A single-sentence recording."""

    id: str
    wav: Path
    duration_s: float
    zh: str
    en_refs: tuple[str, ...]
    where: str


@dataclass(frozen=True)
class TextItem:
    """A Chinese sentence and its English references (no audio). ``direction`` "zh-en"
    translates ``zh`` and scores against ``en_refs``; "en-zh" translates the first of
    ``en_refs`` and scores against ``zh``."""

    id: str
    zh: str
    en_refs: tuple[str, ...]
    where: str
    direction: str = "zh-en"


DIRECTIONS = ("zh-en", "en-zh")
"""Translation directions of a text item: source language, then target language."""


def load_talks(path: Path, limit: int | None = None) -> list[Talk]:
    """Talks of a ``talks.jsonl`` manifest, validated (timestamps against the audio)."""
    talks = [_talk(row, path, line) for line, row in _rows(path)]
    return _limited(talks, path, limit)


def load_utterances(path: Path, limit: int | None = None) -> list[Utterance]:
    """Utterances of an ``utterances.jsonl`` manifest, validated."""
    items = []
    for line, row in _rows(path):
        where = f"{path}:{line}"
        wav, duration_s = _audio(row, path, where)
        items.append(Utterance(_id(row, path, line), wav, duration_s, _chinese(row, where),
                               _refs(row, where), where))
    return _limited(items, path, limit)


def load_texts(path: Path, limit: int | None = None,
               direction: str = "zh-en") -> list[TextItem]:
    """Sentences of a text reference file (``text/*.jsonl``), validated. Each line's
    optional ``"direction"`` ("zh-en" or "en-zh") overrides ``direction``."""
    if direction not in DIRECTIONS:
        raise DataError(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
    items = []
    for line, row in _rows(path):
        where = f"{path}:{line}"
        way = row.get("direction", direction)
        if way not in DIRECTIONS:
            raise DataError(f"{where}: 'direction' must be one of {', '.join(DIRECTIONS)}, "
                            f"got {way!r}")
        items.append(TextItem(_id(row, path, line), _chinese(row, where), _refs(row, where),
                              where, way))
    return _limited(items, path, limit)


def _limited(items: list[Any], path: Path, limit: int | None) -> list[Any]:
    if not items:
        raise DataError(f"{path}: the manifest holds no entries")
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise DataError(f"{path}: id {item.id!r} appears more than once (reports are "
                            "keyed by id)")
        seen.add(item.id)
    return items[:limit] if limit is not None else items


def _rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; the whole file is read first."""
    if path.is_dir():
        raise DataError(f"{path}: a folder, not a manifest (name its .jsonl file)")
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()  # a BOM (Notepad) too
    except FileNotFoundError:
        raise DataError(f"{path}: manifest not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read manifest ({exc})") from None
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
        except RecursionError:
            raise DataError(f"{path}:{number}: not valid JSON (nested too deeply)") from None
        if not isinstance(row, dict):
            raise DataError(f"{path}:{number}: expected a JSON object, got {type(row).__name__}")
        yield number, row


def _id(row: dict[str, Any], path: Path, line: int) -> str:
    value = row.get("id")
    return str(value) if value not in (None, "") else f"{path.stem}-{line}"


def _text(row: dict[str, Any], key: str, where: str) -> str:
    value = row.get(key)
    if not isinstance(value, str) or not value.strip():
        raise DataError(f"{where}: missing or empty {key!r} (a non-empty string)")
    return value.strip()


def _chinese(row: dict[str, Any], where: str) -> str:
    """The reference Chinese; it must keep characters to score once CER has dropped
    punctuation and spaces (``eval.cer``)."""
    text = _text(row, "zh", where)
    if not normalize_for_cer(text):
        raise DataError(f"{where}: 'zh' {text!r} has nothing but punctuation and spaces")
    return text


def _refs(row: dict[str, Any], where: str) -> tuple[str, ...]:
    refs = row.get("en_refs")
    if not isinstance(refs, list) or not refs:
        raise DataError(f"{where}: missing references: 'en_refs' must be a non-empty list")
    if not all(isinstance(ref, str) and ref.strip() for ref in refs):
        raise DataError(f"{where}: every reference in 'en_refs' must be a non-empty string")
    # One line each: the aligner reads references line by line.
    return tuple(" ".join(ref.split()) for ref in refs)


def _number(value: Any, name: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DataError(f"{where}: {name} must be a number of seconds, got {value!r}")
    return float(value)


def _audio(row: dict[str, Any], manifest: Path, where: str) -> tuple[Path, float]:
    """The wav path (relative to the manifest's folder) and its length, read from the file."""
    name = row.get("wav")
    if not isinstance(name, str) or not name.strip():
        raise DataError(f"{where}: missing 'wav' (the audio path, relative to the manifest)")
    wav = manifest.parent / Path(name.strip()).expanduser()
    if not wav.is_file() and "\\" in name:  # a manifest written on Windows: sub\a.wav
        wav = manifest.parent / Path(name.strip().replace("\\", "/")).expanduser()
    if wav.is_dir():
        raise DataError(f"{where}: {str(wav)!r} is a folder: 'wav' names one audio file")
    if not wav.is_file():
        raise DataError(f"{where}: audio not found: {str(wav)!r}")
    try:
        return wav, audio_duration_s(wav)
    except AudioError as exc:
        raise DataError(f"{where}: cannot read audio {wav} ({exc})") from None


def _talk(row: dict[str, Any], path: Path, line: int) -> Talk:
    where = f"{path}:{line}"
    wav, duration_s = _audio(row, path, where)
    raw = row.get("segments")
    if not isinstance(raw, list) or not raw:
        raise DataError(f"{where}: missing references: 'segments' must be a non-empty list")
    segments: list[Segment] = []
    for index, item in enumerate(raw, start=1):
        at = f"{where}: segment {index}"
        if not isinstance(item, dict):
            raise DataError(f"{at}: expected an object with start_s, end_s, zh, en_refs")
        start_s = _number(item.get("start_s"), "start_s", at)
        end_s = _number(item.get("end_s"), "end_s", at)
        if start_s < 0:
            raise DataError(f"{at}: start_s {start_s} is negative")
        if end_s <= start_s:
            raise DataError(f"{at}: end_s {end_s} is not after start_s {start_s}")
        if end_s > duration_s + AUDIO_SLACK_S:
            raise DataError(f"{at}: end_s {end_s} is beyond the end of the audio "
                            f"({duration_s:.3f} s in {wav})")
        if segments and start_s < segments[-1].end_s:
            raise DataError(f"{at}: overlaps segment {index - 1} (starts at {start_s}, "
                            f"before its end {segments[-1].end_s}); segments must be in "
                            "order and must not overlap")
        segments.append(Segment(start_s, end_s, _chinese(item, at), _refs(item, at)))
    return Talk(_id(row, path, line), wav, duration_s, tuple(segments), where)
