"""The photo's HUD card: wrapping, pages, what is drawn."""

from __future__ import annotations

import pytest

from hudtranslate.captions.fonts import load_font
from hudtranslate.captions.frames import render_frame
from hudtranslate.captions.profiles import PROFILES, get_profile
from hudtranslate.vision.card import card_pages, wrap_text
from hudtranslate.vision.scene import Box, SceneBlock


def block(chinese: str, english: str, model: str = "qwen") -> SceneBlock:
    return SceneBlock(chinese, english, Box(0, 0, 10, 10), 0.9, model)


def test_wrap_english_at_spaces_and_chinese_anywhere() -> None:
    font = load_font(28)
    english = wrap_text("Separate washing, do not soak for too long before ironing", 300, font)
    assert len(english) > 1
    assert all(font.measure(line) <= 300 for line in english)
    assert " ".join(english) == "Separate washing, do not soak for too long before ironing"
    chinese = wrap_text("分开洗涤不宜长时间浸泡有钮扣或拉链的服饰先将钮扣或拉链扣好", 200, font)
    assert "".join(chinese) == "分开洗涤不宜长时间浸泡有钮扣或拉链的服饰先将钮扣或拉链扣好"
    assert all(font.measure(line) <= 200 for line in chinese)


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_block_is_on_some_page_and_every_page_fits(name: str) -> None:
    profile = get_profile(name)
    blocks = [block(f"菜{i}", f"Dish number {i} with rice 80") for i in range(30)]
    pages = card_pages(blocks, profile)
    shown = [line for page in pages for line in page.english]
    assert " ".join(shown).count("Dish number") == 30
    for page in pages:
        assert all(0 <= run.baseline_px <= profile.height_px for run in page.runs)
        image = render_frame(page)
        assert image.size == (profile.width_px, profile.height_px)
    assert (len(pages) > 1) == pages[0].scrolling


def test_chinese_is_drawn_small_under_translated_blocks_only() -> None:
    profile = get_profile("rokid")
    (page,) = card_pages([block("禁止吸烟", "No smoking"), block("315", "315", model="")],
                         profile)
    styles = [(run.text, run.style) for run in page.runs]
    assert styles == [("No smoking", "committed"), ("禁止吸烟", "source"), ("315", "committed")]
    sizes = {run.style: run.size_px for run in page.runs}
    assert sizes["source"] < sizes["committed"]


def test_no_text_says_so() -> None:
    (page,) = card_pages([], get_profile("even-g1"))
    assert page.english == ("No text found",)
