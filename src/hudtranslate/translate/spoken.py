"""Spoken Mandarin as recognised, made ready to translate (pure, model-free).

Real speech is not read text: fillers (嗯, 呃), stuttered words (这这个, 我我), questions
whose "？" the recogniser left out, and pauses that fall inside a sentence. A small
translator renders fillers as English noise ("Um, uh, ...") and a fragment cut at a pause
as a sentence of its own, so both are handled before the model sees the text.
"""

from __future__ import annotations

import re

from hudtranslate.asr.text import CLAUSE_MARKS, SENTENCE_MARKS

_HESITATIONS = re.compile(r"[嗯呃]+[，,、]?")
"""Hesitation sounds that are never words in running Mandarin."""
_CLAUSE_INITIAL_INTERJECTION = re.compile(r"(^|[，。！？,.!?])\s*[啊哦唉诶额][，,、]")
"""An interjection standing alone at the start of a clause ("啊，那我们…")."""
_STUTTERED = re.compile(r"(这个|那个|就是|我们|然后|这|那|我|你|他|她|就)\1+")
"""A pronoun, demonstrative or connective said twice or more in a row. None of these
doubles as a word (unlike 妈妈, 看看, 谢谢, left alone), and none starts a common word with
itself, so no word boundary is mistaken for a stutter (有有效, 对对方 would be)."""
_QUESTION_PARTICLE_AT_END = re.compile(r"(吗|么)$")

OPEN_WORDS = (
    "和", "跟", "与", "及", "以及", "或", "或者", "还是", "但", "但是", "可是", "而", "而且",
    "并且", "因为", "所以", "如果", "要是", "虽然", "然后", "那么", "就是", "比如", "包括",
    "在", "从", "对", "把", "被", "给", "向", "往", "为了", "关于", "除了", "的话",
)
"""Conjunctions and prepositions: a sentence cannot end on one, so a pause after it is
inside the sentence (closed-class words of Mandarin grammar, not a list drawn from data)."""


def clean_spoken(text: str) -> str:
    """``text`` without hesitation sounds, clause-initial interjections and stuttered
    function words, and with "？" after a final question particle (吗/么) the recogniser
    left unpunctuated. Returns the text unchanged if cleaning would leave nothing."""
    cleaned = _HESITATIONS.sub("", text)
    cleaned = _CLAUSE_INITIAL_INTERJECTION.sub(r"\1", cleaned)
    cleaned = _STUTTERED.sub(r"\1", cleaned)
    cleaned = cleaned.lstrip(" ，,、").rstrip()
    cleaned = _QUESTION_PARTICLE_AT_END.sub(r"\1？", cleaned)
    return cleaned or text


def continues_sentence(chinese: str, *, speech_continued: bool) -> bool:
    """Whether the next utterance should continue the sentence ``chinese`` ends.

    A sentence-final mark closes it. It stays open when it ends on a clause mark or on a
    conjunction or preposition (``OPEN_WORDS``), or when the speaker did not pause at all
    (``speech_continued``: the utterance was cut in running speech). An utterance that
    ended at a real pause without any of these closes: Whisper often leaves out the
    final mark, and gluing separate sentences was measured to hurt more than splitting one.
    """
    text = chinese.rstrip()
    if not text or text[-1] in SENTENCE_MARKS + "…":
        return False
    if text[-1] in CLAUSE_MARKS or speech_continued:
        return True
    return text.endswith(OPEN_WORDS)
