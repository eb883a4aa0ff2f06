"""Subtitle and data exports of a finished session: SRT, WebVTT and JSONL.

Cues follow the caption rules: at most two lines of 42 columns, up long enough to read
(pacing.min_display_s), never overlapping the next cue. A sentence too long for one cue is
split into consecutive cues that share its time span in proportion to their length. All
timing is done in integer milliseconds so that formatting never makes two cues touch.
A sentence heard is cut short by the next one (down to ``MIN_CUE_MS``) to stay with its
audio; one without a span of its own (a typed draft: start = end, all at 0 s when typed
before any audio) has no audio to keep up with, so it keeps its reading time and the
next cue starts after it.
Timing and wrapping are ours (the caption rules); the files are written by the ``srt``
and ``webvtt-py`` libraries (0.6 or later: 0.5 refuses times of 100 hours and more; both
MIT). Past 99:59:59 the hours grow to three digits rather than the export refusing: a
subtitle user with a recording that long wants all of it subtitled, WebVTT allows hours of
two or more digits, and SRT has no formal limit (the srt library reads them back).

A conversation (``--mode converse``) has two speakers: the other person's Mandarin with
its English, and the wearer's English with the Chinese it became. Records say which
(``source_language``; ``draft`` for a message the wearer dictated or typed), and a
session with any of the wearer's records marks every cue with its speaker: WebVTT with a
voice span (``<v Partner>``, ``<v Wearer>``, ``<v.draft Wearer>``: the WebVTT standard's
way), SRT with a "Partner: " / "Wearer: " / "Wearer (draft): " prefix on the first cue
of each sentence. Cues are English first (the partner's translated, the wearer's own
words), the Chinese under it when bilingual. A session of the other person alone is
written exactly as before.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TypeAlias

import srt
import webvtt

from hudtranslate.captions.pacing import min_display_s
from hudtranslate.captions.text import (
    display_width,
    line_start_text,
    same_words,
    wrap_text,
)
from hudtranslate.events import Translation, target_language_for

CUE_MAX_COLUMNS = 42
CUE_MAX_LINES = 2
MIN_CUE_MS = 100
"""No cue is shorter than this, even when the next sentence starts right away."""
GAP_MS = 1
"""Space between one cue's end and the next cue's start."""


MAX_TIME_S = 10_000 * 3600.0
"""The latest time a transcript file may hold: 10,000 hours, over a year of one session.
Later, NaN or infinite times are damage, not speech. Not SRT's two-digit 99:59:59: the
exports write longer sessions, so a session of 100 hours or more must read back."""
LANGUAGES = ("zh", "en")
SPEAKERS = {"zh": "Partner", "en": "Wearer"}
"""Who speaks each source language in a conversation: the other person, the wearer."""


@dataclass(frozen=True, slots=True)
class TranscriptRecord:
    """One final sentence as stored in the session JSONL: times, Chinese, English, model,
    and which way it went: ``source_language`` "zh" (the other person's Mandarin, the
    default) or "en" (the wearer's English); ``draft``: a message the wearer dictated.
    ``zh`` and ``en`` hold the Chinese and the English whichever was said."""

    index: int
    start_s: float
    end_s: float
    zh: str
    en: str
    model: str = ""
    source_language: str = "zh"
    draft: bool = False

    @property
    def target_language(self) -> str:
        return target_language_for(self.source_language)

    @property
    def speaker(self) -> str:
        """"Partner" or "Wearer" (``SPEAKERS``)."""
        return SPEAKERS[self.source_language]

    @classmethod
    def from_translation(cls, translation: Translation, index: int) -> TranscriptRecord:
        """Record a translation's full text (committed + tentative) and its source."""
        target, source = translation.text, translation.source.strip()
        english_source = translation.source_language == "en"
        return cls(
            index=index,
            start_s=round(translation.start_s, 3),
            end_s=round(translation.end_s, 3),
            zh=target if english_source else source,
            en=source if english_source else target,
            model=translation.model,
            source_language=translation.source_language,
            draft=translation.draft,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> TranscriptRecord:
        """Parse one JSON object; ValueError names the field that is missing or wrong."""
        index = data.get("index")
        if not isinstance(index, int) or isinstance(index, bool):
            raise ValueError("'index' must be an integer")
        times = []
        for key in ("start_s", "end_s"):
            value = data.get(key)
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise ValueError(f"{key!r} must be a number")
            if not math.isfinite(value) or not 0 <= value <= MAX_TIME_S:
                raise ValueError(f"{key!r} must be a time from 0 to {MAX_TIME_S:.0f} s, "
                                 f"got {value}")
            times.append(float(value))
        texts = []
        for key in ("zh", "en", "model"):
            value = data.get(key, "")
            if not isinstance(value, str):
                raise ValueError(f"{key!r} must be a string")
            texts.append(value)
        source = data.get("source_language", "zh")  # absent: written before conversations
        if source not in LANGUAGES:
            raise ValueError(f"'source_language' must be one of {', '.join(LANGUAGES)}")
        record = cls(index, times[0], times[1], texts[0], texts[1], texts[2], str(source))
        target = data.get("target_language", record.target_language)
        if target != record.target_language:
            raise ValueError(f"'target_language' must be {record.target_language!r} for "
                             f"source_language {source!r}")
        draft = data.get("draft", False)
        if not isinstance(draft, bool):
            raise ValueError("'draft' must be true or false")
        return replace(record, draft=draft)

    @property
    def two_way(self) -> bool:
        """Not the default direction (zh → en, said aloud): the record says which it is."""
        return self.source_language != "zh" or self.draft

    def to_json(self) -> str:
        """One JSON line (no newline); Chinese kept readable, not \\u-escaped. The
        direction fields are written when they differ from the default (zh → en, not a
        draft), so transcripts of the other person alone stay as they were."""
        fields: dict[str, object] = {
            "index": self.index,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "zh": self.zh,
            "en": self.en,
            "model": self.model,
        }
        if self.two_way:
            fields.update(source_language=self.source_language,
                          target_language=self.target_language, draft=self.draft)
        return json.dumps(fields, ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Cue:
    """One subtitle cue, timed in milliseconds. ``voice``: who speaks ("" when the session
    has one speaker), ``draft``: the wearer's drafted message."""

    index: int
    start_ms: int
    end_ms: int
    lines: tuple[str, ...]
    voice: str = ""
    draft: bool = False

    @property
    def start_s(self) -> float:
        return self.start_ms / 1000

    @property
    def end_s(self) -> float:
        return self.end_ms / 1000


Sentence: TypeAlias = Translation | TranscriptRecord


def as_records(sentences: Iterable[Sentence]) -> list[TranscriptRecord]:
    """Records for ``sentences``; translations are numbered 1, 2, ... in the order given."""
    records: list[TranscriptRecord] = []
    for number, sentence in enumerate(sentences, start=1):
        if isinstance(sentence, Translation):
            records.append(TranscriptRecord.from_translation(sentence, number))
        else:
            records.append(sentence)
    return records


def build_cues(
    sentences: Iterable[Sentence],
    bilingual: bool = False,
    max_columns: int = CUE_MAX_COLUMNS,
    max_lines: int = CUE_MAX_LINES,
    *,
    label_speakers: bool = False,
) -> list[Cue]:
    """Time and wrap ``sentences`` into cues; sentences without English are skipped.

    With ``bilingual`` the Chinese is added below the English of each cue. In a
    conversation (any of the wearer's records) each cue names its ``voice``, and with
    ``label_speakers`` the first cue of each sentence starts with it ("Wearer: ").
    """
    records = sorted(
        (record for record in as_records(sentences) if line_start_text(record.en)),
        key=lambda record: record.start_s,
    )
    conversation = any(record.source_language != "zh" for record in records)
    cues: list[Cue] = []
    prev_end_ms = -GAP_MS
    for number, record in enumerate(records):
        voice = record.speaker if conversation else ""
        said = line_start_text(record.en)
        english = said
        if voice and label_speakers:
            english = f"{voice}{' (draft)' if record.draft else ''}: {said}"
        en_lines = wrap_text(english, max_columns)
        parts = math.ceil(len(en_lines) / max_lines)
        start_ms = max(_ms(record.start_s), prev_end_ms + GAP_MS, 0)
        end_ms = max(_ms(record.end_s), start_ms + _ms(min_display_s(said)))
        if number + 1 < len(records) and record.end_s > record.start_s:
            end_ms = min(end_ms, _ms(records[number + 1].start_s) - GAP_MS)
        end_ms = max(end_ms, start_ms + parts * (MIN_CUE_MS + GAP_MS) - GAP_MS)
        shown_zh = bilingual and not same_words(record.zh, said)
        zh_lines = wrap_text(record.zh, max_columns) if shown_zh else []
        en_chunks = _balanced(english, parts, max_columns, max_lines) or [
            _share(en_lines, k, parts) for k in range(parts)]
        chunks = [tuple(en_chunks[k]) + tuple(_share(zh_lines, k, parts)) for k in range(parts)]
        weights = [display_width(" ".join(en_chunks[k])) for k in range(parts)]
        for (chunk_start, chunk_end), lines in zip(
            _split_span(start_ms, end_ms, weights), chunks, strict=True
        ):
            cues.append(Cue(len(cues) + 1, chunk_start, chunk_end, lines, voice, record.draft))
        prev_end_ms = end_ms
    return cues


def to_srt(sentences: Iterable[Sentence], bilingual: bool = False) -> str:
    """SubRip text: numbered cues with ``HH:MM:SS,mmm`` times, each followed by a blank
    line ("" for no cues)."""
    subtitles = [
        srt.Subtitle(index=cue.index, start=timedelta(milliseconds=cue.start_ms),
                     end=timedelta(milliseconds=cue.end_ms), content="\n".join(cue.lines))
        for cue in build_cues(sentences, bilingual, label_speakers=True)
    ]
    return str(srt.compose(subtitles, reindex=False))


def to_vtt(sentences: Iterable[Sentence], bilingual: bool = False) -> str:
    """WebVTT text: the ``WEBVTT`` header, then numbered cues with ``HH:MM:SS.mmm`` times,
    separated by blank lines; ``&``, ``<`` and ``>`` in the text are escaped. In a
    conversation each cue starts with its voice span (``<v Wearer>``)."""
    captions = [
        webvtt.Caption(format_timestamp(cue.start_ms, "."), format_timestamp(cue.end_ms, "."),
                       _voice_tag(cue) + "\n".join(_vtt_escape(line) for line in cue.lines),
                       identifier=str(cue.index))
        for cue in build_cues(sentences, bilingual)
    ]
    return str(webvtt.WebVTT(captions=captions).content)


def to_jsonl(sentences: Iterable[Sentence]) -> str:
    """One JSON object a line; sentences with neither Chinese nor English are skipped."""
    return "".join(
        record.to_json() + "\n"
        for record in as_records(sentences)
        if record.zh.strip() or record.en.strip()
    )


def format_timestamp(milliseconds: int, decimal_sep: str) -> str:
    """``HH:MM:SS<sep>mmm``; hours grow past two digits rather than wrap."""
    seconds, millis = divmod(max(milliseconds, 0), 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{decimal_sep}{millis:03d}"


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _balanced(text: str, parts: int, max_columns: int, max_lines: int) -> list[list[str]]:
    """``text`` cut at spaces into ``parts`` pieces of about equal width, each wrapped to
    at most ``max_lines`` lines; [] when it is one piece or cannot be cut so. Sharing the
    wrapped lines instead had left "changed." alone in a last cue after two full lines."""
    words = text.split()
    if parts < 2 or len(words) < parts:
        return []
    total = display_width(" ".join(words))
    pieces: list[list[str]] = [[]]
    done = 0  # the width of the words placed so far, with their spaces
    for word in words:
        if pieces[-1] and len(pieces) < parts and done >= total * len(pieces) / parts:
            pieces.append([])
        pieces[-1].append(word)
        done += display_width(word) + 1
    wrapped = [wrap_text(" ".join(piece), max_columns) for piece in pieces]
    if len(wrapped) != parts or any(len(lines) > max_lines for lines in wrapped):
        return []
    return wrapped


def _share(lines: list[str], part: int, parts: int) -> list[str]:
    """The ``part``-th of ``parts`` nearly equal consecutive slices; earlier ones fuller."""
    count = len(lines)
    return lines[-(-part * count // parts) : -(-(part + 1) * count // parts)]


def _split_span(start_ms: int, end_ms: int, weights: list[int]) -> list[tuple[int, int]]:
    """Cut ``[start_ms, end_ms]`` into consecutive spans proportional to ``weights``.

    Each span gets ``MIN_CUE_MS`` first and a share of the rest, so none is too short;
    the caller guarantees the span is long enough for that.
    """
    slot = MIN_CUE_MS + GAP_MS
    spare = end_ms - start_ms - (len(weights) * slot - GAP_MS)
    total = sum(weights) or 1
    bounds, running = [], 0
    for k, weight in enumerate(weights):
        bounds.append(start_ms + k * slot + round(spare * running / total))
        running += weight
    ends = [bound - GAP_MS for bound in bounds[1:]] + [end_ms]
    return list(zip(bounds, ends, strict=True))


def _voice_tag(cue: Cue) -> str:
    """``<v Wearer>`` (``<v.draft Wearer>`` for a draft), or "" for a single speaker."""
    if not cue.voice:
        return ""
    return f"<v{'.draft' if cue.draft else ''} {cue.voice}>"


def _vtt_escape(text: str) -> str:
    """WebVTT cue text treats ``&`` and ``<`` as markup; ``>`` would allow a stray ``-->``."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
