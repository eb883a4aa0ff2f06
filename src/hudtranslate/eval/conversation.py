"""Converse-mode benchmark (``bench --converse``): a conversation in one stream, both ways.

The other person's recorded Mandarin (``--utterances``) and the wearer's English (the
first ``en_refs`` of ``--text``, spoken by the offline English voice: no English speech set
installs offline) take turns in one 16 kHz signal, ``gap_s`` of silence between turns, and
run through the whole pipeline in converse mode (VAD, recogniser detecting zh/en per
utterance, both translators). Each final translation belongs to the turn its speech
overlaps most. Per turn: was it translated, in the right direction, and how well (chrF
against the turn's reference: the utterance's English, the text item's Chinese, scored on
characters as ``bench --direction en-zh`` does); overall: whether the finals came in the
order of the turns.
"""

from __future__ import annotations

import dataclasses
import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hudtranslate.config import ConversationOptions, Settings
from hudtranslate.eval.metrics import chinese_quality, corpus_quality
from hudtranslate.events import SAMPLE_RATE_HZ, AudioArray, Translation, target_language_for


@dataclass(frozen=True)
class Turn:
    """One turn: who spoke (``language``), what was said, the reference translation, and
    its audio; ``start_s``/``end_s`` place it in the conversation's signal."""

    id: str
    language: str
    said: str
    reference: str
    audio: AudioArray
    start_s: float = 0.0
    end_s: float = 0.0


def alternate(zh_turns: Sequence[Turn], en_turns: Sequence[Turn], gap_s: float
              ) -> tuple[list[Turn], AudioArray]:
    """The turns alternating (Mandarin first, leftovers at the end) with ``gap_s`` of
    silence after each, placed in time; and the whole signal."""
    order: list[Turn] = []
    for index in range(max(len(zh_turns), len(en_turns))):
        order += [*zh_turns[index : index + 1], *en_turns[index : index + 1]]
    gap = np.zeros(round(gap_s * SAMPLE_RATE_HZ), dtype=np.float32)
    pieces: list[AudioArray] = [gap]
    placed, at = [], len(gap)
    for turn in order:
        start = at / SAMPLE_RATE_HZ
        at += len(turn.audio) + len(gap)
        pieces += [turn.audio, gap]
        placed.append(dataclasses.replace(turn, start_s=start,
                                          end_s=start + len(turn.audio) / SAMPLE_RATE_HZ))
    return placed, np.concatenate(pieces).astype(np.float32)


def converse_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, conversation=ConversationOptions("converse"))


class FinalCollector:
    """Keeps the final translations, in the order they were shown."""

    def __init__(self) -> None:
        self.finals: list[Translation] = []

    def handle(self, event: object) -> None:
        if isinstance(event, Translation) and event.final:
            self.finals.append(event)

    def close(self) -> None:
        pass


def _turn_of(final: Translation, turns: Sequence[Turn]) -> int | None:
    overlaps = [min(final.end_s, turn.end_s) - max(final.start_s, turn.start_s)
                for turn in turns]
    best = int(np.argmax(overlaps)) if overlaps else -1
    return best if best >= 0 and overlaps[best] > 0 else None


def score_conversation(turns: Sequence[Turn], finals: Sequence[Translation]
                       ) -> tuple[list[dict[str, Any]], list[int]]:
    """One row per turn (the finals that belong to it, joined; their directions; chrF),
    and the turn index of each final in the order they were shown."""
    owned: list[list[Translation]] = [[] for _ in turns]
    order = []
    for final in finals:
        index = _turn_of(final, turns)
        if index is not None:
            owned[index].append(final)
            order.append(index)
    rows = []
    for turn, mine in zip(turns, owned, strict=True):
        expected = target_language_for(turn.language)
        joiner = "" if expected == "zh" else " "
        output = joiner.join(final.text for final in mine if not final.draft).strip()
        chrf = (chinese_quality([output], [turn.reference]).chrf if expected == "zh"
                else corpus_quality([output], [[turn.reference]]).chrf)
        rows.append({"id": turn.id, "language": turn.language, "said": turn.said,
                     "heard": " ".join(final.source for final in mine),
                     "directions": [f"{f.source_language}-{f.target_language}" for f in mine],
                     "output": output, "reference": turn.reference,
                     "translated": bool(output),
                     "direction_correct": bool(mine) and all(
                         f.target_language == expected for f in mine),
                     "chrf": round(chrf, 2), "start_s": round(turn.start_s, 2),
                     "final_delay_s": round(max(f.emitted_s for f in mine) - turn.end_s, 2)
                     if mine else None})
    return rows, order


def summarise_conversation(turns: Sequence[dict[str, Any]], order: Sequence[int]
                           ) -> dict[str, Any]:
    """Turns translated and in the right direction, whether finals came in turn order,
    chrF per direction (corpus), and the median seconds from the end of a turn's speech
    to its last final translation (stream time: meaningful at real-time pace)."""
    summary: dict[str, Any] = {
        "turns": len(turns),
        "translated": sum(row["translated"] for row in turns),
        "direction_correct": sum(row["direction_correct"] for row in turns),
        "in_order": all(a <= b for a, b in itertools.pairwise(order)),
    }
    for language in ("zh", "en"):
        mine = [row for row in turns if row["language"] == language]
        if not mine:
            continue
        if target_language_for(language) == "zh":
            quality = chinese_quality([r["output"] for r in mine], [r["reference"] for r in mine])
        else:
            quality = corpus_quality([r["output"] for r in mine],
                                     [[r["reference"]] for r in mine])
        direction = f"{language}_{target_language_for(language)}"
        summary[f"chrf_{direction}"] = round(quality.chrf, 2)
        delays = [r["final_delay_s"] for r in mine if r["final_delay_s"] is not None]
        summary[f"final_delay_s_median_{direction}"] = (round(statistics.median(delays), 2)
                                                        if delays else None)
    return summary


def conversation_targets(summary: dict[str, Any]) -> dict[str, Any]:
    """Issue 12: every turn translated in its direction, in order."""
    turns = summary.get("turns", 0)
    return {
        "converse turns in the right direction": {
            "target": f"= {turns}", "value": summary.get("direction_correct"),
            "met": bool(turns) and summary.get("direction_correct") == turns},
        "converse finals in turn order": {"target": "true", "value": summary.get("in_order"),
                                          "met": summary.get("in_order")},
    }


def conversation_markdown(summary: dict[str, Any], rows: Sequence[dict[str, Any]]) -> list[str]:
    """The report's "Conversation" section: the summary and every turn."""
    lines = ["## Conversation (converse mode, one stream)", "",
             "| turns | translated | right direction | in order | chrF zh→en | chrF en→zh | "
             "final delay s zh→en (median) | final delay s en→zh |",
             "|---:|---:|---:|---|---:|---:|---:|---:|",
             f"| {summary.get('turns')} | {summary.get('translated')} | "
             f"{summary.get('direction_correct')} | {summary.get('in_order')} | "
             f"{summary.get('chrf_zh_en', '—')} | {summary.get('chrf_en_zh', '—')} | "
             f"{summary.get('final_delay_s_median_zh_en', '—')} | "
             f"{summary.get('final_delay_s_median_en_zh', '—')} |", "",
             "| turn | said | heard | translation | direction | chrF |",
             "|---|---|---|---|---|---:|"]
    lines += [f"| {row['id']} | {row['said']} | {row['heard']} | {row['output']} | "
              f"{', '.join(row['directions']) or '—'} | {row['chrf']} |"
              for row in rows]
    return [*lines, ""]


def build_turns(utterances: Sequence[Any], texts: Sequence[Any], voice: Any
                ) -> tuple[list[Turn], list[Turn]]:
    """Mandarin turns from utterance manifest items (``wav``, ``zh``, ``en_refs``) and
    English ones from text items (``en_refs[0]`` spoken by ``voice.synthesize_16k``, the
    item's ``zh`` as reference)."""
    from hudtranslate.audio.files import read_audio_file

    zh_turns = [Turn(item.id, "zh", item.zh, item.en_refs[0], read_audio_file(item.wav))
                for item in utterances]
    en_turns = [Turn(f"{item.id}-en", "en", item.en_refs[0], item.zh,
                     voice.synthesize_16k(item.en_refs[0])) for item in texts]
    return zh_turns, en_turns


async def run_conversation(audio: AudioArray, engines: Any, settings: Settings, *,
                           realtime: bool) -> list[Translation]:
    """The final translations of ``audio`` through the pipeline in converse mode."""
    from hudtranslate.audio.files import file_chunks
    from hudtranslate.pipeline import run_pipeline

    collector = FinalCollector()
    await run_pipeline(file_chunks(audio, settings.audio.chunk_ms, realtime), engines,
                       converse_settings(settings), [collector], realtime=realtime)
    return collector.finals
