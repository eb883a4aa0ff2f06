"""Loading photos: formats, EXIF rotation, size limits, clear errors."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from hudtranslate.errors import ImageError
from hudtranslate.vision.images import check_image, load_image, scale_for_ocr


def jpeg_bytes(image: Image.Image, **save: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **save)
    return buffer.getvalue()


def test_exif_rotation_is_applied() -> None:
    wide = Image.new("RGB", (200, 100), (255, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: rotate 90° clockwise to show
    upright = load_image(jpeg_bytes(wide, exif=exif))
    assert upright.size == (100, 200)
    assert upright.mode == "RGB"


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "GIF", "AVIF"])
def test_common_formats_load(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"photo.{fmt.lower()}"
    Image.new("RGB", (64, 48), (10, 200, 30)).save(path, fmt)
    assert load_image(path).size == (64, 48)


HEIC_SIGN = Path(__file__).parent / "data" / "sign-no-smoking.heic"
"""禁止吸烟 in black on white, 320×120, rendered with the bundled font and saved as HEIC
(quality 80) by pillow-heif once; what an iPhone saves photos as."""


def test_an_iphone_heic_photo_loads() -> None:
    pytest.importorskip("pi_heif")
    for source in (HEIC_SIGN, HEIC_SIGN.read_bytes()):
        photo = load_image(source)
        assert (photo.size, photo.mode) == ((320, 120), "RGB")
        pixels = photo.convert("L")
        assert pixels.getpixel((5, 5)) > 200                 # white paper
        assert pixels.crop((20, 30, 300, 100)).getextrema()[0] < 60   # black characters


def test_not_an_image_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "menu.jpg"
    path.write_text("not a photo")
    with pytest.raises(ImageError, match=r"menu\.jpg: not an image"):
        load_image(path)


@pytest.mark.parametrize(("source", "label"), [(b"", "uploaded image"), ("file", "menu.jpg")])
def test_an_empty_photo_is_named_empty_not_unknown(tmp_path: Path, source: bytes | str,
                                                   label: str) -> None:
    """A 0-byte photo is a failed download or copy: "not an image" sent users looking
    for a format problem."""
    path = tmp_path / "menu.jpg"
    path.write_bytes(b"")
    with pytest.raises(ImageError, match=rf"{label}: empty \(0 bytes\)"):
        load_image(path if source == "file" else b"")
    if source == "file":
        with pytest.raises(ImageError, match=r"menu\.jpg: empty \(0 bytes\)"):
            check_image(path)


def test_truncated_jpeg_is_refused(tmp_path: Path) -> None:
    data = jpeg_bytes(Image.effect_noise((400, 300), 60).convert("RGB"))
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="damaged or truncated"):
        load_image(path)


def test_too_many_pixels_are_refused_before_decoding() -> None:
    data = jpeg_bytes(Image.new("RGB", (2000, 1500)))
    with pytest.raises(ImageError, match=r"3 MP, over the 2-MP limit"):
        load_image(data, max_megapixels=2.0, name="upload")


def test_a_photo_pillow_refuses_to_open_names_the_setting(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Pillow refuses over twice its MAX_IMAGE_PIXELS as it opens a file (~358 MP, a
    20000×20000 scan), before the size check: the same line, not its bomb warning."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000_000)
    data = jpeg_bytes(Image.new("RGB", (2000, 1500)))
    with pytest.raises(ImageError, match=r"^upload: 3 MP, over the 2-MP limit "
                                         r"\(vision\.max_megapixels\)$"):
        load_image(data, max_megapixels=2.0, name="upload", decode=False)
    with pytest.raises(ImageError, match=r"^upload: 3 MP, over the 2 MP Pillow can open$"):
        load_image(data, max_megapixels=10.0, name="upload", decode=False)


@pytest.mark.parametrize(("ink", "paper"), [((0, 0, 0), (255, 255, 255)),
                                            ((255, 255, 255), (0, 0, 0))])
def test_print_on_a_transparent_background_stays_readable(
        tmp_path: Path, ink: tuple[int, int, int], paper: tuple[int, int, int]) -> None:
    """Transparent pixels keep a colour of their own (here the ink's): dropping the alpha
    channel left one flat colour and no text to read."""
    sticker = Image.new("RGBA", (40, 20), (*ink, 0))
    for x in range(10, 30):
        sticker.putpixel((x, 10), (*ink, 255))
    path = tmp_path / "sticker.png"
    sticker.save(path)
    image = load_image(path)
    assert image.mode == "RGB"
    assert image.getpixel((0, 0)) == paper and image.getpixel((15, 10)) == ink


def test_a_gif_with_a_transparent_colour_and_an_opaque_png_are_read(tmp_path: Path) -> None:
    gif = Image.new("P", (20, 10), 0)
    gif.putpalette([0, 0, 0, 0, 0, 0] + [0] * 762)
    gif.putpixel((5, 5), 1)
    gif.save(tmp_path / "shop.gif", transparency=0)
    image = load_image(tmp_path / "shop.gif")
    assert image.getpixel((0, 0)) == (255, 255, 255) and image.getpixel((5, 5)) == (0, 0, 0)
    Image.new("RGBA", (20, 10), (10, 20, 30, 255)).save(tmp_path / "opaque.png")
    assert load_image(tmp_path / "opaque.png").getpixel((3, 3)) == (10, 20, 30)


def test_missing_file() -> None:
    with pytest.raises(ImageError, match="no such file"):
        load_image(Path("/nonexistent/photo.jpg"))


@pytest.mark.parametrize(("size", "long_side", "expected", "factor"), [
    ((4000, 3000), 1600, (1600, 1200), 0.4),
    ((800, 600), 1600, (800, 600), 1.0),
    ((1000, 3000), 1500, (500, 1500), 0.5),
])
def test_scale_for_ocr(size: tuple[int, int], long_side: int, expected: tuple[int, int],
                       factor: float) -> None:
    scaled, got = scale_for_ocr(Image.new("RGB", size), long_side)
    assert scaled.size == expected
    assert got == pytest.approx(factor)


@pytest.mark.parametrize(("fmt", "frames", "warned"), [
    ("GIF", 3, True), ("WEBP", 2, True), ("PNG", 2, True),  # APNG
    ("GIF", 1, False), ("PNG", 1, False),
])
def test_an_animation_says_only_its_first_frame_is_read(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, fmt: str, frames: int,
        warned: bool) -> None:
    """A GIF whose text comes in a later frame read as "no text found", with nothing to
    say why."""
    pictures = [Image.new("RGB", (40, 20), colour) for colour in ("white", "red", "blue")]
    path = tmp_path / f"shop.{fmt.lower()}"
    pictures[0].save(path, format=fmt, save_all=frames > 1,
                     append_images=pictures[1:frames], duration=100)
    with caplog.at_level("WARNING"):
        load_image(path)
    assert (f"an animation of {frames} frames: only the first is read" in caplog.text) is warned

