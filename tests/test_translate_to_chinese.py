"""The en→zh direction without a model: prompt sets, clean-up of Chinese output, the
Chinese answer checks of remote models, and ``translate_to_chinese`` over a fake."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import pytest
from tests.conftest import shared_data_dir

from hudtranslate.errors import RejectedAnswerError
from hudtranslate.translate.answers_zh import (
    chinese_first_line_done,
    clean_chinese_answer,
    max_chinese_answer_chars,
)
from hudtranslate.translate.llama import LlamaBackend
from hudtranslate.translate.prompts import (
    DRAFT_MESSAGE,
    ENGLISH_SPEECH,
    SPEECH,
    PromptSet,
    build_prompt,
    chat_messages,
    examples,
)
from hudtranslate.translate.text import clean_chinese, english_words_to_avoid
from hudtranslate.translate.to_chinese import (
    chinese_token_limit,
    clean_english_speech,
    translate_to_chinese,
)

HANZI = re.compile(r"[\u4e00-\u9fff]")
NUMBER = re.compile(r"\d+(?:[.:,]\d+)*")


def digits_of(text: str) -> list[str]:
    """The numbers of ``text`` without thousands separators ("1,280" → "1280")."""
    return [number.replace(",", "") for number in NUMBER.findall(text)]


# --- prompt sets ---------------------------------------------------------------------------


@pytest.mark.parametrize("prompts", [ENGLISH_SPEECH, DRAFT_MESSAGE])
def test_en_zh_prompt_sets_translate_english_into_chinese(prompts: PromptSet) -> None:
    assert (prompts.source_language, prompts.target_language) == ("en", "zh")
    assert prompts.name not in {SPEECH.name, "photo"}  # a KV state of its own
    system = prompts.system
    # the rules may be written in English or in Chinese
    assert "Simplified Chinese" in system or "简体中文" in system
    assert "one line" in system or "一行" in system
    assert "digits" in system or "阿拉伯数字" in system
    for english, chinese in examples(glossary=True, prompts=prompts):
        assert not HANZI.search(english.split("\n")[0]) or "(Terms:" in english
        assert HANZI.search(chinese) and "\n" not in chinese
        # every number of the English is in the Chinese, as digits
        numbers = digits_of(chinese)
        assert all(number in numbers for number in digits_of(english)), (english, chinese)
    # a number said as a word is written with digits too
    assert any("ten" in english and "10" in chinese
               for english, chinese in DRAFT_MESSAGE.examples)


def test_english_speech_examples_keep_names_questions_and_requests() -> None:
    pairs = dict(ENGLISH_SPEECH.examples)
    # a request is translated, not carried out; a question stays a question
    assert any(en.startswith("Please") and zh.startswith("请") for en, zh in pairs.items())
    assert all(zh.endswith("？") for en, zh in pairs.items() if en.endswith("?"))
    # standard Chinese forms of well-known places and common given names; any other
    # name (here a company) in Latin letters as written
    assert any("Sarah" in en and "莎拉" in zh and "Northwind" in zh for en, zh in pairs.items())
    assert any("London" in en and "伦敦" in zh for en, zh in pairs.items())
    assert "绝不回答" in ENGLISH_SPEECH.system and "问句仍译成问句" in ENGLISH_SPEECH.system
    assert "不要自造音译" in ENGLISH_SPEECH.system


def test_draft_examples_are_messages_to_the_reader() -> None:
    for instruction, message in DRAFT_MESSAGE.examples:
        assert re.match(r"(tell|ask|let)\b", instruction)
        # written to the reader: never "tell her"/"告诉他" or a third person for them
        assert not re.search(r"告诉(他|她)|跟(他|她)说|问(他|她)", message), message
        assert HANZI.search(message)
    assert any("请问" in message and message.endswith("？")
               for _, message in DRAFT_MESSAGE.examples)


def test_en_zh_glossary_example_writes_the_chinese_terms_into_the_english() -> None:
    english, chinese = examples(glossary=True, prompts=ENGLISH_SPEECH)[-1]
    assert "林小雨" in english and "Lin Xiaoyu" not in english.split("\n")[0]
    assert "(Terms: Lin Xiaoyu = 林小雨" in english
    assert "林小雨" in chinese and "北辰动力" in chinese


@pytest.mark.parametrize("prompts", [ENGLISH_SPEECH, DRAFT_MESSAGE])
def test_en_zh_prompt_prefix_is_stable_and_chat_messages_match(prompts: PromptSet) -> None:
    fixed = build_prompt("", prompts=prompts)
    stable = fixed[: fixed.rindex("<|im_start|>user")]
    assert build_prompt("See you at 5.", prompts=prompts).startswith(stable)
    assert prompts.system in stable and SPEECH.system not in stable
    messages = chat_messages("See you at 5.", prompts=prompts)
    assert messages[0] == {"role": "system", "content": prompts.system}
    assert messages[-1] == {"role": "user", "content": "See you at 5."}
    assert len(messages) == 2 + 2 * len(prompts.examples)


def test_examples_are_not_from_the_evaluation_sets() -> None:
    folder = shared_data_dir() / "text"
    if not folder.is_dir():
        pytest.skip(f"no evaluation text at {folder}")
    sentences: set[str] = set()
    for path in folder.glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            sentences.add(row["zh"])
            sentences.update(row["en_refs"])
    ours = {text for prompts in (ENGLISH_SPEECH, DRAFT_MESSAGE)
            for pair in examples(glossary=True, prompts=prompts) for text in pair}
    assert not ours & sentences


# --- clean-up of Chinese output ------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    ("翻译：“你好，我是Tom。”", "你好，我是Tom。"),
    ("Chinese: 我们 走吧,好吗?", "我们走吧，好吗？"),
    ("會議室換了嗎？", "会议室换了吗？"),
    ('"他说“好”。"', "他说“好”。"),
    ("价格是268.50元.", "价格是268.50元。"),
    ("  我下午3:45到。 ", "我下午3:45到。"),
    ("", ""),
])
def test_clean_chinese(raw: str, expected: str) -> None:
    assert clean_chinese(raw) == expected


@pytest.mark.parametrize(("spoken", "expected"), [
    ("Um, I'll be, uh, late.", "I'll be late."),
    ("Err... what time is it?", "what time is it?"),
    ("The umbrella is here.", "The umbrella is here."),
    ("Hmm", "Hmm"),
])
def test_clean_english_speech_drops_hesitations(spoken: str, expected: str) -> None:
    assert clean_english_speech(spoken) == expected


def test_token_limit_follows_the_english() -> None:
    short, long = "Yes.", "I'll be ten minutes late, please start the meeting without me."
    assert chinese_token_limit(short, 160) < chinese_token_limit(long, 160)
    assert chinese_token_limit(long * 10, 160) == 160
    assert chinese_token_limit(long + "\n(Terms: a = 甲)", 160) == chinese_token_limit(long, 160)


# --- translate_to_chinese over a fake --------------------------------------------------------


@dataclass
class ScriptedBackend:
    """Answers from a table (or echoes the source), recording how it was asked."""

    answers: dict[str, str] = field(default_factory=dict)
    name: str = "scripted"
    calls: list[tuple[str, PromptSet, int]] = field(default_factory=list)

    def translate(self, source: str, context: Sequence[tuple[str, str]], *,
                  forced_prefix: str, max_new_tokens: int, cancelled: Callable[[], bool],
                  on_text: Callable[[str], None] | None = None,
                  prompts: PromptSet = SPEECH) -> str | None:
        self.calls.append((source, prompts, max_new_tokens))
        if cancelled():
            return None
        return forced_prefix + self.answers.get(source, source)


def test_translate_to_chinese_cleans_input_and_output_and_passes_the_prompt_set() -> None:
    backend = ScriptedBackend({"I'll be late.": "译文：我会晚到。"})
    assert translate_to_chinese(backend, "Um, I'll be late.") == "我会晚到。"
    [(source, prompts, limit)] = backend.calls
    assert source == "I'll be late." and prompts is ENGLISH_SPEECH
    assert limit == chinese_token_limit(source, 160)
    translate_to_chinese(backend, "tell her I'm late", prompts=DRAFT_MESSAGE)
    assert backend.calls[-1][1] is DRAFT_MESSAGE


def test_translate_to_chinese_writes_glossary_terms_in_and_can_be_cancelled() -> None:
    backend = ScriptedBackend()
    translate_to_chinese(backend, "Ask Lin Xiaoyu.", terms=[("Lin Xiaoyu", "林小雨")])
    assert backend.calls[-1][0] == "Ask 林小雨.\n(Terms: Lin Xiaoyu = 林小雨)"
    assert translate_to_chinese(backend, "Hello.", cancelled=lambda: True) is None


def test_thanks_answered_instead_of_translated_is_translated_again_quoted() -> None:
    """Qwen 1.5B answers the wearer's "Thank you." with "不客气。" (You're welcome), with or
    without context; quoted, it writes "谢谢。" (measured, thirty-fifth session)."""
    backend = ScriptedBackend({"Thank you.": "不客气。", "「Thank you.」": "谢谢。",
                               "Thanks, you're welcome to stay.": "谢谢，欢迎你留下。"})
    shown: list[str] = []
    assert translate_to_chinese(backend, "Thank you.", on_text=shown.append) == "谢谢。"
    assert [call[0] for call in backend.calls] == ["Thank you.", "「Thank you.」"]
    assert "不客气" not in "".join(shown)  # the reply never reached the other person
    # a thanks that is translated, and a thanks already answered, are asked once
    assert translate_to_chinese(backend, "Thanks, you're welcome to stay.") == "谢谢，欢迎你留下。"
    backend.answers["You're welcome."] = "不客气。"
    assert translate_to_chinese(backend, "You're welcome.") == "不客气。"
    assert len(backend.calls) == 4
    # a retry that still answers keeps the first answer (as the English direction does)
    backend.answers["「Thanks!」"] = "不用谢！"
    backend.answers["Thanks!"] = "不用谢！"
    assert translate_to_chinese(backend, "Thanks!") == "不用谢！"
    # a drafted message is not checked: it is written, not translated
    translate_to_chinese(backend, "Thank you.", prompts=DRAFT_MESSAGE)
    assert backend.calls[-1][0] == "Thank you." and backend.calls[-2][0] != "Thank you."


def test_translate_to_chinese_refuses_a_prompt_set_into_english() -> None:
    with pytest.raises(ValueError, match="speech"):
        translate_to_chinese(ScriptedBackend(), "Hello.", prompts=SPEECH)


# --- Chinese answers of a remote model -------------------------------------------------------


@pytest.mark.parametrize(("answer", "source", "expected"), [
    ("好的，以下是翻译：\n我十分钟后到。", "I'll be there in ten minutes.", "我十分钟后到。"),
    ("Sure! Here is the Chinese translation:\n\n“我十分钟后到。”\n\nNote: 十分钟 is ten "
     "minutes.", "I'll be there in ten minutes.", "我十分钟后到。"),
    ("Here is the translation.\n我十分钟后到。", "I'll be there in ten minutes.",
     "我十分钟后到。"),
    ("中文：会议室换了吗？", "Did the meeting room change?", "会议室换了吗？"),
    ("我马上来。（注：这是口语化的表达）", "I'm coming right away.", "我马上来。"),
    ("我马上来。这里的“马上”意思是立刻。", "I'm coming right away.", "我马上来。"),
    ("我马上来。注：也可以说“我这就来”。", "I'm coming right away.", "我马上来。"),
    # a reply that starts with assent is kept when the English does too
    ("好的，我马上来。", "OK, I'm coming.", "好的，我马上来。"),
    ("好的。", "Sure.", "好的。"),
    # words about translating are kept when the English is about translating
    ("你能帮我翻译这个吗？", "Can you translate this for me?", "你能帮我翻译这个吗？"),
    ("他说：“你好。”我说：“再见。”", "He said hello. I said goodbye.",
     "他说：“你好。”我说：“再见。”"),
    ("Sarah", "Sarah", "Sarah"),
])
def test_chinese_answer_is_cleaned(answer: str, source: str, expected: str) -> None:
    assert clean_chinese_answer(answer, source) == expected


@pytest.mark.parametrize(("answer", "source", "reason"), [
    ("", "Hello.", "empty"),
    ("好的，以下是翻译：", "Where is the station?", "chatter"),
    ("这句话的翻译是：车站在哪里", "Where is the station?", "chatter"),
    ("The station is two blocks north.", "Where is the station?", "not_chinese"),
    ("Where is the station?", "Where is the station?", "not_chinese"),
    ("车站在哪里？我们可以一起去看看那边的商店和饭馆，然后再去火车站旁边的公园散步，"
     "晚上还能在河边吃一顿很好吃的晚饭。", "Where is the station?", "too_long"),
])
def test_unusable_chinese_answer_is_rejected(answer: str, source: str, reason: str) -> None:
    with pytest.raises(RejectedAnswerError) as caught:
        clean_chinese_answer(answer, source)
    assert caught.value.reason == reason


def test_chinese_answer_limit_covers_the_dev_references() -> None:
    """Every Chinese reference of the dev text fits its English's limit."""
    folder = shared_data_dir() / "text"
    if not folder.is_dir():
        pytest.skip(f"no evaluation text at {folder}")
    rows = [json.loads(line) for path in folder.glob("*.jsonl")
            for line in path.read_text(encoding="utf-8").splitlines()]
    assert rows
    assert all(len(row["zh"]) <= max_chinese_answer_chars(row["en_refs"][0]) for row in rows)


def test_first_line_done_skips_chinese_preamble_lines() -> None:
    source = "Where is the station?"
    assert not chinese_first_line_done("好的，以下是翻译：\n车站", source)
    assert chinese_first_line_done("好的，以下是翻译：\n车站在哪里？\n", source)
    assert not chinese_first_line_done("车站在哪里？", source)


# --- English never copied through by the local model ----------------------------------------


@pytest.mark.parametrize(("source", "expected"), [
    ("He greeted me.", ["greeted"]),
    ("Anyone can take part.", ["anyone", "can", "take", "part"]),
    ("Tom is polite. Everyone likes Tom.", ["tom", "polite", "everyone", "likes"]),
    # addresses and codes must be copied; names inside a sentence may stay in Latin
    ("Send it to anna.lee@gmail.com at gate B12, okay?", ["send", "gate", "okay"]),
    ("I met Sarah at Northwind.", ["met"]),
    ("Ask Lin Xiaoyu.\n(Terms: Lin Xiaoyu = 林小雨)", ["ask"]),
])
def test_english_words_to_avoid(source: str, expected: list[str]) -> None:
    assert english_words_to_avoid(source) == expected


@dataclass
class FakeEngine:
    """A ``LlamaEngine`` stand-in: token ids are the texts' hashes; records the calls."""

    name: str = "fake-llama"
    lock: threading.Lock = field(default_factory=threading.Lock)
    avoided: list[set[int]] = field(default_factory=list)
    families: list[str] = field(default_factory=list)

    def first_tokens(self, texts: Iterable[str], min_chars: int = 3) -> set[int]:
        return {hash(text) for text in texts}

    def generate(self, prompt: str, *, max_new_tokens: int, cancelled: Callable[[], bool],
                 family: str = "speech", avoid: Iterable[int] = (),
                 on_text: Callable[[str], None] | None = None) -> str:
        self.avoided.append(set(avoid))
        self.families.append(family)
        return "好的"


def test_local_backend_forbids_the_source_words_only_into_chinese() -> None:
    engine = FakeEngine()
    backend = LlamaBackend(engine)  # type: ignore[arg-type]
    backend.translate("He greeted me.", [], forced_prefix="", max_new_tokens=20,
                      cancelled=lambda: False, prompts=ENGLISH_SPEECH)
    backend.translate("他向我打招呼。", [], forced_prefix="", max_new_tokens=20,
                      cancelled=lambda: False)
    assert engine.avoided == [{hash("greeted"), hash(" greeted")}, set()]
    assert engine.families == ["en-zh", "speech"]
