"""Glossary terms the model paraphrased: found in its answer, then asked for again.

A term's English is written into the sentence and listed after it (``user_message``),
and still a small model rewrites some multi-word terms in its own words ("政治改革 =
political overhaul" came out "political reforms"), keeping the term's first word. The
translation is then asked again with the answer up to that word and the whole term
forced as the start of the new answer, so the model writes the rest of the sentence after
the glossary's English. Only where that first word occurs once in the answer (with two,
which one starts the term would be a guess) and is not an article: a paraphrase that
keeps no first word is left as it is, since finding it would need an alignment of the
two languages that the model does not give.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from hudtranslate.translate.glossary import term_present, term_word_pattern

_ARTICLES = frozenset({"a", "an", "the"})

Terms = Sequence[tuple[str, str]]


def missing_terms(english: str, terms: Terms) -> list[tuple[str, str]]:
    """The (Chinese, English) terms whose English is not in ``english`` (``term_present``)."""
    return [(chinese, target) for chinese, target in terms if not term_present(target, english)]


def term_anchor(english: str, target: str) -> int | None:
    """Where ``english`` would have ``target``: the only whole-word occurrence of its
    first word (any case, plural or not); None for a one-word target, an article first,
    no such word or several."""
    words = [word for word in re.split(r"[\s-]+", target.strip()) if word]
    if len(words) < 2 or words[0].lower() in _ARTICLES:
        return None
    pattern = r"(?<![\w-])" + term_word_pattern(words[0]) + r"(?!\w)"
    found = [match.start() for match in re.finditer(pattern, english, re.IGNORECASE)]
    return found[0] if len(found) == 1 else None


def held_from(english: str, terms: Terms) -> int:
    """How much of a growing ``english`` may be shown: up to the first term begun but not
    (yet) written as the glossary's, which a retry may still change."""
    anchors = [anchor for _, target in missing_terms(english, terms)
               if (anchor := term_anchor(english, target)) is not None]
    return min(anchors, default=len(english))


def forced_start(english: str, terms: Terms) -> str | None:
    """The start to force on a new answer: ``english`` up to the first paraphrased term,
    then the term as the glossary writes it (capitalised where the answer's word was);
    None when no term is missing or none can be placed (``term_anchor``)."""
    placed = sorted((anchor, target) for _, target in missing_terms(english, terms)
                    if (anchor := term_anchor(english, target)) is not None)
    if not placed:
        return None
    anchor, target = placed[0]
    if english[anchor].isupper():
        target = target[0].upper() + target[1:]
    return english[:anchor] + target
