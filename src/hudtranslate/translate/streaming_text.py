"""Pure text steps of simultaneous translation: where committed Chinese may be cut for
translation, what of a final is not yet translated, which streamed English words are
stable, and the context of finished sentences. No model; ``SessionTranslator`` uses them.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from hudtranslate.asr.text import CLAUSE_MARKS, CUT_CLAUSE_MARKS, SENTENCE_MARKS
from hudtranslate.translate.text import clean_translation

_CONTEXT_SLACK = 4
"""Context grows by this many sentences before it is trimmed: trimming changes the
prompt prefix (llama.cpp must re-evaluate it), so it is done in batches, not every time."""


def remember(context: list[tuple[str, str]], pair: tuple[str, str], keep: int) -> None:
    """Add a (source, translation) pair of a finished sentence to ``context``, which keeps
    the last ``keep`` (trimmed ``_CONTEXT_SLACK`` at a time); nothing when ``keep`` is 0
    or either side is empty."""
    if keep == 0 or not all(pair):
        return
    context.append(pair)
    if len(context) > keep + _CONTEXT_SLACK:
        del context[:-keep]


def last_sentence_end(text: str) -> int:
    """Index just past the last sentence-final mark in ``text`` (0 if there is none)."""
    return max((i + 1 for i, char in enumerate(text) if char in SENTENCE_MARKS), default=0)


_PUNCTUATION = CLAUSE_MARKS + SENTENCE_MARKS + "…"


def clause_end(text: str, done: int, min_chars: int) -> int:
    """Index just past the last clause mark in ``text[done:]`` that closes at least
    ``min_chars`` characters (0 if none, or if ``min_chars`` is 0: clause commits off)."""
    if min_chars <= 0:
        return 0
    for index in range(len(text) - 1, done - 1, -1):
        if text[index] in CUT_CLAUSE_MARKS:
            return index + 1 if index - done >= min_chars else 0
    return 0


def text_after(final: str, translated: str) -> str:
    """What of the final transcript is not yet translated. The final decode may differ
    from the partials whose committed text was translated, so it is aligned to it."""
    if final.startswith(translated):
        return final[len(translated) :]
    matcher = difflib.SequenceMatcher(None, translated, final, autojunk=False)
    end = 0  # where the translated text ends in the final
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if tag == "insert" or old_end != len(translated):
            continue
        if tag == "replace":  # a substitution at the end: as long as what it replaces
            replaced = translated[old_start:old_end]
            size = 0 if all(char in _PUNCTUATION for char in replaced) else len(replaced)
            end = new_start + min(size, new_end - new_start)
        else:
            end = new_end
    return final[end:]


def stable_words(generated: str) -> list[str]:
    """Words of a generation in progress that can no longer change: all but the last
    (it may be cut mid-word), after the same clean-up as the finished text."""
    return clean_translation(generated).split()[:-1]


def keep_shown_words(shown: Sequence[str], english: str) -> str:
    """``english``, but starting with the words already shown as committed, which must
    never change (a clean-up of the whole text, or a fallback model, could differ)."""
    words = english.split()
    if words[: len(shown)] == list(shown):
        return english
    return " ".join([*shown, *words[len(shown) :]])


def joined_models(models: Sequence[str], *more: str) -> str:
    """``models`` and then ``more``, each once and in order, joined by "+"."""
    return "+".join(dict.fromkeys(name for name in (*models, *more) if name))
