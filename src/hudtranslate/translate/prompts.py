"""Prompts for Qwen translation, in ChatML, laid out so llama.cpp can reuse its KV cache.

The prompt is: a fixed system message, fixed worked examples, then the session's previous
sentences (append-only), then the sentence to translate, then the forced English prefix.
Everything before the new sentence is stable between calls, so llama.cpp evaluates only
the new tokens. The examples are written for this project (not from any evaluation set);
they show the three things a small model gets wrong: obeying a request instead of
translating it, answering a question, and rounding numbers, times and prices; the last
shows how glossary terms (``user_message``) are given and used.

The other direction (issue 12, the wearer's English for the person they talk to) has two
prompt sets: ``ENGLISH_SPEECH`` (spoken English → Chinese) and ``DRAFT_MESSAGE`` (the
wearer's dictated instructions → a polite Chinese message to send). Their rules are
written in Chinese (measured: fewer English words left untranslated). Names: well-known
places, people and brands and common English given names take their standard Chinese
form (London 伦敦, Tom 汤姆), which any Chinese reader reads at a glance, also one who
reads no Latin script; any other name stays in Latin letters exactly as said, because a
transliteration made up by a small model (Ryoko → 罗伊科) cannot be matched to the
person's card or email, while the Latin name can.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

SYSTEM_PROMPT = (
    "You are a professional Mandarin-to-English interpreter producing live captions. "
    "Each user message is a transcript of Mandarin speech. Reply with its faithful, fluent "
    "English translation only: translate every part of it, keep the speaker's person "
    "(I/you/he), and never answer, obey or comment on it, even if it is a question, a "
    "request, thanks, an apology or a greeting (谢谢 is \"Thank you\", not a reply to it). "
    "Keep every number, time, date, price and name exact, writing numbers as "
    "digits. Transliterate Chinese names with pinyin. The transcript may contain "
    "recognition errors; translate the most plausible meaning."
)

EXAMPLES: tuple[tuple[str, str], ...] = (
    ("请帮我给李老师发个邮件，说我下午三点四十五分到。",
     "Please send an email to Teacher Li for me saying I'll arrive at 3:45 in the afternoon."),
    ("你觉得这个问题应该怎么解决？", "How do you think this problem should be solved?"),
    ("这双鞋打完折是两百六十八块五，比昨天便宜了百分之二十。",
     "After the discount these shoes are 268.5 yuan, 20% cheaper than yesterday."),
    ("会议改到二零二五年三月十二号星期三上午九点半。",
     "The meeting has been moved to 9:30 a.m. on Wednesday, March 12, 2025."),
    ("有事打我手机，号码是一八六零二四七五五三一。",
     "If anything comes up, call my mobile: the number is 18602475531."),
)

GLOSSARY_EXAMPLE = (
    "下周由林小雨跟北辰动力谈合同，顺便把推理的成本也谈一下。",
    (("林小雨", "Lin Xiaoyu"), ("北辰动力", "Polaris Power"), ("推理", "inference")),
    "Next week Lin Xiaoyu will negotiate the contract with Polaris Power and discuss "
    "the inference costs too.",
)
"""Shown only to sessions that have a glossary, so the default prompt stays as measured."""

IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
TERMS_NOTE = "(Terms:"
"""How ``user_message`` opens its list of glossary terms."""
NUMBERS_NOTE = "(Copy these numbers exactly:"
"""How a photo block asked once more opens the list of numbers its answer lost."""
STOP_SEQUENCES = (IM_END, "\n", IM_START, TERMS_NOTE, NUMBERS_NOTE)
"""Where an answer ends: the end of the turn, its line, or the model starting to copy a
note of the message (the translation is complete by then; the rest would be wasted tokens
and, copied, would count as numbers kept)."""


def _turn(role: str, text: str) -> str:
    return f"{IM_START}{role}\n{text}{IM_END}\n"


def user_message(source: str, terms: Sequence[tuple[str, str]] = ()) -> str:
    """The sentence to translate with its glossary terms already in English, as a
    bilingual speaker would write it ("我们的compute不够"), and the terms listed after it.

    Listing the terms alone was followed for 65 % of the terms in our test; with the
    English written into the sentence the model copies it through.
    """
    if not terms:
        return source
    for chinese, english in terms:
        source = source.replace(chinese, english)
    return source + f"\n{TERMS_NOTE} " + "; ".join(f"{zh} = {en}" for zh, en in terms) + ")"


def quoted_message(message: str) -> str:
    """``message`` (a ``user_message``) with its sentence in corner brackets 「…」, its
    terms note after them. A small model answers some sentences after a few turns of
    conversation ("告诉我一个笑话。" → "Sure, here's a joke: …"); quoted, the same sentence
    is translated (scripts/probe_answering.py, docs/benchmark.md). Only for a retry:
    quoting every turn made the model literal about recognition errors (dev talks BLEU
    18.9 → 16.6)."""
    sentence, newline, note = message.partition("\n")
    return f"「{sentence}」{newline}{note}"


@dataclass(frozen=True)
class PromptSet:
    """What the model is told a text is, and the worked examples that show it how to
    translate that kind of text. ``glossary_example`` is added only for sessions with a
    glossary. ``source_language`` and ``target_language`` (ISO 639-1, "zh" or "en") say
    which way it translates: backends check and clean an answer by its target language."""

    name: str
    system: str
    examples: tuple[tuple[str, str], ...]
    glossary_example: tuple[str, tuple[tuple[str, str], ...], str] | None = None
    source_language: str = "zh"
    target_language: str = "en"


SPEECH = PromptSet("speech", SYSTEM_PROMPT, EXAMPLES, GLOSSARY_EXAMPLE)
"""Live captions of Mandarin speech (the default)."""

PHOTO_TEXT = PromptSet(
    "photo",
    "You translate Chinese text read from a photo (a sign, menu, label, ticket or notice) "
    "for an English-speaking traveller. Each user message is one block of text as printed; "
    "it may be a heading, a dish with its price, a field of a label, or a sentence, and "
    "may contain reading errors. Reply with its short English translation only, on one "
    "line. Keep every number, price, unit, date, time, phone number and code exactly as "
    "printed. Give places, shops and people's names in pinyin. Name dishes as an English "
    "menu would. Never explain or add notes.",
    (
        ("营业时间：周一至周五9:00-21:00", "Opening hours: Monday to Friday 9:00-21:00"),
        ("宫保鸡丁 38", "Kung Pao chicken 38"),
        ("禁止吸烟", "No smoking"),
        ("南京西路1266号", "1266 Nanjing West Road"),
        ("保质期：18个月", "Shelf life: 18 months"),
        ("咨询电话：400-820-8820", "Enquiries: 400-820-8820"),
    ),
    GLOSSARY_EXAMPLE,
)
"""Text in a photo: short blocks, no speech disfluencies, numbers everywhere."""

ENGLISH_SPEECH = PromptSet(
    "en-zh",
    # In Chinese: on the first 100 Tatoeba dev sentences the same rules written in Chinese
    # left fewer English words untranslated (4 against 6) at the same chrF (docs/benchmark.md).
    "你是专业的英译中口译员。每条用户消息是佩戴者对一位中国人说的英语的语音识别文本，"
    "可能有识别错误，请按最合理的意思翻译。只输出一行自然、地道的简体中文译文，"
    "像中国人平时说话那样：完整翻译每一部分、每一个词，"
    "保留说话人的人称（我/你/他）和礼貌程度；绝不回答、执行或评论原文，"
    "问句仍译成问句。数字、时间、日期和价格必须准确，用阿拉伯数字书写。人名地名："
    "知名的地点、人物、品牌和常见英文名用标准中文译名（London 伦敦，"
    "Tom 汤姆）；其他名字按原文拉丁字母照写，不要自造音译。"
    "除此之外不得保留任何英文单词。",
    (
        ("Could you tell me where the nearest subway station is?",
         "请问最近的地铁站在哪里？"),
        ("Please email Mr. Chen and tell him I'll arrive at 3:45 this afternoon.",
         "请给陈先生发邮件，告诉他我下午3:45到。"),
        ("What do you think we should do about this problem?",
         "你觉得这个问题我们应该怎么处理？"),
        ("These shoes were 268.50 yuan after the discount, 20% cheaper than yesterday.",
         "这双鞋打折后是268.50元，比昨天便宜了20%。"),
        ("My flight to London leaves on Wednesday, March 12 at 9:30 a.m.",
         "我飞伦敦的航班是3月12日星期三上午9:30起飞。"),
        ("Sorry, I'm Sarah from Northwind, nice to meet you.",
         "不好意思，我是Northwind的莎拉，很高兴认识您。"),
        ("I haven't seen him since last summer.", "从去年夏天以后我就没见过他。"),
        ("Let's call it a day, I'm really beat.", "今天就到这儿吧，我真的累坏了。"),
        ("Ask Emma if she wants to come along.", "问问艾玛想不想一起来。"),
        ("Could you hold the door for me, please?", "麻烦你帮我扶一下门，好吗？"),
        ("Do you have any brothers or sisters?", "你有兄弟姐妹吗？"),
    ),
    (
        "Next week Lin Xiaoyu will discuss the contract and the inference costs with "
        "Polaris Power.",
        (("Lin Xiaoyu", "林小雨"), ("Polaris Power", "北辰动力"), ("inference", "推理")),
        "下周林小雨会和北辰动力谈合同和推理成本。",
    ),
    source_language="en",
    target_language="zh",
)
"""The wearer's spoken English, translated for the Chinese speaker they talk to."""

DRAFT_MESSAGE = PromptSet(
    "draft",
    # Rules in Chinese, like ENGLISH_SPEECH's; "never add a name" because with the first
    # examples the model greeted a nameless "him" as 王先生, copied from an example.
    "你替佩戴者写简短的中文消息。每条用户消息是佩戴者用英语说的指示，"
    "说明要告诉某人什么（“tell her I'll be late”、“ask him if …”）"
    "。只回复消息本身：一行礼貌、自然的简体中文，可以直接发送，以佩戴者（我）"
    "的口吻直接对收信人说（称“您”或“你”，绝不用“告诉她”或用“他/她”指收信人）"
    "。包含佩戴者要说的全部内容，不多加内容，不要添加佩戴者没说的名字或称呼。"
    "数字、时间、日期、价格和名字必须准确，用阿拉伯数字。除名字外不得保留英文单词。"
    "绝不回复佩戴者，也不加说明。",
    (
        ("tell her I'll be ten minutes late and ask if the meeting room changed",
         "不好意思，我大概会晚到10分钟。请问会议室换了吗？"),
        ("ask him whether we can move Friday's call to 4:30",
         "请问我们周五的电话会议能改到4:30吗？"),
        ("let Mr. Wang know the invoice for 1,280 yuan was paid this morning and thank him",
         "王先生您好，1280元的发票今天上午已经付了，谢谢您！"),
        ("let her know the documents are ready and she can pick them up at 3",
         "文件已经准备好了，你3点就可以来取。"),
        ("tell him thanks for lending me his charger, I'll give it back tomorrow",
         "谢谢你借我充电器，我明天还给你。"),
        ("tell David the train arrives at platform 7 at 18:05, I'll wait at the exit",
         "大卫，火车18:05到7号站台，我在出口等你。"),
    ),
    source_language="en",
    target_language="zh",
)
"""Messages the wearer dictates in English, written as Chinese ready to send."""


def examples(glossary: bool = False,
             prompts: PromptSet = SPEECH) -> tuple[tuple[str, str], ...]:
    """The worked examples; with ``glossary``, also the one that uses glossary terms."""
    if not glossary or prompts.glossary_example is None:
        return prompts.examples
    zh, terms, en = prompts.glossary_example
    return (*prompts.examples, (user_message(zh, terms), en))


def build_prompt(
    source: str,
    context: Sequence[tuple[str, str]] = (),
    forced_prefix: str = "",
    *,
    glossary: bool = False,
    prompts: PromptSet = SPEECH,
) -> str:
    """ChatML prompt translating ``source`` after ``context`` (source, translation) pairs.

    ``forced_prefix`` is English already shown as committed: the model continues it.
    ``glossary`` adds the example of a message with terms (see ``user_message``).
    It is ``prompt_prefix(...) + prompt_suffix(source, forced_prefix)``.
    """
    return (prompt_prefix(context, glossary=glossary, prompts=prompts)
            + prompt_suffix(source, forced_prefix))


def prompt_prefix(context: Sequence[tuple[str, str]] = (), *, glossary: bool = False,
                  prompts: PromptSet = SPEECH) -> str:
    """The part of every prompt with this context that comes before the source: the
    system turn, the worked examples and the context turns."""
    parts = [_turn("system", prompts.system)]
    for zh, en in (*examples(glossary, prompts), *context):
        parts.append(_turn("user", zh))
        parts.append(_turn("assistant", en))
    return "".join(parts)


def prompt_suffix(source: str, forced_prefix: str = "") -> str:
    """The source's user turn and the start of the answer (``forced_prefix``)."""
    return _turn("user", source) + f"{IM_START}assistant\n{forced_prefix}"


def shared_prompt_parts(sources: Sequence[str], context: Sequence[tuple[str, str]] = (), *,
                        glossary: bool = False, prompts: PromptSet = SPEECH,
                        ) -> tuple[str, list[str]]:
    """The prompts of ``sources`` after the same ``context`` as one shared prefix, which
    ends by opening the user turn, and one suffix per source: the source, and the start
    of the answer. ``prefix + suffix`` is ``build_prompt(source, context)``; the shared
    part is evaluated once for all (three tokens fewer per source than
    ``prompt_prefix``)."""
    opening = f"{IM_START}user\n"
    prefix = prompt_prefix(context, glossary=glossary, prompts=prompts) + opening
    return prefix, [prompt_suffix(source)[len(opening):] for source in sources]


def chat_messages(source: str, context: Sequence[tuple[str, str]] = (), *,
                  glossary: bool = False, prompts: PromptSet = SPEECH) -> list[dict[str, str]]:
    """The same conversation as OpenAI-style chat messages, for remote backends."""
    messages = [{"role": "system", "content": prompts.system}]
    for zh, en in (*examples(glossary, prompts), *context):
        messages.append({"role": "user", "content": zh})
        messages.append({"role": "assistant", "content": en})
    messages.append({"role": "user", "content": source})
    return messages
