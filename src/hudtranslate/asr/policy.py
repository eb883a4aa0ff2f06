"""LocalAgreement commit policy for streaming recognition (pure, model-free).

Whisper re-decodes the whole utterance each time more audio arrives. A character is
committed once two consecutive hypotheses agree on it (LocalAgreement-2, as in
whisper_streaming); the rest is tentative. Committed text only grows within an utterance,
so the display never has to erase it.

Whisper base punctuates the same words differently from one decode to the next
("…鼻子，我无法" / "…鼻子我无法"), so agreement is judged on the words alone, and the
newer hypothesis's punctuation is kept; a mark is committed only once words after it are
agreed too, which is what confirms a sentence end.
"""

from __future__ import annotations

from dataclasses import dataclass

from hudtranslate.asr.text import (
    CLAUSE_MARKS,
    CLOSING_MARKS,
    CUT_CLAUSE_MARKS,
    SENTENCE_MARKS,
    common_prefix,
)


@dataclass
class LocalAgreement:
    """Per-utterance commit state; ``reset`` starts the next utterance."""

    committed: str = ""
    _previous: str = ""

    def update(self, hypothesis: str) -> tuple[str, str]:
        """Feed a new full hypothesis; return (committed, tentative).

        The hypothesis is expected to start with the committed text (the recogniser is
        prompted with it); if it does not, the committed text still stands and the
        hypothesis's diverging part becomes tentative.
        """
        if not hypothesis.startswith(self.committed):
            tail = hypothesis[len(common_prefix(hypothesis, self.committed)) :]
            self._previous = self.committed + tail
            return self.committed, tail
        agreed = agreed_prefix(self._previous, hypothesis)
        if len(agreed) > len(self.committed):
            self.committed = agreed
        self._previous = hypothesis
        return self.committed, hypothesis[len(self.committed) :]

    def amend(self, start: int, text: str) -> None:
        """Committed text from ``start`` on rewritten as ``text`` (same length: a repair
        of characters), in the last hypothesis too, so the next decode (forced to say the
        amended text) agrees with it."""
        end = start + len(text)
        self.committed = self.committed[:start] + text + self.committed[end:]
        self._previous = self._previous[:start] + text + self._previous[end:]

    def finish(self, hypothesis: str) -> str:
        """The final hypothesis becomes the whole committed text; returns it.

        The final decode sees all the audio with a wider beam and no forced prefix, so it
        is the best estimate: it supersedes partial commitments (which only ever fed the
        tentative English), and a final that heard nothing keeps what was committed.
        """
        final = hypothesis or self.committed
        self.committed = self._previous = final
        return final

    def reset(self) -> None:
        self.committed = ""
        self._previous = ""



PUNCTUATION = SENTENCE_MARKS + CLAUSE_MARKS + "…“”\"'《》（）() "


def agreed_prefix(previous: str, hypothesis: str) -> str:
    """The longest prefix of ``hypothesis`` whose words (punctuation and spaces ignored)
    ``previous`` starts with too, ending on an agreed word character."""
    i = j = end = 0
    while j < len(hypothesis):
        if hypothesis[j] in PUNCTUATION:
            j += 1
            continue
        while i < len(previous) and previous[i] in PUNCTUATION:
            i += 1
        if i >= len(previous) or previous[i] != hypothesis[j]:
            break
        i, j = i + 1, j + 1
        end = j
    return hypothesis[:end]


def sentence_cut(committed: str, emitted: int, min_chars: int,
                 clause_min_chars: int = 0) -> int:
    """Index just past the last sentence-final mark of ``committed[emitted:]`` that closes
    at least ``min_chars`` characters after ``emitted``, or the last clause mark (，；：)
    closing at least ``clause_min_chars`` (0: clauses never), whichever comes later; 0
    when there is none (``min_chars`` 0: off).

    Whisper's punctuation, once words after it are agreed by two decodes, is where the
    recogniser itself finds a sentence or clause end: the text up to it can be final while
    the speaker goes on. Whisper base often ends a sentence with ， in a partial, so long
    clauses count too (the translator keeps their sentence open).
    """
    if min_chars <= 0:
        return 0
    cuts = [0]
    for marks, least in ((SENTENCE_MARKS, min_chars), (CUT_CLAUSE_MARKS, clause_min_chars)):
        for index in range(len(committed) - 1, emitted - 1, -1):
            if least > 0 and committed[index] in marks:
                if len(committed[emitted:index].strip(PUNCTUATION)) >= least:
                    cuts.append(index + 1)
                break
    return max(cuts)


def sentence_pieces(text: str, min_chars: int) -> list[str]:
    """``text`` split after each sentence-final mark (。？！, with the closing quotes or
    brackets right after it) where both the piece before and the rest hold at least
    ``min_chars`` spoken characters; ``"".join`` of the result is ``text``. Shorter
    sentences stay with their neighbour ("好。我们走吧。" is one piece at ``min_chars`` 4).
    ``min_chars`` 0, or no such mark: ``[text]``.

    A final decode of several seconds of nonstop speech may hold two or three sentences;
    given out one by one, the first is translated without waiting for the others'
    English. Clause marks (，) do not split a final: tried on ``06-nonstop-speech``, the
    pieces cost 5 % more CPU and the final p95 did not fall (docs/benchmark.md).
    """
    if min_chars <= 0 or not text:
        return [text]
    pieces: list[str] = []
    start = 0
    index = 0
    while index < len(text):
        if text[index] not in SENTENCE_MARKS:
            index += 1
            continue
        end = index + 1
        while end < len(text) and (text[end] in SENTENCE_MARKS or text[end] in CLOSING_MARKS
                                   or text[end] == " "):
            end += 1
        if spoken_chars(text[start:end]) >= min_chars <= spoken_chars(text[end:]):
            pieces.append(text[start:end])
            start = end
        index = end
    pieces.append(text[start:])
    return pieces


def spoken_chars(text: str) -> int:
    """Characters of ``text`` that are said (punctuation and spaces left out)."""
    return sum(1 for char in text if char not in PUNCTUATION)


LATIN_CHARS_PER_CHINESE = 4
"""English takes about four letters for each Chinese character said in the same time."""


def _latin(char: str) -> bool:
    """An English letter, space or ASCII mark; a digit is said as a syllable of its own."""
    return char.isascii() and not char.isdigit()


def spoken_length(text: str) -> float:
    """How long ``text`` takes to say, in Chinese characters: each English letter, space
    or ASCII mark counts 1 / ``LATIN_CHARS_PER_CHINESE``, anything else (a Chinese
    character or mark, a digit) one."""
    latin = sum(1 for char in text if _latin(char))
    return len(text) - latin + latin / LATIN_CHARS_PER_CHINESE


def within_spoken_length(text: str, max_chars: int) -> str:
    """``text`` cut where it would say more than ``max_chars`` Chinese characters
    (``spoken_length``): the cap on what a decode of so many seconds can have heard.
    Counted in characters alone, English said to the Mandarin recogniser ("…leaves from
    platform three in about ten minutes" heard as "…leaves from platfo") and English
    words inside Mandarin were cut at the Chinese rate."""
    budget = max_chars * LATIN_CHARS_PER_CHINESE
    for index, char in enumerate(text):
        budget -= 1 if _latin(char) else LATIN_CHARS_PER_CHINESE
        if budget < 0:
            return text[:index]
    return text
