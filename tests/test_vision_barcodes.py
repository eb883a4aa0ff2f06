"""Barcodes with the real zxing-cpp reader on codes drawn with zxing-cpp's writer."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from hudtranslate.vision.barcodes import gs1_issuer, read_barcodes

zxingcpp = pytest.importorskip("zxingcpp")


def on_page(code: Image.Image, size: tuple[int, int] = (640, 480)) -> Image.Image:
    page = Image.new("RGB", size, (235, 235, 235))
    page.paste(code.convert("RGB"), (100, 120))
    return page


def drawn(text: str, fmt: object, scale: int) -> Image.Image:
    barcode = zxingcpp.create_barcode(text, fmt)
    return Image.fromarray(np.asarray(barcode.to_image(scale=scale)))


def test_an_ean13_is_read_with_its_gs1_issuer_and_place() -> None:
    page = on_page(drawn("6959555702539", zxingcpp.BarcodeFormat.EAN13, 3))
    (code,) = read_barcodes(page)
    assert code.text == "6959555702539"
    assert code.format.startswith("EAN")
    assert code.issuer == "GS1 China"
    assert 90 <= code.box.left < code.box.right <= 110 + 339


def test_a_qr_code_with_chinese_text() -> None:
    page = on_page(drawn("营业时间 九点到五点", zxingcpp.BarcodeFormat.QRCode, 4))
    (code,) = read_barcodes(page)
    assert code.text == "营业时间 九点到五点"
    assert code.issuer == ""


def test_nothing_on_a_blank_page() -> None:
    assert read_barcodes(Image.new("RGB", (300, 200), (255, 255, 255))) == []


@pytest.mark.parametrize(("digits", "issuer"), [
    ("6959555702539", "GS1 China"),
    ("6959555702538", ""),   # bad check digit
    ("4006381333931", "GS1 Germany"),
])
def test_gs1_issuer(digits: str, issuer: str) -> None:
    assert gs1_issuer(digits) == issuer
