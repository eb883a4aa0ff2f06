"""The photo benchmark's manifest and scores (no model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from tests.conftest import forbid_look_models

from hudtranslate.errors import DataError
from hudtranslate.eval.images import (
    ImageItem,
    character_scores,
    image_targets,
    load_images_manifest,
    score_image,
    summarise,
)
from hudtranslate.vision.scene import Barcode, Box, SceneBlock, SceneText
from hudtranslate.vision.translate import kept, number_runs


def write_manifest(folder: Path, rows: list[dict[str, object]]) -> Path:
    Image.new("RGB", (20, 20)).save(folder / "a.jpg")
    path = folder / "images.jsonl"
    path.write_text("\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n",
                    encoding="utf-8")
    return path


def test_manifest_loads_relative_photos(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, [{"id": "x", "file": "a.jpg", "zh_lines": ["西"],
                                      "key_en": ["West"], "complete": False}])
    (item,) = load_images_manifest(path)
    assert item.path == tmp_path / "a.jpg"
    assert not item.complete


@pytest.mark.parametrize(("row", "message"), [
    ({"file": "missing.jpg", "zh_lines": []}, "photo not found"),
    ({"zh_lines": []}, "missing 'file'"),
    ({"file": "a.jpg", "zh_lines": "西"}, "'zh_lines' must be a list"),
    ({"file": "a.jpg", "zh_lines": [], "key_en": [""]}, "'key_en' must be"),
    ({"file": ".", "zh_lines": []}, "is a folder: 'file' names one photo"),
])
def test_bad_manifest_rows_name_the_line(tmp_path: Path, row: dict[str, object],
                                         message: str) -> None:
    path = write_manifest(tmp_path, [row])
    with pytest.raises(DataError, match=rf"images\.jsonl:1: .*{message}"):
        load_images_manifest(path)


def test_characters_compare_across_scripts_and_ignore_punctuation() -> None:
    assert character_scores("紅燒牛肉麵 120", "红烧牛肉面120") == (8, 8, 8)
    assert character_scores("ABC", "ab") == (2, 3, 2)


@pytest.mark.parametrize(("text", "runs"), [
    ("¥53.0元", ["53.0"]), ("电话：027-88852022", ["027-88852022"]),
    ("下午4:00~9:30", ["4:00", "9:30"]), ("２２０ml", ["220"]),
])
def test_number_runs(text: str, runs: list[str]) -> None:
    assert number_runs(text) == runs


@pytest.mark.parametrize(("number", "english", "expected"), [
    ("47.50", "Retail price: 47.50 yuan", True),
    ("47.50", "Retail price: 47.5 yuan", False),
    ("50000", "50,000 points", True),
    ("60", "↑89 60--80", True),
    ("260", "500 260 680", True),
    ("15", "115 Road", False),
])
def test_kept(number: str, english: str, expected: bool) -> None:
    assert kept(number, english) is expected


def test_score_and_summary() -> None:
    item = ImageItem("tag", Path("a.jpg"), ("零售价：47.50元", "纯棉"), ("cotton", "47.50"),
                     "label", True)
    scene = SceneText("tag", 10, 10, (
        SceneBlock("零售价：47.50元", "Retail price: 47.5 yuan", Box(0, 0, 1, 1), 0.9, "q"),
        SceneBlock("纯棉", "Pure cotton", Box(0, 0, 1, 1), 0.9, "q")),
        (Barcode("EAN13", "6959555702539", Box(0, 0, 1, 1), "GS1 China"),), "",
        {"total": 2.0, "first_english": 0.5})
    row = score_image(item, scene)
    assert row["recall"] == 1.0
    assert row["key_en_found"] == ["cotton"]
    assert row["numbers_lost"] == ["47.50"]
    summary = summarise([row])
    assert summary["key_en"] == 0.5
    assert summary["numbers_translated"] == 0.0
    targets = image_targets(summary)
    assert targets["images ocr_recall"]["met"] is True
    assert targets["images key_en"]["met"] is False


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    row = {"id": "x", "file": "a.jpg", "zh_lines": ["西"], "key_en": ["West"]}
    path = write_manifest(tmp_path, [row, row])
    with pytest.raises(DataError, match="id 'x' appears more than once"):
        load_images_manifest(path)


def test_bench_images_checks_every_photo_before_the_models_load(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from hudtranslate.cli import main

    forbid_look_models(monkeypatch, "the models were loaded for a photo that cannot be read")
    (tmp_path / "sign.png").write_text("not a png")
    manifest = tmp_path / "images.jsonl"
    manifest.write_text(json.dumps({"id": "sign", "file": "sign.png", "zh_lines": ["禁止吸烟"],
                                    "en_refs": ["No smoking"]}) + "\n")
    assert main(["bench", "--images", str(manifest), "--out-dir", str(tmp_path / "out")]) == 1
    assert "sign.png: not an image" in capsys.readouterr().err
