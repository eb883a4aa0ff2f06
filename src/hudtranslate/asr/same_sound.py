"""Recognition errors of the same sound, repaired by how likely the words are.

A third of Whisper base's character errors on real Mandarin are the right syllables
written with other characters: 压碎钱 for 压岁钱 "New-Year money", 偏章 for 篇章
"chapter", 竞算师 for 精算师 "actuary", 天气与暴 for 天气预报 "weather forecast"
(36 of the real recordings' 155 errors; docs/benchmark.md, "Thirteenth session"). The
translator then translates the wrong word. Here a stretch of 2-4 Chinese characters that
is not itself a word becomes a word of the same toneless pinyin (``pypinyin``) when the
sentence becomes far more likely as a sequence of words: the most probable segmentation
under jieba's word-frequency dictionary (jieba's own ``get_DAG``/``calc``, a unigram word
model: log P = Σ log(frequency / total)) must gain more than ``margin`` nats.

Why this judge and this margin (docs/benchmark.md, "Fourteenth session"): at 10 nats the
repairs on the real recordings and the synthetic dev talks were all right (8 of 8: real
CER 17.7 → 17.1 %), and 13 of 6,146 correct sentences (146 references of
``shared/data/audio``, 6,000 Tatoeba sentences) were changed, 5 of them fixing Tatoeba's
own typos (办工室, 到逹, 兿术); at 8 nats 6 of 15 repairs were wrong. A character bigram
model judged worse; the local Qwen as a second judge dropped right repairs with the
wrong ones and costs ~1 CPU-s a sentence; this costs ~4 ms a sentence.
The text keeps its length (committed/tentative positions and the translator's
``text_after`` stay aligned).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from hudtranslate.asr.text import HANZI, char_sounds
from hudtranslate.config_speech import DEFAULT_SAME_SOUND_MARGIN_NATS
from hudtranslate.errors import DependencyError

if TYPE_CHECKING:
    from jieba import Tokenizer

log = logging.getLogger(__name__)

_CANDIDATES_PER_SOUND = 8
"""The most frequent words of one sound that are tried; rarer ones never gained enough."""

_RUN = re.compile(HANZI.pattern + "+")
_NUMERALS = frozenset("零〇一二两三四五六七八九十百千万亿")
"""A repair never changes a number (七减二 "seven minus two" sounds like 期间二), nor
writes a word that is one (摆椅 "move the chair" sounds like 百亿 "ten billion")."""
_LONGEST = 4
"""Stretches and words of 2 to this many characters are tried."""


class SameSoundRepair:
    """Repairs same-sound recognition errors in Mandarin text (module docstring)."""

    def __init__(self, tokenizer: Tokenizer,
                 margin: float = DEFAULT_SAME_SOUND_MARGIN_NATS) -> None:
        """``tokenizer``: an initialised ``jieba.Tokenizer`` (its word frequencies);
        ``margin``: nats a repair must add to its sentence's log-probability (> 0).
        Raises ValueError for a margin <= 0."""
        if margin <= 0:
            raise ValueError(f"same-sound margin must be > 0 nats, got {margin}")
        self._tokenizer = tokenizer
        self._margin = margin
        self._chars_of = _characters_by_sound(tokenizer.FREQ)
        self._words_sounding = lru_cache(maxsize=8192)(self._find_words_sounding)
        self._repaired_runs = lru_cache(maxsize=1024)(self._repair_run)

    def repair(self, text: str) -> str:
        """``text`` (any length, any characters) with its same-sound errors repaired:
        each run of Chinese characters is judged alone; of overlapping repairs the one
        that adds most wins. Same length as ``text``. ~0.4 ms a character the first
        time a run is seen (a partial's words seen before are looked up again for free)."""
        return _RUN.sub(lambda run: self._repaired_runs(run.group()), text)

    def options(self, text: str, min_gain: float) -> list[tuple[float, int, int, str]]:
        """Every same-sound repair of ``text`` that adds more than ``min_gain`` nats to its
        run of Chinese characters, as (gain, start, end, word): ``word`` would replace
        ``text[start:end]``. Overlapping ones are all listed (``apply_repairs`` chooses)."""
        found: list[tuple[float, int, int, str]] = []
        for run in _RUN.finditer(text):
            found += [(gain, run.start() + start, run.start() + end, word)
                      for gain, start, end, word in self._run_options(run.group(), min_gain)]
        return found

    def _repair_run(self, run: str) -> str:
        return apply_repairs(run, self._run_options(run, self._margin))

    def _run_options(self, run: str, min_gain: float) -> list[tuple[float, int, int, str]]:
        sounds = char_sounds(run)
        if len(sounds) != len(run):  # never seen: pypinyin gives one item per character
            return []
        words = self._tokenizer.FREQ
        options: list[tuple[float, int, int, str]] = []
        base: float | None = None
        for start in range(len(run) - 1):
            same_sound = self._words_sounding(tuple(sounds[start:start + _LONGEST]))
            for end in range(start + 2, min(len(run), start + _LONGEST) + 1):
                if words.get(run[start:end]) or _NUMERALS.intersection(run[start:end]):
                    continue
                for word in same_sound[end - start - 2]:
                    if _NUMERALS.issuperset(word):
                        continue
                    if base is None:
                        base = self._log_probability(run)
                    gain = self._log_probability(run[:start] + word + run[end:]) - base
                    if gain > min_gain:
                        options.append((gain, start, end, word))
        return options

    def _find_words_sounding(self, sounds: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
        """Dictionary words sounding like ``sounds[:2]``, ``sounds[:3]``, ``sounds[:4]``
        (the most frequent ``_CANDIDATES_PER_SOUND`` of each, most frequent first),
        found by extending only prefixes that jieba's dictionary holds."""
        frequencies = self._tokenizer.FREQ
        found: list[tuple[str, ...]] = []
        prefixes = [""]
        for depth, sound in enumerate(sounds, start=1):
            prefixes = [prefix + char for prefix in prefixes
                        for char in self._chars_of.get(sound, ()) if prefix + char in frequencies]
            if depth >= 2:
                words = sorted((word for word in prefixes if frequencies[word] > 0),
                               key=lambda word: -frequencies[word])
                found.append(tuple(words[:_CANDIDATES_PER_SOUND]))
        found += [()] * (_LONGEST - 1 - len(found))
        return tuple(found)

    def _log_probability(self, run: str) -> float:
        return word_log_probability(self._tokenizer, run)


def word_log_probability(tokenizer: Tokenizer, text: str) -> float:
    """Natural log-probability of the most likely segmentation of ``text`` (non-empty) into
    dictionary words (jieba's ``calc``: unknown characters count as frequency 1)."""
    route: dict[int, tuple[float, int]] = {}
    tokenizer.calc(text, tokenizer.get_DAG(text), route)
    return route[0][0]


def apply_repairs(text: str, options: list[tuple[float, int, int, str]]) -> str:
    """``text`` with repairs (gain, start, end, word) applied, the largest gain first and
    none overlapping one already applied; ``word`` replaces ``text[start:end]``."""
    chars = list(text)
    taken: set[int] = set()
    for _gain, start, end, word in sorted(options, reverse=True):
        if taken.isdisjoint(range(start, end)):
            chars[start:end] = word
            taken.update(range(start, end))
    return "".join(chars)


MOST_JUDGED = 8
"""Of a final's repairs, the ones adding most are judged (one more forced decode each;
every right repair measured was among a text's 6 likeliest)."""
HEARD_TOLERANCE_NATS = 2.5
"""A repair the word model favours is kept when Whisper, hearing the audio again, finds the
repaired text at most this many nats less likely than what it wrote."""


def repair_by_ear(repairer: SameSoundRepair, text: str, start: int,
                  likelihoods: Callable[[Sequence[str]], Sequence[float]], *,
                  min_gain: float, tolerance: float = HEARD_TOLERANCE_NATS,
                  keep: Sequence[str] = ()) -> str:
    """``text`` with the same-sound repairs of ``text[start:]`` that add more than
    ``min_gain`` nats under the word model (``SameSoundRepair.options``; the
    ``MOST_JUDGED`` adding most) and that the audio does not argue against:
    ``likelihoods(texts)`` gives Whisper's log-probability of each text for the
    utterance's audio (``WhisperEngine.text_log_probabilities``), and a repaired text
    may be at most ``tolerance`` nats less likely than ``text``. Same
    length as ``text``; ``text`` itself when nothing is repaired (no call to
    ``likelihoods`` when there is nothing to judge). Words of ``keep`` (a glossary's
    terms) are never touched where the text has them.

    Why: the word model alone needs 10 nats to be safe, and same-sound errors that gain
    less (金融血 → 金融学 3.9, 起发 → 启发 3.8, 闪北 → 陕北 6.7) need the words around
    them; what Whisper hears tells them from wrong repairs of the same gain (放聊 → 放疗
    −3.3, 微信 → 威信 −5.9 nats), and hears correct text as such (太咸 → 苔藓 −20). From
    3.5 nats with 2.5 nats of tolerance, on recognised text: real recordings' CER 16.3 →
    15.3 %, the dev talks' sentences 11.5 → 10.3 %, the dev utterances 12.3 → 11.2 %, far
    copies 38.3 → 38.1 %, no correctly recognised sentence changed
    (``scripts/same_sound_by_ear.py``; docs/benchmark.md, "Twenty-second session")."""
    kept_chars = {index for word in keep if word
                  for found in re.finditer(re.escape(word), text)
                  for index in range(found.start(), found.end())}
    options = sorted(((gain, begin + start, end + start, word)
                      for gain, begin, end, word in repairer.options(text[start:], min_gain)
                      if kept_chars.isdisjoint(range(begin + start, end + start))),
                     reverse=True)[:MOST_JUDGED]
    if not options:
        return text
    repaired = [text[:begin] + word + text[end:] for _gain, begin, end, word in options]
    heard, *scores = likelihoods([text, *repaired])
    # of overlapping repairs, the one both judges favour most (log-linear: nats as words
    # plus nats by ear): 汤木的 "Tangmu's" → 汤姆的 (+5.4 −0.5), not 汤目的 (+5.7 −1.1)
    kept = [(gain + score - heard, begin, end, word)
            for (gain, begin, end, word), score in zip(options, scores, strict=True)
            if score >= heard - tolerance]
    if log.isEnabledFor(logging.DEBUG):
        for (gain, begin, end, word), score in zip(options, scores, strict=True):
            log.debug("same sound %s → %s: %+.1f nats as words, %+.1f by ear%s",
                      text[begin:end], word, gain, score - heard,
                      " (kept)" if score >= heard - tolerance else "")
    return apply_repairs(text, kept)


def _characters_by_sound(frequencies: dict[str, int]) -> dict[str, tuple[str, ...]]:
    """Toneless pinyin → the Chinese characters of the dictionary's 2-4-character words
    read so (each read alone, as ``char_sounds`` reads them inside a text)."""
    characters = sorted({char for word, count in frequencies.items()
                         if count > 0 and 2 <= len(word) <= _LONGEST
                         for char in word if HANZI.match(char)})
    grouped: dict[str, list[str]] = {}
    for char, sound in zip(characters, char_sounds("".join(characters)), strict=True):
        grouped.setdefault(sound, []).append(char)
    return {sound: tuple(chars) for sound, chars in grouped.items()}


@lru_cache(maxsize=1)
def word_tokenizer() -> Tokenizer:
    """jieba's word segmenter with its word-frequency dictionary, one per process (~1 s
    and ~75 MB, loaded on first use), shared by the same-sound repairs and the
    translator's sentence-end rules. Raises ``DependencyError`` when jieba is missing."""
    try:
        import jieba
    except ImportError:
        raise DependencyError("Mandarin word segmentation needs jieba: pip install jieba") from None

    jieba.setLogLevel(logging.WARNING)  # its loader logs at DEBUG to stderr by default
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


@lru_cache(maxsize=4)
def same_sound_repair(margin: float = DEFAULT_SAME_SOUND_MARGIN_NATS) -> SameSoundRepair:
    """One repairer per margin, shared by every stream of the process (``word_tokenizer``).
    Raises ``DependencyError`` when jieba is missing."""
    return SameSoundRepair(word_tokenizer(), margin)
