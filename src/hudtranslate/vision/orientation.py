"""Photos whose text lies sideways or upside down: read them turned.

A phone that drops the EXIF rotation tag, a photo taken with the phone on its side, a
tilted glasses camera: the OCR then reads garbage or nothing. RapidOCR's line classifier
knows only 0°/180°, and its detector turns a tall line crop by 90° one way only, so a
photo turned clockwise still reads (as vertical columns) while one turned
the other way or upside down does not. Measured on the 23 photos of
``shared/data/images`` turned by 90°, 180° and 270° counter-clockwise (69 copies;
``scripts/turned_photos.py``, ``docs/bench-runs/2026-12-03-turned-photos.json``): mean
character recall 0.31 / 0.20 / 0.83 as taken → 0.97 / 0.97 / 0.97 read turned (upright:
0.97), median OCR seconds 0.46 / 0.48 / 0.47 → 1.39 / 1.84 / 0.95. Upright photos are
read once, but for a vertical plaque (all its text in one column: one more pass, kept
as taken). A photo turned clockwise whose columns read as much as its rows is kept as
taken too: read right to left, its columns are its lines in order, and a vertical sign
cannot be told from it by the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image

from hudtranslate.vision.images import scale_for_ocr
from hudtranslate.vision.ocr import OcrEngine, TextLine

DOUBTFUL_CONFIDENCE = 0.85
"""A reading whose character-weighted recogniser score is under this is doubtful: upright
photos of the set score 0.89–1.00, sideways and upside-down copies mostly 0.52–0.80."""

DOUBTFUL_COLUMN_SHARE = 0.5
"""A reading with at least this share of its characters in columns (``TextLine.vertical``)
is doubtful: sideways text comes out as columns; upright photos of the set have ≤ 0.11
(one vertical plaque, 1.0, reads the same turned)."""

COLUMN_WEIGHT = 0.8
"""Among turned readings, a character read in a column counts this much: a photo upside
down reads as well turned by 90° (its lines as columns) as by 270° (as rows), and rows
are the photo upright."""

BETTER_BY = 1.05
"""A turned reading replaces the first only when its score is this many times higher
(and higher by half a character), so ties keep the photo as it was taken: a vertical
sign's columns read the same turned into rows, and a photo turned clockwise reads its
lines as columns in the right order (right to left) when nothing is lost that way."""

TURNS_DEG = (90, 270, 180)
"""Turns tried, counter-clockwise in degrees (PIL's ``Image.rotate``); sideways first,
since a doubtful reading is most often one."""


@dataclass(frozen=True, slots=True)
class UprightReading:
    """The OCR's lines of a photo as it reads best: ``image`` is the photo turned
    ``turned_deg`` degrees counter-clockwise (0: as taken), the lines' corners are in its
    pixels, and ``scaled`` is it scaled by ``factor`` for the OCR (``scale_for_ocr``)."""

    image: Image.Image
    scaled: Image.Image
    factor: float
    lines: list[TextLine]
    turned_deg: int = 0


def reading_score(lines: Sequence[TextLine], column_weight: float = 1.0) -> float:
    """How well a photo read: Σ characters × score² (× ``column_weight`` for characters
    in columns). Squaring the score makes confident text outweigh a longer run of
    guesses."""
    return sum(len(line.text) * line.confidence ** 2 * (column_weight if line.vertical else 1.0)
               for line in lines)


def doubtful(lines: Sequence[TextLine]) -> bool:
    """Might the photo read better turned? No text, a low character-weighted score
    (``DOUBTFUL_CONFIDENCE``) or most characters in columns (``DOUBTFUL_COLUMN_SHARE``)."""
    characters = sum(len(line.text) for line in lines)
    if characters == 0:
        return True
    in_columns = sum(len(line.text) for line in lines if line.vertical)
    confidence = sum(len(line.text) * line.confidence for line in lines) / characters
    return confidence < DOUBTFUL_CONFIDENCE or in_columns / characters >= DOUBTFUL_COLUMN_SHARE


def read_upright(ocr: OcrEngine, image: Image.Image, long_side_px: int, *,
                 try_turns: bool = True, turn_when_empty: bool = True) -> UprightReading:
    """``image`` read by ``ocr`` after scaling to ``long_side_px`` (``scale_for_ocr``);
    when that reading is ``doubtful`` and ``try_turns``, the photo is read turned by each
    of ``TURNS_DEG`` until a turn reads well, and the best reading kept (a tie keeps the
    photo as taken). A photo where the detector found no text region is not turned (no
    turn makes text of it: the 69 turned copies of the photo set all had regions found,
    read with low scores, while blank, blurred and noise pictures had none); nor, when
    ``turn_when_empty`` is False, one where regions were found but none read (a camera's
    frames of a scene without text would pay three more passes each).
    Corners refer to the full-size (turned) photo. The photo is scaled once; turns are
    tried on the scaled copy (a quarter turn keeps the scale), and only the chosen turn
    is applied to the full-size photo."""
    scaled, factor = scale_for_ocr(image, long_side_px)
    lines, regions = ocr.read_regions(scaled, factor)
    first = UprightReading(image, scaled, factor, lines)
    if (not try_turns or not doubtful(first.lines)
            or (not first.lines and (not turn_when_empty or regions == 0))):
        return first
    best: tuple[int, Image.Image, list[TextLine]] | None = None
    best_score = -1.0
    for turn in TURNS_DEG:
        turned = scaled.rotate(turn, expand=True)
        lines, _ = ocr.read_regions(turned, factor)
        score = reading_score(lines, COLUMN_WEIGHT)
        if score > best_score:
            best, best_score = (turn, turned, lines), score
        if not doubtful(lines):
            break  # rows that read well: the photo upright
    if best is None or (reading_score(best[2])
                        <= reading_score(first.lines) * BETTER_BY + 0.5):
        return first
    turn, turned, lines = best
    return UprightReading(image.rotate(turn, expand=True), turned, factor, lines, turn)
