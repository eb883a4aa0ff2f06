"""``hudtranslate look`` on files: bad input gets one line each, the rest still runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from tests.conftest import forbid_look_models

from hudtranslate.cli import main
from hudtranslate.vision import commands
from hudtranslate.vision.scene import Box, SceneBlock, SceneText


class Reading:
    """A looker that reports every photo as one block (plumbing only)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def look(self, image: Image.Image, source: str = "", **_: Any) -> SceneText:
        self.seen.append(source)
        block = SceneBlock("禁止吸烟", "No smoking", Box(1, 2, 30, 12), 0.98, "fake")
        return SceneText(source, image.width, image.height, (block,), (), "",
                         {"ocr": 0.1, "first_english": 0.2, "total": 0.3})


@pytest.fixture
def reading(monkeypatch: pytest.MonkeyPatch) -> Reading:
    looker = Reading()
    monkeypatch.setattr(commands, "load_looker", lambda settings: looker)
    return looker


def test_bad_images_fail_one_line_each_and_good_ones_run(
        tmp_path: Path, reading: Reading, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "sign.png"
    Image.new("RGB", (64, 32), "white").save(good)
    text = tmp_path / "notes.jpg"
    text.write_text("not a photo")
    huge = tmp_path / "huge.png"
    Image.new("1", (12_000, 9_000)).save(huge)  # 108 MP, a small file
    status = main(["look", str(text), str(good), str(tmp_path / "missing.jpg"), str(huge),
                   "--json"])
    captured = capsys.readouterr()
    assert status == 1
    assert reading.seen == [str(good)]
    (line,) = captured.out.splitlines()
    assert json.loads(line)["blocks"][0]["en"] == "No smoking"
    errors = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 3
    assert any("notes.jpg: not an image" in line for line in errors)
    assert any("missing.jpg: no such file" in line for line in errors)
    assert any("huge.png" in line and "MP" in line for line in errors)


def test_only_missing_files_exit_without_loading_models(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    forbid_look_models(monkeypatch, "models loaded for nothing")
    assert main(["look", str(tmp_path / "a.jpg")]) == 1


def test_no_input_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["look"]) == 1
    assert "look needs IMAGE files or --camera" in capsys.readouterr().err


@pytest.mark.parametrize("device", ["", "  "])
def test_an_empty_camera_name_is_a_clear_error_not_the_current_folder(
        device: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    forbid_look_models(monkeypatch, "models loaded for nothing")
    assert main(["look", "--camera", device]) == 1
    assert "no camera given" in capsys.readouterr().err


def test_images_and_a_camera_together_are_a_clear_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["look", str(tmp_path / "one.png"), "--camera", str(tmp_path)]) == 1
    assert "IMAGE files or --camera, not both" in capsys.readouterr().err


def test_frames_that_name_a_file_is_a_clear_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    taken = tmp_path / "taken"
    taken.write_text("")
    assert main(["look", str(tmp_path / "one.png"), "--frames", str(taken)]) == 1
    assert "--frames" in (err := capsys.readouterr().err) and "is a file, not a folder" in err


def test_a_refused_run_leaves_no_frames_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    forbid_look_models(monkeypatch, "models loaded for nothing")
    (tmp_path / "notes.jpg").write_text("not a photo")
    assert main(["look", str(tmp_path / "notes.jpg"), "--frames",
                 str(tmp_path / "new" / "cards")]) == 1
    assert "not an image" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()


def test_the_card_is_written_as_png_pages(tmp_path: Path, reading: Reading) -> None:
    photo = tmp_path / "menu.jpg"
    Image.new("RGB", (64, 32), "white").save(photo)
    assert main(["look", str(photo), "--frames", str(tmp_path / "cards"),
                 "--profile", "even-g1"]) == 0
    (page,) = sorted((tmp_path / "cards").glob("menu-card-*.png"))
    with Image.open(page) as card:
        assert card.size == (576, 136)


def test_photos_of_the_same_name_and_a_rerun_keep_every_card(
        tmp_path: Path, reading: Reading, capsys: pytest.CaptureFixture[str]) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        Image.new("RGB", (64, 32), "white").save(tmp_path / folder / "menu.jpg")
    cards = tmp_path / "cards"
    photos = [str(tmp_path / "a" / "menu.jpg"), str(tmp_path / "b" / "menu.jpg")]
    assert main(["look", *photos, "--json", "--frames", str(cards)]) == 0
    assert sorted(path.name for path in cards.iterdir()) == ["menu-2-card-01.png",
                                                              "menu-card-01.png"]
    assert main(["look", photos[0], "--json", "--frames", str(cards)]) == 0
    assert [path.name for path in cards.iterdir()] == ["menu-card-01.png"]
    (earlier,) = tmp_path.glob("cards.*")  # the first run's cards, moved aside
    assert len(list(earlier.iterdir())) == 2
    out, err = capsys.readouterr()
    assert all(json.loads(line) for line in out.splitlines())  # stdout stays JSON
    assert "kept the earlier cards" in err


def test_a_photo_without_text_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    class Blank:
        def look(self, image: Image.Image, source: str = "", **_: Any) -> SceneText:
            return SceneText(source, image.width, image.height, (), (), "",
                             {"ocr": 0.1, "total": 0.2})

    monkeypatch.setattr(commands, "load_looker", lambda settings: Blank())
    wall = tmp_path / "wall.png"
    Image.new("RGB", (64, 32), "white").save(wall)
    assert main(["look", str(wall)]) == 0
    out = capsys.readouterr().out
    assert "no text or barcode found" in out and "first English" not in out


def test_wrong_files_fail_before_the_models_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    forbid_look_models(monkeypatch, "the models were loaded for photos that cannot be read")
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "notes.jpg").write_text("not a photo")
    assert main(["look", str(tmp_path), str(tmp_path / "empty.png"),
                 str(tmp_path / "notes.jpg")]) == 1
    err = capsys.readouterr().err
    assert "a folder, not an image" in err and err.count("not an image") == 2
    assert "empty.png: empty (0 bytes)" in err


@pytest.mark.parametrize("frames", ["photos", ".", "", "photos/..", "camera-roll"])
def test_frames_that_hold_the_photos_or_the_current_folder_are_refused_at_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], frames: str) -> None:
    """A rerun moves an earlier cards folder aside whole: ``--frames photos`` moved the
    folder of the photos mid-run (its second photo then "no such file"), ``--frames .``
    moved the current folder or was a ValueError traceback, after the models had loaded."""
    forbid_look_models(monkeypatch, "the models were loaded for a run that moves its input")
    photos, roll = tmp_path / "photos", tmp_path / "camera-roll"
    photos.mkdir()
    roll.mkdir()
    for folder in (photos, roll):
        Image.new("RGB", (64, 32), "white").save(folder / "one.png")
    (tmp_path / "cards").mkdir()
    (tmp_path / "cards" / "old-card-01.png").write_bytes(b"an earlier card")
    monkeypatch.chdir(tmp_path)
    inputs = ["--camera", "camera-roll"] if frames == "camera-roll" else ["photos/one.png"]
    assert main(["look", *inputs, "--frames", frames]) == 1
    assert "give the frames a folder of their own" in capsys.readouterr().err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["camera-roll", "cards",
                                                                "photos"]


def piped(data: bytes, *, terminal: bool = False) -> Any:
    import io
    import types

    return types.SimpleNamespace(buffer=io.BytesIO(data), isatty=lambda: terminal)


def png_bytes() -> bytes:
    import io

    data = io.BytesIO()
    Image.new("RGB", (64, 32), "white").save(data, format="PNG")
    return data.getvalue()


def test_a_photo_piped_in_as_dash_is_read(reading: Reading, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """`look -` had said "-: no such file"."""
    monkeypatch.setattr("sys.stdin", piped(png_bytes()))
    assert main(["look", "-", "-", "--json"]) == 1  # one photo, read once
    captured = capsys.readouterr()
    assert reading.seen == ["stdin"] and json.loads(captured.out)["source"] == "stdin"
    assert "standard input holds one photo and is read once" in captured.err


@pytest.mark.parametrize(("data", "terminal", "message"), [
    (b"", True, "no photo on standard input (it is a terminal)"),
    (b"", False, "no photo came through standard input (0 bytes)"),
    (b"not a photo", False, "stdin: not an image"),
])
def test_nothing_readable_piped_in_is_one_line_before_the_models_load(
        data: bytes, terminal: bool, message: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    forbid_look_models(monkeypatch, "the models were loaded for no photo")
    monkeypatch.setattr("sys.stdin", piped(data, terminal=terminal))
    assert main(["look", "-"]) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
