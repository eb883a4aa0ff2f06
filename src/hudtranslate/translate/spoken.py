"""Spoken Mandarin as recognised, made ready to translate (pure, model-free).

Real speech is not read text: fillers (嗯, 呃), stuttered words (这这个, 我我), questions
whose "？" the recogniser left out, and pauses that fall inside a sentence. A small
translator renders fillers as English noise ("Um, uh, ...") and a fragment cut at a pause
as a sentence of its own, so both are handled before the model sees the text.
"""

from __future__ import annotations

import re

import cn2an

from hudtranslate.asr.text import CLAUSE_MARKS, CLOSING_MARKS, SENTENCE_MARKS

_HESITATIONS = re.compile(r"[嗯呃]+[，,、]?")
"""Hesitation sounds that are never words in running Mandarin."""
_CLAUSE_INITIAL_INTERJECTION = re.compile(r"(^|[，。！？,.!?])\s*[啊哦唉诶额][，,、]")
"""An interjection standing alone at the start of a clause ("啊，那我们…")."""
_STUTTERED = re.compile(r"(这个|那个|就是|我们|然后|这|那|我|你|他|她|就)\1+")
"""A pronoun, demonstrative or connective said twice or more in a row. None of these
doubles as a word (unlike 妈妈, 看看, 谢谢, left alone), and none starts a common word with
itself, so no word boundary is mistaken for a stutter (有有效, 对对方 would be)."""
_QUESTION_PARTICLE_AT_END = re.compile(r"(吗|(?<![什甚怎这那多要])么)$")
"""吗, or 么 standing for it (你去么) — not the 么 of 什么/甚么, 怎么, 这么, 那么, 多么, 要么."""
_QUESTION_WORD = re.compile(
    r"什么|甚么|哪|谁|怎么|怎样|怎能|为什么|为何|(?<!任)何时|多少|多久|干嘛|几点|几岁|几号|几楼")
"""Interrogative pronouns; 几 alone is left out (几个, 几天 are "a few" as often)."""
_A_NOT_A = re.compile(r"([\u4e00-\u9fff])[不没]\1[啊呀呢嘛]?$|可不可以|"
                      r"有没有|是不是|能不能|会不会|要不要|对不对|好不好|行不行")
"""A-not-A (是不是, 有没有; any verb at the end of a clause: 来不来): a yes-no question."""
_NOT_ASKING = re.compile(
    r"哪怕|天哪|[什甚]么的|随便|[不没]怎么|多多少少|或多或少|为什么[^，。！？]*原因|"
    r"[不没](?![同错少过但仅断久论管然如得用])是?[^，。！？是]*?([什甚]么|多少|哪|谁)|"
    r"(就|这|那)是为什么.|"
    r"([什甚]么|哪\S?|谁|怎么)[^，。！？]*?[都也就]|说不定|不一定|不知|不清楚|不确定")
"""Question words that do not ask: 哪怕 "even if", 天哪 "my God", 什么的 "and so on",
随便什么 "any", 不怎么 / 没怎么 "hardly", 这就是为什么… / 为什么…的原因 "that is why …",
the indefinite use after a negation (没什么 "nothing much", 你不必买什么, 没有多少信心
"little confidence"; not after 不同, 不错, 不过 …, nor across a later 是: the negation is
then in the subject, 不一样的是什么 "what is different"), the universal/indefinite use before
都/也 (什么都行, 谁也不知道), the conditional before 就 (需要什么就打电话 "call if you
need anything"), and a question that is only the topic of 说不定, 不知…, 不清楚
(谁能赢还说不定 "who will win is not certain")."""
_EMBEDDING_VERB = re.compile(
    r"(?<![你您])(知道|告诉|说|问|记得|明白|清楚|确定|决定|猜|考虑|讨论|了解|不管|无论|不论|"
    r"我想|在想|想到|管|看看|学怎么|忘|记不|查出|预言|发现|解释|奇怪|在乎)")
"""Verbs that embed a question as their object (我不知道他去哪儿 "I don't know where he
went", 他说他买什么呢, 看看他怎么想, 汤姆忘了怎么做; 想, 看, 学 only in those phrases, since
他想去哪儿, 学校在哪儿 ask); asked of 你/您 (你知道他在哪儿) the sentence asks."""
_ASPECT_ONLY = re.compile(r"[了着过]?")
_CLAUSE_SPLIT = re.compile(f"[{re.escape(CLAUSE_MARKS + SENTENCE_MARKS)}]")

_NUMERAL_RUN = re.compile(
    r"(?<![零〇一二三四五六七八九十百千万亿两几多余来第])"
    r"[一二三四五六七八九两][零〇一二三四五六七八九十百千万两]*[十百千万][零〇一二三四五六七八九十百千万两]*"
    r"(?![零〇一二三四五六七八九十百千万亿两]|[多余来几]?[万亿])")
"""A Chinese numeral with a unit (十, 百, 千, 万) that starts with a digit: 三百五, 一万二,
两千三, 一百二十. Not one that starts with a unit or stands in a larger or vaguer number
(千万 "by all means", 万一 "in case", 十分 "very", 几百, 一百多万, 三千亿), and not a
digit alone (一个, 三心二意)."""
MAX_CONVERTED = 10**8
"""Numbers from 亿 (10⁸) up stay as said, and so do round ones of 万 from 十万 up (一百万 is
"a million"; as 1000000 the model wrote "1,000,000")."""

OPEN_WORDS = (
    "和", "跟", "与", "及", "以及", "或", "或者", "还是", "但", "但是", "可是", "而", "而且",
    "并且", "因为", "所以", "如果", "要是", "虽然", "然后", "那么", "就是", "比如", "包括",
    "在", "从", "对", "把", "被", "给", "向", "往", "为了", "关于", "除了", "的话",
    "比如说", "所以说", "另外", "首先", "其实", "的时候",
    "很", "最", "非常", "已经", "正在", "一直", "曾经", "必须", "应该", "能够",
    "再", "又", "也",
)
"""Words a sentence cannot end on, so a pause after one is inside the sentence:
conjunctions, prepositions and discourse openers (另外, 首先, 其实), a temporal clause
still waiting for its main clause (…的时候), and adverbs and modal verbs that stand
before the predicate they modify (很, 已经, 正在, 应该, 再, 又, 也: "看电影的时候再" |
"看到…"). Closed-class words of Mandarin grammar, not a list drawn from data (of Tatoeba's
56,578 Mandarin sentences, none ends in 再 or 又 and one in 也, a classical 一乐也);
能, 会, 要, 想, 都 are left out because common words end in them (可能, 开会, 重要, 理想,
首都)."""


_ONLY_HESITATION = re.compile(r"[\s，,、。.…！!？?]*([呃额][\s，,、。.…！!？?]*)+")
"""An utterance of hesitation sounds alone: 呃 (额 as some write it), never a word or an
answer. A lone 嗯 is left out on purpose: said alone it is the listener's "mm-hmm", yes."""


def only_hesitation(text: str) -> bool:
    """True when ``text`` says nothing but hesitation sounds (``呃。``, ``呃，呃``): a
    translator writes "Uh." or "Oh" for it, a caption of noise. Such text is not
    translated (the Chinese stays in the transcript)."""
    return _ONLY_HESITATION.fullmatch(text) is not None


def clean_spoken(text: str) -> str:
    """``text`` without hesitation sounds, clause-initial interjections and stuttered
    function words, and with "？" after a question the recogniser left unpunctuated (a
    final particle 吗/么, or ``asks_without_mark``). Returns the text unchanged if
    cleaning would leave nothing."""
    cleaned = _HESITATIONS.sub("", text)
    cleaned = _CLAUSE_INITIAL_INTERJECTION.sub(r"\1", cleaned)
    cleaned = _STUTTERED.sub(r"\1", cleaned)
    cleaned = cleaned.lstrip(" ，,、").rstrip()
    cleaned = _QUESTION_PARTICLE_AT_END.sub(r"\1？", cleaned)
    if cleaned and asks_without_mark(cleaned):
        cleaned += "？"
    return cleaned or text


def _embeds(clause: str, asking: int) -> bool:
    """Whether a verb before position ``asking`` makes the question its object clause
    (他说他买什么 "he said what he buys", 汤姆忘了怎么做). 什么 or 谁 right after the
    only such verb is its plain object and asks (她说了什么 "what did she say?")."""
    verbs = list(_EMBEDDING_VERB.finditer(clause, 0, asking))
    if not verbs:
        return False
    between = clause[verbs[-1].end():asking]
    plain_object = _ASPECT_ONLY.fullmatch(between) and clause.startswith(("什么", "谁"), asking)
    return len(verbs) > 1 or not plain_object


def asks_without_mark(text: str) -> bool:
    """Whether ``text`` ends in a question the recogniser left unpunctuated: its last
    clause has an interrogative pronoun (什么, 哪, 谁, 怎么, 为什么, 多少, …) used to ask, or
    ends in an A-not-A pair (是不是, 有没有). Whisper often drops the final "？" when the
    speaker's intonation does not rise at the cut, and the translator then writes a
    statement ("他觉得最大的不同是在什么地方" → "… is in where it is"). Not for the
    indefinite, universal or embedded uses of the same words (see ``_NOT_ASKING``,
    ``_EMBEDDING_VERB``), which standard grammars of Mandarin list; not for a text that
    already ends in a mark."""
    if not text or text[-1] in SENTENCE_MARKS + CLAUSE_MARKS + "…":
        return False
    clause = _CLAUSE_SPLIT.split(text)[-1]
    asking = _QUESTION_WORD.search(clause) or _A_NOT_A.search(clause)
    if asking is None:
        return False
    if _NOT_ASKING.search(clause) or _embeds(clause, asking.start()):
        return False
    words = _QUESTION_WORD.findall(clause)
    return len(words) == len(set(words))  # 想吃什么就吃什么: "whatever", not a question


def arabic_numbers(text: str) -> str:
    """Chinese numerals with a unit written as Arabic numbers (``cn2an``, MIT), for the
    translator, with thousands separators: the small model read Chinese numerals wrongly
    (这件衣服三百五 → "35 yuan", 他挣了三万五 → "three million five thousand", 三万五千 →
    "three thousand five thousand"); given 350 and 35,000 it copied them (docs/benchmark.md).
    A run ``cn2an`` cannot read (an idiom such as 九九八十一, a range such as 两三百) is left
    as it is."""

    def arabic(match: re.Match[str]) -> str:
        try:
            value = cn2an.cn2an(match.group(0), "smart")
        except (ValueError, KeyError):
            return match.group(0)
        number = int(value) if float(value).is_integer() else value
        if not 0 < number < MAX_CONVERTED or (number >= 10**5 and number % 10**4 == 0):
            return match.group(0)  # 一百万 is "a million", not "1,000,000"
        return f"{number:,}"  # 35,000: as 35000 it was copied "350,000" after some context

    return _NUMERAL_RUN.sub(arabic, text)


def continues_sentence(chinese: str, *, speech_continued: bool) -> bool:
    """Whether the next utterance should continue the sentence ``chinese`` ends.

    A sentence-final mark closes it. It stays open when it ends on a clause mark or on a
    conjunction or preposition (``OPEN_WORDS``) or on a modal verb standing alone
    (``ends_on_bare_modal``), or when the speaker did not pause at all
    (``speech_continued``: the utterance was cut in running speech). An utterance that
    ended at a real pause without any of these closes: Whisper often leaves out the
    final mark, and gluing separate sentences was measured to hurt more than splitting one.
    """
    text = chinese.rstrip().rstrip(CLOSING_MARKS)  # 他说：“走吧。” ends with its 。
    if not text or text[-1] in SENTENCE_MARKS + "…":
        return False
    if text[-1] in CLAUSE_MARKS or speech_continued:
        return True
    return text.endswith(OPEN_WORDS) or ends_on_bare_modal(text)


BARE_MODALS = frozenset({"能", "要"})
"""Modal verbs that wait for their verb when they stand alone as the last word (如果有机会能
| 亲身去看看: "if there is a chance to" | "go and see in person"). Of Tatoeba's 50,779
distinct Mandarin sentences, one ends on 能 as a word of its own and one on 要 (jieba's
segmentation, final marks removed); 会 (7) and 想 (17, 你怎么想) end sentences, so they
are left out. Words that end in them (可能, 不能, 重要, 需要) are other words."""


def ends_on_bare_modal(text: str) -> bool:
    """Does ``text`` end on a modal verb of ``BARE_MODALS`` standing alone as a word
    (jieba's segmentation, ``same_sound.word_tokenizer``) after other words? Said alone,
    能 and 要 are answers ("can", "want it")."""
    from hudtranslate.asr.same_sound import word_tokenizer

    if not text.endswith(tuple(BARE_MODALS)):
        return False
    words = word_tokenizer().lcut(text[-8:])
    return len(words) > 1 and words[-1] in BARE_MODALS
