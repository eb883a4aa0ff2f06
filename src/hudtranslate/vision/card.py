"""The HUD card for a photo: each block's English, the Chinese small under it, laid out
for a display profile and split into pages that scroll for long menus.

Pure apart from the bundled font's metrics, like ``captions.hud``: the frames are
``HudFrame`` values, drawn by ``captions.frames.render_frame`` exactly like captions, and
sent to the web HUD in the same form.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hudtranslate.captions.fonts import HudFont, load_font
from hudtranslate.captions.hud import GlyphRun, HudFrame
from hudtranslate.captions.profiles import PINYIN_SCALE, DisplayProfile
from hudtranslate.vision.scene import SceneBlock

_BLOCK_GAP = 0.35
"""Space between blocks, in English line heights."""


@dataclass(frozen=True, slots=True)
class _CardLine:
    text: str
    chinese: bool
    gap_before: bool = False


def wrap_text(text: str, width_px: float, font: HudFont) -> list[str]:
    """``text`` broken into lines no wider than ``width_px``: at spaces for English, at any
    character for Chinese (and for an English word wider than the line)."""
    lines: list[str] = []
    current = ""
    for word in _tokens(text):
        candidate = current + word
        if current and font.measure(candidate.rstrip()) > width_px:
            lines.append(current.rstrip())
            current = word.lstrip()
            while font.measure(current.rstrip()) > width_px and len(current) > 1:
                cut = _fit(current, width_px, font)
                lines.append(current[:cut])
                current = current[cut:]
        else:
            current = candidate
    if current.strip():
        lines.append(current.rstrip())
    return lines


def _tokens(text: str) -> list[str]:
    """Words with their trailing space; each Chinese character is a token of its own."""
    tokens: list[str] = []
    for char in text:
        if _is_wide(char) or not tokens or tokens[-1].endswith(" ") or _is_wide(tokens[-1][-1]):
            tokens.append(char)
        else:
            tokens[-1] += char
    return tokens


def _is_wide(char: str) -> bool:
    return "\u2e80" <= char <= "\u9fff" or "\uf900" <= char <= "\uffef"


def _fit(text: str, width_px: float, font: HudFont) -> int:
    cut = len(text)
    while cut > 1 and font.measure(text[:cut]) > width_px:
        cut -= 1
    return cut


def card_pages(blocks: Sequence[SceneBlock], profile: DisplayProfile, *,
               show_chinese: bool = True, title: str = "") -> list[HudFrame]:
    """The card as pages that each fit ``profile``; a block is never split across pages
    unless it alone is taller than a page. An empty photo gives one page saying so."""
    english_font = load_font(profile.font_size_px)
    chinese_px = max(8, round(profile.font_size_px * PINYIN_SCALE))
    chinese_font = load_font(chinese_px)
    width = profile.text_width_px
    groups: list[list[_CardLine]] = []
    for block in blocks:
        if not block.english.strip():
            continue
        group = [_CardLine(line, False) for line in wrap_text(block.english, width, english_font)]
        if show_chinese and block.model and block.chinese != block.english:
            group += [_CardLine(line, True)
                      for line in wrap_text(block.chinese, width, chinese_font)]
        groups.append(group)
    if not groups:
        groups = [[_CardLine(title or "No text found", False)]]
    english_row = profile.line_height_px
    chinese_row = max(chinese_px + 2, round(profile.line_height_px * PINYIN_SCALE))
    gap = round(english_row * _BLOCK_GAP)
    usable = profile.height_px - 2 * profile.margin_y_px

    def height(group: list[_CardLine]) -> int:
        return sum(chinese_row if line.chinese else english_row for line in group) + gap

    pages: list[list[list[_CardLine]]] = [[]]
    used = 0
    for group in groups:
        if pages[-1] and used + height(group) - gap > usable:
            pages.append([])
            used = 0
        pages[-1].append(group)
        used += height(group)
    return [_page(page, profile, english_font, chinese_font, english_row, chinese_row, gap,
                  index, len(pages)) for index, page in enumerate(pages)]


def _page(groups: list[list[_CardLine]], profile: DisplayProfile, english_font: HudFont,
          chinese_font: HudFont, english_row: int, chinese_row: int, gap: int,
          index: int, count: int) -> HudFrame:
    runs: list[GlyphRun] = []
    english: list[str] = []
    top = profile.margin_y_px
    bottom = profile.height_px - profile.margin_y_px
    for group in groups:
        for line in group:
            row, font = (chinese_row, chinese_font) if line.chinese else (english_row,
                                                                           english_font)
            if top + row > bottom:
                break
            baseline = top + (row - font.height_px) // 2 + font.ascent_px
            runs.append(GlyphRun(line.text, profile.margin_x_px, baseline, font.size_px,
                                 "source" if line.chinese else "committed"))
            if not line.chinese:
                english.append(line.text)
            top += row
        top += gap
    if count > 1:
        marker = f"{index + 1}/{count}"
        small = chinese_font
        x = profile.width_px - profile.margin_x_px - round(small.measure(marker))
        runs.append(GlyphRun(marker, x, profile.height_px - max(2, profile.margin_y_px // 3),
                             small.size_px, "tentative"))
    return HudFrame(profile, tuple(runs), tuple(english), scrolling=count > 1)
