"""``hudtranslate look IMAGE... | --camera [DEVICE]``: read and translate photos.

Each image's blocks are printed as their English is ready (or, with ``--json``, one JSON
object per image on stdout). A bad image prints one error line and the others still run;
the exit status is 1 if any image failed.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from hudtranslate.captions.frames import png_bytes, preview_image, render_frame
from hudtranslate.captions.profiles import profile_from_options
from hudtranslate.config import Settings
from hudtranslate.errors import (
    ConfigError,
    HudTranslateError,
    ImageError,
    ensure_writable_folder,
    one_line,
)
from hudtranslate.translate.glossary import Glossary
from hudtranslate.vision.card import card_pages
from hudtranslate.vision.images import check_image, load_image
from hudtranslate.vision.look import Looker
from hudtranslate.vision.scene import SceneBlock, SceneText

log = logging.getLogger(__name__)


def add_look_command(commands: Any, common: argparse.ArgumentParser) -> None:
    look = commands.add_parser(
        "look", parents=[common],
        help="read and translate photos of signs, menus, labels (or the camera)")
    look.add_argument("images", type=Path, nargs="*", metavar="IMAGE",
                      help="JPEG, PNG, WebP, HEIC or AVIF photos; - reads one piped in")
    look.add_argument("--camera", nargs="?", const="0", default=None, metavar="DEVICE",
                      help="grab frames from a camera (V4L2 index or /dev/videoN, a video "
                           "file or an image folder) when the view is steady or on Enter")
    look.add_argument("--json", action="store_true",
                      help="print one JSON object per image (boxes, Chinese, English, scores)")
    look.add_argument("--frames", type=Path, default=None, metavar="DIR",
                      help="write the HUD card as PNG pages (exact display pixels)")
    look.set_defaults(handler=run_look)


def load_looker(settings: Settings) -> Looker:
    """The OCR engine and the local translator, loaded for photos only."""
    from hudtranslate.engines import load_translator
    from hudtranslate.translate.prompts import PHOTO_TEXT
    from hudtranslate.vision.ocr import OcrEngine
    from hudtranslate.vision.translate import SceneTranslator

    ocr = OcrEngine(threads=settings.vision.ocr_threads,
                    min_confidence=settings.vision.min_confidence)
    backend, _ = load_translator(settings, settings.threads)
    backend.warm_up(PHOTO_TEXT)
    glossary = photo_glossary(settings)
    translator = SceneTranslator(backend, glossary,
                                 max_new_tokens=settings.vision.max_new_tokens,
                                 batch=settings.vision.batch_blocks)
    return Looker(ocr, translator, settings.vision)


def photo_glossary(settings: Settings) -> Glossary:
    """The session glossary, with CC-CEDICT's proper names unless ``vision.cedict_names``
    is off."""
    from hudtranslate.translate.glossary import load_glossary

    path = Path(settings.translate.glossary) if settings.translate.glossary else None
    return load_glossary(path, cedict_names=settings.vision.cedict_names
                         or settings.translate.cedict_names)


def run_look(args: argparse.Namespace, settings: Settings) -> int:
    if not args.images and args.camera is None:
        raise ConfigError("look needs IMAGE files or --camera")
    if args.images and args.camera is not None:
        raise ConfigError("look reads IMAGE files or --camera, not both "
                          "(--camera also takes a folder of photos)")
    if args.frames is not None:  # made with the first card: a refused run leaves no folder
        ensure_writable_folder("--frames", args.frames, create=False)
        from hudtranslate.transcripts.store import check_frames_folder

        check_frames_folder(args.frames, *args.images, *_camera_folder(args.camera))
    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    images = []
    piped: bytes | None = None  # `-`: the photo on standard input, read once
    for path in args.images:  # before the models load: a typo or a wrong file fails at once
        try:
            if str(path) == "-":
                piped = _standard_input_photo(piped is not None)
                load_image(piped, name="stdin", decode=False,
                           max_megapixels=settings.vision.max_megapixels)
            elif path.is_dir():
                raise ImageError(f"{path}: a folder, not an image")
            else:
                check_image(path, max_megapixels=settings.vision.max_megapixels)
            images.append(path)
        except ImageError as exc:
            errors.print(f"[bold red]error:[/] {escape(str(exc))}")
    failed = len(args.images) - len(images)
    if args.camera is None and not images:
        return 1  # nothing to read: no need to load the models
    source = None
    if args.camera is not None:  # before the models load: a missing camera fails at once
        from hudtranslate.vision.camera import open_source

        source = open_source(args.camera, max_megapixels=settings.vision.max_megapixels)
    try:
        looker = load_looker(settings)
    except BaseException:
        if source is not None:
            source.close()
        raise
    out = Console(highlight=False, soft_wrap=True)
    cards = _Cards(args.frames, errors) if args.frames is not None else None
    if source is not None:
        from hudtranslate.vision.camera import run_camera

        def show_frame(scene: SceneText) -> None:
            if not args.json:  # the blocks come all at once: no on_block while watching
                out.print(f"[bold]{escape(scene.source)}[/]")
                printer = _printer(out)
                for index, block in enumerate(scene.blocks):
                    printer(index, block)
            _show(scene, args, settings, out, cards)

        return int(run_camera(args.camera, looker, show_frame, source=source,
                              on_status=lambda text: errors.print(f"[dim]{escape(text)}[/]")))
    for path in images:
        try:
            name = "stdin" if str(path) == "-" and piped is not None else str(path)
            image = load_image(piped if name == "stdin" and piped is not None else path,
                               name=name, max_megapixels=settings.vision.max_megapixels)
            if not args.json:
                out.print(f"[bold]{escape(name)}[/]")
            scene = looker.look(image, name, on_block=None if args.json else _printer(out))
            _show(scene, args, settings, out, cards)
        except (ImageError, HudTranslateError) as exc:
            errors.print(f"[bold red]error:[/] {escape(str(exc))}")
            failed += 1
    return 1 if failed else 0


def _standard_input_photo(already_read: bool) -> bytes:
    """The photo piped in for ``-`` (``cat sign.jpg | hudtranslate look -``). Raises
    ``ImageError`` for a second ``-``, a terminal, or nothing piped."""
    if already_read:
        raise ImageError("-: standard input holds one photo and is read once")
    if sys.stdin is None or sys.stdin.isatty():
        raise ImageError("-: no photo on standard input (it is a terminal): pipe one in, "
                         "e.g. `cat sign.jpg | hudtranslate look -`")
    data = sys.stdin.buffer.read()
    if not data:
        raise ImageError("-: no photo came through standard input (0 bytes)")
    return data


def _camera_folder(camera: str | None) -> list[Path]:
    """``--camera``'s folder of photos, when it names one (a device index does not)."""
    return [Path(camera)] if camera is not None and Path(camera).is_dir() else []


def _printer(out: Console) -> Any:
    def show(index: int, block: SceneBlock) -> None:
        if block.model:
            out.print(f"  {escape(block.english)}  [dim]{escape(block.chinese)}[/]")
        else:
            out.print(f"  [dim]{escape(block.english)}[/]")
    return show


_TURNS = {90: "its text lay sideways: read turned 90° counter-clockwise",
          180: "its text lay upside down: read turned 180°",
          270: "its text lay sideways: read turned 90° clockwise"}
"""How ``look`` says it turned a photo (``SceneText.turned_deg``, counter-clockwise)."""


def _show(scene: SceneText, args: argparse.Namespace, settings: Settings, out: Console,
          cards: _Cards | None) -> None:
    if args.json:
        sys.stdout.write(json.dumps(scene.to_dict(), ensure_ascii=False) + "\n")
        sys.stdout.flush()
    else:
        for code in scene.barcodes:
            issuer = f" (issued by {code.issuer})" if code.issuer else ""
            english = f" = {code.english}" if code.english else ""
            out.print(f"  [cyan]{code.format} {escape(code.text)}{escape(issuer + english)}[/]")
        if scene.product:
            out.print(f"  [bold]product:[/] {escape(scene.product)}")
        if not scene.blocks and not scene.barcodes:
            out.print("  no text or barcode found in this photo")
        took = scene.timings_s
        first = (f"first English {took['first_english']:.1f} s, "
                 if scene.blocks and "first_english" in took else "")
        turned = f"{_TURNS.get(scene.turned_deg, '')}, " if scene.turned_deg else ""
        out.print(f"  [dim]{turned}OCR {took.get('ocr', 0):.1f} s, {first}"
                  f"card {took.get('total', 0):.1f} s[/]")
    if cards is not None:
        cards.write(scene, settings)


class _Cards:
    """Where ``--frames`` puts the cards. A folder an earlier run filled is moved aside at
    the first card, as ``file --frames`` does (a rerun with fewer pages left the old
    pages beside the new); photos of the same name (``a/menu.jpg``, ``b/menu.jpg``) get
    cards of their own (``menu-2-card-01.png``) instead of overwriting the first's."""

    def __init__(self, folder: Path, console: Console) -> None:
        self.folder = folder
        self._console = console
        self._stems: set[str] = set()

    def write(self, scene: SceneText, settings: Settings) -> list[Path]:
        from hudtranslate.transcripts.store import keep_previous

        if not self._stems:
            keep_previous(self.folder, self._console, folder=True)
        base = stem = Path(scene.source).stem or "photo"
        number = 1
        while stem in self._stems:
            number += 1
            stem = f"{base}-{number}"
        self._stems.add(stem)
        return write_card(scene, settings, self.folder, stem=stem)


def write_card(scene: SceneText, settings: Settings, folder: Path,
               stem: str | None = None) -> list[Path]:
    """The card's pages as PNGs at the display's pixels, named ``stem`` (default: the
    photo's)."""
    profile = profile_from_options(settings.display)
    stem = stem or Path(scene.source).stem or "photo"
    written = []
    for index, frame in enumerate(card_pages(scene.blocks, profile), start=1):
        path = folder / f"{stem}-card-{index:02d}.png"
        image = render_frame(frame)
        data = png_bytes(image if image.mode != "1" else preview_image(image, profile))
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        except OSError as exc:
            raise ConfigError(f"cannot write {path}: {one_line(exc)}") from None
        written.append(path)
    return written

