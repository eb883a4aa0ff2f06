"""Settings: one frozen options object per stage, loaded from TOML, environment and CLI.

Precedence, lowest to highest: defaults < TOML file < environment < command line.
Every field can be set in TOML as ``[section] field = value``, and in the environment as
``HUDTRANSLATE_<SECTION>_<FIELD>`` (e.g. ``HUDTRANSLATE_VAD_MIN_SILENCE_MS=300``); top-level
fields as ``HUDTRANSLATE_<FIELD>`` (e.g. ``HUDTRANSLATE_THREADS=2``).
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hudtranslate.config_conversation import ConversationOptions as ConversationOptions
from hudtranslate.config_conversation import VoiceOptions as VoiceOptions
from hudtranslate.config_display import CaptionOptions as CaptionOptions
from hudtranslate.config_display import DisplayOptions as DisplayOptions
from hudtranslate.config_speech import (
    DEFAULT_SAME_SOUND_MARGIN_NATS as DEFAULT_SAME_SOUND_MARGIN_NATS,
)
from hudtranslate.config_speech import MAX_INITIAL_PROMPT_CHARS as MAX_INITIAL_PROMPT_CHARS
from hudtranslate.config_speech import AsrOptions as AsrOptions
from hudtranslate.config_speech import VadOptions as VadOptions
from hudtranslate.errors import ConfigError, check_range, one_line

log = logging.getLogger(__name__)

ENV_PREFIX = "HUDTRANSLATE_"
NON_SETTING_VARIABLES = frozenset({
    "HUDTRANSLATE_TOKEN", "HUDTRANSLATE_REMOTE_API_KEY", "HUDTRANSLATE_SHARED_DATA",
    "HUDTRANSLATE_REAL_MODELS", "HUDTRANSLATE_VENV", "HUDTRANSLATE_EXTRAS",
    "HUDTRANSLATE_EXTRA_APT", "HUDTRANSLATE_CHROMIUM", "HUDTRANSLATE_DATA_DIR",
})
"""Variables read elsewhere (server token, remote key, setup and test scripts): no warning."""


def default_cache_dir() -> Path:
    """Model cache when ``cache_dir`` is not set: $XDG_CACHE_HOME/hudtranslate, else
    ~/.cache/hudtranslate."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hudtranslate"


def cache_dir_origin(toml_path: Path | None, env: Mapping[str, str], flag: str | None) -> str:
    """Where the model cache folder came from, as the user set it: ``--cache-dir``,
    ``HUDTRANSLATE_CACHE_DIR``, ``cache_dir in FILE`` or the default (with
    ``XDG_CACHE_HOME`` when that chose it), by ``Settings.load``'s precedence. Errors
    about the folder name it, as ``transcripts`` does for HUDTRANSLATE_DATA_DIR: naming
    ``--cache-dir`` sent a user who never typed it looking for a flag."""
    variable = f"{ENV_PREFIX}CACHE_DIR"
    written = _read_toml(toml_path).get("cache_dir") if toml_path is not None else None
    for origin, value in (("--cache-dir", flag), (variable, env.get(variable)),
                          (f"cache_dir in {toml_path}", written)):
        if value is not None:  # the highest one set wins, even "" (the default then)
            if str(value):
                return origin
            break
    return "the model cache" + (" (XDG_CACHE_HOME)" if env.get("XDG_CACHE_HOME") else "")


@dataclass(frozen=True)
class AudioOptions:
    """How audio is read. ``realtime`` paces a file as a live microphone would."""

    chunk_ms: int = 100
    realtime: bool = False
    device: str = ""

    def __post_init__(self) -> None:
        check_range("audio.chunk_ms", self.chunk_ms, 10, 2000)


@dataclass(frozen=True)
class TranslateOptions:
    """Qwen translation: ``model`` is a catalogue name or a GGUF file path.

    While a sentence is still being spoken, its committed (stable) Chinese is translated
    each time it has grown by ``partial_min_new_chars``: early English for long sentences
    without spending the two cores on every flicker of the recogniser.

    A committed clause (up to ，；：) of at least ``clause_commit_chars`` characters is
    translated and committed at once, the rest of its sentence continuing that English
    (0: commit only whole sentences).

    ``glossary`` is a TOML or TSV file of Chinese → English terms to keep exact;
    ``cedict_names`` adds CC-CEDICT's proper names (places, organisations, people).
    """

    model: str = "qwen2.5-1.5b"
    context_sentences: int = 2
    max_new_tokens: int = 120
    context_tokens: int = 2048
    translate_partials: bool = True
    partial_min_new_chars: int = 6
    glossary: str = ""
    cedict_names: bool = False
    clause_commit_chars: int = 8

    def __post_init__(self) -> None:
        check_range("translate.partial_min_new_chars", self.partial_min_new_chars, 1, 100)
        check_range("translate.context_sentences", self.context_sentences, 0, 10)
        check_range("translate.clause_commit_chars", self.clause_commit_chars, 0, 100)
        check_range("translate.max_new_tokens", self.max_new_tokens, 8, 1024)
        check_range("translate.context_tokens", self.context_tokens, 512, 32_768)


@dataclass(frozen=True)
class VisionOptions:
    """Reading text in photos (``hudtranslate look``, ``POST /look``).

    ``ocr_long_side_px``: photos are scaled so their long side is at most this before OCR
    (MODELS.md: a 12-MP photo costs 2.4–4.4 s and ~800 MB unscaled, ~0.8 s at 1600 px).
    ``max_megapixels``: larger images are refused before decoding (decompression bombs).
    ``min_confidence``: OCR lines below this recogniser score are dropped.
    ``ocr_threads``: onnxruntime threads (one while speech is being translated).
    ``max_new_tokens``: English tokens at most per block of text.
    ``cedict_names``: keep CC-CEDICT's proper names exact (banks, cities, stations: signs
    are full of them), on top of ``translate.glossary``.
    ``batch_blocks``: blocks the local model writes side by side after the first (1: one
    at a time; at most 16, ``translate.llama.PARALLEL_SEQUENCES`` - 1).
    ``turn_sideways``: a photo that reads poorly (no text, low scores, text in columns) is
    read turned by 90°, 270° and 180° too and the best reading kept: phones that drop the
    EXIF rotation tag and tilted cameras deliver sideways photos (``vision.orientation``;
    up to three more OCR passes on such photos).
    """

    ocr_long_side_px: int = 1600
    max_megapixels: float = 50.0
    min_confidence: float = 0.5
    ocr_threads: int = 2
    max_new_tokens: int = 160
    cedict_names: bool = True
    batch_blocks: int = 16
    turn_sideways: bool = True

    def __post_init__(self) -> None:
        check_range("vision.batch_blocks", self.batch_blocks, 1, 16)
        check_range("vision.ocr_long_side_px", self.ocr_long_side_px, 320, 8192)
        check_range("vision.max_megapixels", self.max_megapixels, 1.0, 500.0)
        check_range("vision.min_confidence", self.min_confidence, 0.0, 1.0)
        check_range("vision.ocr_threads", self.ocr_threads, 1, 64)
        check_range("vision.max_new_tokens", self.max_new_tokens, 8, 1024)


@dataclass(frozen=True)
class OverloadOptions:
    """Graceful overload (``hudtranslate serve``): when the cores cannot keep up, optional
    work is shed, so that final English stays bounded (``hudtranslate.load``).

    The *backlog* of a session is how long the oldest unfinished input of its recognition
    stage has waited plus the same for its translation stage, in wall-clock seconds: about
    how far behind real time its captions are. The worst session's backlog sets one load
    level for every session (they share the cores, so each sheds the same work):

    * ``partial_translations_lag_s``: level 1, tentative English, mid-sentence commits and
      prompt prefills are shed (finals are still written word by word);
    * ``partial_decodes_lag_s``: level 2, partial re-decodes too (finals only);
    * ``final_beam_lag_s``: level 3, final decodes are greedy (beam 1).

    A level is entered once the backlog has stayed at or above its threshold for
    ``raise_hold_s`` (one slow sentence is not overload), and left one level at a time once
    the backlog has stayed below ``recover_share`` × the level's threshold for
    ``recover_hold_s`` (hysteresis: no flapping). The backlog is checked every
    ``check_interval_ms``. ``shed = false`` never sheds (the backlog is still measured and
    exported); ``fair_turns = false`` lets sessions take the shared models in whatever
    order their threads get the model's lock, instead of finals first and then in turn.

    ``overflow_model`` (a catalogue name or GGUF path; "" or "off": none; "auto", the
    default: qwen2.5-0.5b-q4_0 for a server of several wearers, if installed, loaded when
    a second one joins): a smaller local model that translates the sentences reaching the
    translator from a worst backlog of ``overflow_lag_s`` while the main model is
    saturated (from twice that at any load); the main model takes over again once the
    backlog has stayed low for ``recover_hold_s`` (doubled after each return that fell
    behind again) and it would keep up with the translations of the last 20 s
    (``overload.OverflowSwitch``, ``overload.TranslatorDemand``; ``translate/overflow.py``).
    """

    shed: bool = True
    fair_turns: bool = True
    partial_translations_lag_s: float = 2.5
    partial_decodes_lag_s: float = 4.0
    final_beam_lag_s: float = 6.0
    raise_hold_s: float = 1.0
    recover_share: float = 0.5
    recover_hold_s: float = 5.0
    check_interval_ms: int = 250
    overflow_model: str = "auto"
    overflow_lag_s: float = 1.5

    def __post_init__(self) -> None:
        check_range("overload.partial_translations_lag_s", self.partial_translations_lag_s,
                     0.05, 600.0)
        check_range("overload.partial_decodes_lag_s", self.partial_decodes_lag_s, 0.05, 600.0)
        check_range("overload.final_beam_lag_s", self.final_beam_lag_s, 0.05, 600.0)
        if not (self.partial_translations_lag_s <= self.partial_decodes_lag_s
                <= self.final_beam_lag_s):
            raise ConfigError("overload thresholds must grow: overload."  # dotted: see
                              "partial_translations_lag_s <= overload.partial_decodes_lag_s "
                              "<= overload.final_beam_lag_s, got "  # _with_origin
                              f"{self.partial_translations_lag_s}, "
                              f"{self.partial_decodes_lag_s}, {self.final_beam_lag_s}")
        check_range("overload.raise_hold_s", self.raise_hold_s, 0.0, 600.0)
        check_range("overload.recover_share", self.recover_share, 0.05, 1.0)
        check_range("overload.recover_hold_s", self.recover_hold_s, 0.0, 3600.0)
        check_range("overload.overflow_lag_s", self.overflow_lag_s, 0.05, 600.0)
        check_range("overload.check_interval_ms", self.check_interval_ms, 10, 10_000)


@dataclass(frozen=True)
class Settings:
    """Everything the CLI can set. ``threads`` is the core budget shared by ASR and MT."""

    threads: int = 2
    cache_dir: str = ""
    audio: AudioOptions = field(default_factory=AudioOptions)
    vad: VadOptions = field(default_factory=VadOptions)
    asr: AsrOptions = field(default_factory=AsrOptions)
    translate: TranslateOptions = field(default_factory=TranslateOptions)
    captions: CaptionOptions = field(default_factory=CaptionOptions)
    display: DisplayOptions = field(default_factory=DisplayOptions)
    vision: VisionOptions = field(default_factory=VisionOptions)
    overload: OverloadOptions = field(default_factory=OverloadOptions)
    conversation: ConversationOptions = field(default_factory=ConversationOptions)
    voice: VoiceOptions = field(default_factory=VoiceOptions)

    def __post_init__(self) -> None:
        check_range("threads", self.threads, 1, 64)

    @property
    def cache_path(self) -> Path:
        # ~ expanded: a config file or variable has no shell to do it
        return Path(self.cache_dir).expanduser() if self.cache_dir else default_cache_dir()

    @classmethod
    def load(
        cls,
        toml_path: Path | None = None,
        env: Mapping[str, str] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> Settings:
        """Merge defaults, a TOML file, the environment and CLI ``overrides``.

        ``overrides`` uses dotted keys (``"vad.min_silence_ms"``); ``None`` values are skipped.
        """
        tree: dict[str, Any] = {}
        origins: dict[str, str] = {}  # dotted key → the file or variable that set it
        if toml_path is not None:
            written = _read_toml(toml_path)
            if problems := _unknown_keys(cls, written, ""):  # only a file can have these
                raise ConfigError(f"config file {toml_path}: {'; '.join(problems)}")
            _merge(tree, written)
            origins.update(dict.fromkeys(_dotted_keys(written), str(toml_path)))
        from_env = _from_env(os.environ if env is None else env)
        _merge(tree, from_env)
        origins.update({key: ENV_PREFIX + key.replace(".", "_").upper()
                        for key in _dotted_keys(from_env)})
        for dotted, value in (overrides or {}).items():
            if value is not None:
                _set_dotted(tree, dotted, value)
                origins.pop(dotted, None)  # typed on the command line: nothing to name
        try:
            settings: Settings = _build(cls, tree, "")
        except ConfigError as exc:
            raise ConfigError(_with_origin(str(exc), origins)) from None
        return settings


def _dotted_keys(tree: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Every key of ``tree`` as written: ``vad.threshold``, and ``vad`` for ``vad = 3``."""
    keys = []
    for key, value in tree.items():
        nested = isinstance(value, Mapping) and not prefix
        keys += _dotted_keys(value, f"{key}.") if nested else [prefix + key]
    return keys


def _with_origin(message: str, origins: Mapping[str, str]) -> str:
    """``message`` with where the settings it names were set (a variable or a config file):
    "vad.threshold must be ..." sent a user with the variable set to look in a file."""
    named = sorted({origin for key, origin in origins.items()
                    if re.search(rf"(?<![\w.]){re.escape(key)}(?!\w)", message)})
    return f"{message} (from {', '.join(named)})" if named else message


def _read_toml(path: Path) -> dict[str, Any]:
    try:  # a byte-order mark (Windows Notepad's UTF-8) is not part of the text
        return tomllib.loads(path.read_bytes().decode("utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a folder, not a TOML file") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {one_line(exc)}") from None
    except UnicodeDecodeError as exc:  # TOML is UTF-8 by definition (toml.io, v1.0.0)
        raise ConfigError(f"config file {path} is not UTF-8 text: byte {exc.start} "
                          f"({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


def _sections() -> list[str]:
    hints = typing.get_type_hints(Settings)
    return [name for name, hint in hints.items() if dataclasses.is_dataclass(hint)]


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    sections = _sections()
    for key, raw in env.items():
        if not key.startswith(ENV_PREFIX):
            continue
        rest = key[len(ENV_PREFIX) :].lower()
        section = next((s for s in sections if rest.startswith(s + "_")), None)
        dotted = f"{section}.{rest[len(section) + 1 :]}" if section else rest
        hint = _field_type(dotted)
        if hint is not None and not dataclasses.is_dataclass(hint):  # a section is no value
            _set_dotted(tree, dotted, raw)
        elif key not in NON_SETTING_VARIABLES:
            homes = [] if section else [f"{ENV_PREFIX}{s}_{rest}".upper() for s in sections
                                        if _field_type(f"{s}.{rest}") is not None]
            suggestion = (f" (did you mean {' or '.join(homes)}?)" if homes  # HUDTRANSLATE_MODE
                          else _did_you_mean(key, _setting_variables(), len(ENV_PREFIX)))
            log.warning("%s is not a hudtranslate setting and is ignored%s", key, suggestion)
    return tree


def _setting_variables() -> list[str]:
    """Every ``HUDTRANSLATE_*`` name that sets something (for "did you mean")."""
    names = []
    for field_ in dataclasses.fields(Settings):
        hints = typing.get_type_hints(Settings)
        if dataclasses.is_dataclass(hints[field_.name]):
            names += [f"{ENV_PREFIX}{field_.name}_{inner.name}".upper()
                      for inner in dataclasses.fields(hints[field_.name])]
        else:
            names.append(f"{ENV_PREFIX}{field_.name}".upper())
    return names


def _field_type(dotted: str) -> Any:
    owner: Any = Settings
    for part in dotted.split("."):
        hints = typing.get_type_hints(owner)
        if part not in hints:
            return None
        owner = hints[part]
    return owner


def _merge(into: dict[str, Any], new: Mapping[str, Any]) -> None:
    for key, value in new.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = dict(value) if isinstance(value, Mapping) else value


def _set_dotted(tree: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    node = tree
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def _did_you_mean(name: str, known: list[str], common_prefix: int = 0) -> str:
    """' (did you mean X?)' when one known name is close, compared after a prefix they all
    share (every variable starts HUDTRANSLATE_, which would make any two look alike)."""
    by_tail = {candidate[common_prefix:]: candidate for candidate in known}
    close = difflib.get_close_matches(name[common_prefix:], list(by_tail), n=1, cutoff=0.75)
    return f" (did you mean {by_tail[close[0]]}?)" if close else ""


def _unknown_keys(cls: type[Any], tree: Mapping[str, Any], prefix: str) -> list[str]:
    """Every key in ``tree`` (and its tables) that is not a setting, each with a hint."""
    hints = typing.get_type_hints(cls)
    problems = []
    for key in sorted(tree):
        hint = hints.get(key)
        if hint is None:
            where = f"[{prefix.rstrip('.')}]" if prefix else "top level"
            is_table = isinstance(tree[key], Mapping) and not prefix
            what = f"unknown section [{key}]" if is_table else f"unknown setting {key} in {where}"
            problems.append(what + (_belongs_elsewhere(key, prefix.rstrip("."))
                                    or _did_you_mean(key, sorted(hints))))
        elif dataclasses.is_dataclass(hint) and isinstance(tree[key], Mapping):
            problems += _unknown_keys(typing.cast(type, hint), tree[key], f"{prefix}{key}.")
    return problems


def _belongs_elsewhere(key: str, section: str) -> str:
    """' (it belongs in [vad])' for a setting written under the wrong table, or at the top
    level of the file: TOML puts every line after ``[vad]`` in [vad]."""
    hints = typing.get_type_hints(Settings)
    if section and key in hints and not dataclasses.is_dataclass(hints[key]):
        return " (a top-level setting: put it above the first [section])"
    homes = [name for name, hint in hints.items() if name != section
             and dataclasses.is_dataclass(hint) and key in typing.get_type_hints(hint)]
    return f" (it belongs in [{'] or ['.join(homes)}])" if homes else ""


def _build(cls: type[Any], tree: Mapping[str, Any], prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for name, value in tree.items():
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            if not isinstance(value, Mapping):
                raise ConfigError(f"[{prefix}{name}] must be a table of settings")
            kwargs[name] = _build(typing.cast(type, hint), value, f"{prefix}{name}.")
        else:
            kwargs[name] = _coerce(f"{prefix}{name}", hint, value)
    return cls(**kwargs)


_WANTED = {bool: "true or false", int: "an integer", float: "a number", str: "text (in quotes)"}


def _coerce(name: str, hint: Any, value: Any) -> Any:
    if isinstance(hint, types.UnionType):
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    if hint not in _WANTED:
        raise ConfigError(f"{name}: unsupported setting type {hint!r}")
    value = os.fspath(value) if isinstance(value, os.PathLike) else value
    # a TOML array, table or date fits none (float() of one was a TypeError), a bool no other
    if not isinstance(value, str | int | float) or (isinstance(value, bool)
                                                    and hint is not bool):
        kinds: dict[type, str] = {bool: "a boolean", list: "an array", dict: "a table"}
        raise ConfigError(f"{name} must be {_WANTED[hint]}, got "
                          f"{kinds.get(type(value), 'a ' + type(value).__name__)}")
    if hint is bool:
        text = str(value).strip().lower()  # "True"/"False" for a TOML boolean
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{name} must be true or false, got {value!r}")
    if hint in (int, float):
        try:
            return hint(value) if hint is float else int(str(value), 10)
        except ValueError:
            raise ConfigError(f"{name} must be {_WANTED[hint]}, got {value!r}") from None
    return str(value)  # a number is fine as text: a device index
