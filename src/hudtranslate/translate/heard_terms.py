"""Glossary terms the recogniser wrote with other characters of the same sound.

Whisper base writes a name it does not know with characters of the same syllables:
汤姆 (Tom) as 汤墓 "tomb" or 汤木, 玛丽 (Mary) as 马利. The glossary's exact lookup then
misses the term and the translator reads a tomb. Here a stretch of the recognised text
whose toneless pinyin (``pypinyin``) is that of one of the user's terms becomes the term,
unless the stretch is itself an ordinary word (CC-CEDICT: 字母 "letters" stays beside a
term 字幕 "captions") or a word crosses its edges (完工但 "finished, but" keeps its 工但
from becoming 工单 "ticket"; 索马里 "Somalia" keeps its 马里 beside a term 玛丽). A name
that sounds like the term is taken to be it (马利 → 玛丽). Terms of one character are
too ambiguous to match.
The text keeps its length, so character positions (the recogniser's committed text, the
translator's ``text_after``) stay aligned.

Showing Whisper the terms as its prompt was measured and dropped: three names were then
heard 7 of 7 times, but 20 terms in the prompt made the real recordings' CER 17.7 → 32.6 %
(docs/benchmark.md, "Thirteenth session").
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from hudtranslate.asr.text import HANZI, char_sounds
from hudtranslate.translate.glossary import cedict_entries

_LONGEST_WORD = 4
"""Ordinary words this long or shorter are checked across a stretch's edges."""


@lru_cache(maxsize=1)
def cedict_words() -> tuple[frozenset[str], frozenset[str]]:
    """CC-CEDICT's Simplified words of 2-4 characters: (all of them, the ordinary ones,
    i.e. not proper names with capitalised pinyin). Loaded once (~1.3 s), only when a
    glossary has terms."""
    entries = [entry for entry in cedict_entries("glossary sound matching")
               if 2 <= len(entry["simplified"]) <= _LONGEST_WORD]
    return (frozenset(entry["simplified"] for entry in entries),
            frozenset(entry["simplified"] for entry in entries
                      if not entry["pinyin"][:1].isupper()))


class TermsBySound:
    """Restores the user's glossary terms in recognised Chinese by their sound."""

    def __init__(self, terms: Iterable[str],
                 words: tuple[frozenset[str], frozenset[str]] | None = None) -> None:
        """``terms``: the glossary's Chinese (one-character terms are left out);
        ``words``: (all words, ordinary words) that block a match (default
        ``cedict_words()``, loaded only if a term is kept)."""
        kept = sorted({term for term in terms
                       if len(term) >= 2 and all(HANZI.match(char) for char in term)},
                      key=lambda term: (-len(term), term))
        self._by_sound: dict[tuple[str, ...], str] = {}
        for term in kept:  # of two terms that sound alike, the first in this order wins
            self._by_sound.setdefault(tuple(char_sounds(term)), term)
        self._lengths = sorted({len(term) for term in kept}, reverse=True)
        empty: frozenset[str] = frozenset()
        self._words, self._ordinary = (words if words is not None
                                       else cedict_words() if kept else (empty, empty))

    def __bool__(self) -> bool:
        return bool(self._by_sound)

    def restore(self, text: str) -> str:
        """``text`` with each stretch that sounds like a term (and is not blocked by an
        ordinary word) replaced by the term; the longest term first, left to right.
        Same length as ``text``. One pinyin lookup per character and one dictionary
        lookup per character and term length: ~0.1 ms for a sentence, however long the
        glossary."""
        if not self._by_sound or not text:
            return text
        sounds = char_sounds(text)
        if len(sounds) != len(text):  # never seen: pypinyin gives one item per character
            return text
        chars = list(text)
        start = 0
        while start < len(text):
            for length in self._lengths:
                end = start + length
                term = self._by_sound.get(tuple(sounds[start:end])) if end <= len(text) else None
                if term is None:
                    continue
                stretch = text[start:end]
                if stretch == term:
                    start = end
                    break
                if (all(HANZI.match(char) for char in stretch)
                        and not self._blocked(text, start, end)):
                    chars[start:end] = term
                    start = end
                    break
            else:
                start += 1
        return "".join(chars)

    def _blocked(self, text: str, start: int, end: int) -> bool:
        """Is ``text[start:end]`` an ordinary word, or does any word cross its edges?"""
        if text[start:end] in self._ordinary:
            return True
        for edge in (start, end):
            for first in range(max(0, edge - _LONGEST_WORD + 1), edge):
                for last in range(edge + 1, min(len(text), first + _LONGEST_WORD) + 1):
                    if text[first:last] in self._words:
                        return True
        return False


@lru_cache(maxsize=8)
def terms_by_sound(terms: tuple[str, ...]) -> TermsBySound:
    """One ``TermsBySound`` per glossary (streams of a server share it)."""
    return TermsBySound(terms)
