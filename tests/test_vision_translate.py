"""Photo blocks → English through a fake backend (plumbing) and the pure helpers."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from hudtranslate.translate.glossary import Glossary
from hudtranslate.translate.prompts import PHOTO_TEXT, SPEECH, PromptSet
from hudtranslate.vision.translate import (
    SceneTranslator,
    needs_translation,
    printed_dates_as_digits,
    restore_printed_codes,
    restore_printed_dates,
    restore_printed_periods,
    street_terms,
)


class ScriptedBackend:
    """Answers from a table; records what it was asked and with which prompts."""

    name = "scripted"

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, int, PromptSet, int]] = []

    def translate(self, source: str, context: Sequence[tuple[str, str]], *,
                  forced_prefix: str, max_new_tokens: int, cancelled: Callable[[], bool],
                  on_text: Callable[[str], None] | None = None,
                  prompts: PromptSet = SPEECH) -> str | None:
        self.calls.append((source, len(context), prompts, max_new_tokens))
        return self.answers.get(source.split("\n")[0], "?")


@pytest.mark.parametrize(("text", "terms"), [
    ("愚园路", [("愚园路", "Yuyuan Road")]),
    ("南京西路1266号", [("南京西路", "Nanjing West Road")]),
    ("地址：新北市新店区安民街309号", [("安民街", "Anmin Street")]),
    ("打浦路15号", [("打浦路", "Dapu Road")]),
    ("过马路要小心", []),
    ("一路顺风", []),
])
def test_street_terms(text: str, terms: list[tuple[str, str]]) -> None:
    assert street_terms(text) == terms


@pytest.mark.parametrize(("text", "expected"), [
    ("禁止吸烟", True), ("027-88852022", False), ("AGRICULTURAL BANK", False),
    ("¥25", False), ("P 常规干洗", True), ("（）", False),
])
def test_needs_translation(text: str, expected: bool) -> None:
    assert needs_translation(text) is expected


def test_prices_are_cut_off_and_put_back_and_english_stays() -> None:
    backend = ScriptedBackend({"鲁肉饭": "Braised pork rice", "禁止吸烟": "No smoking"})
    translator = SceneTranslator(backend)
    results = translator.translate_blocks(["魯肉飯 30", "NO SMOKING", "禁止吸烟"])
    assert results == [("Braised pork rice 30", "scripted"), ("NO SMOKING", ""),
                       ("No smoking", "scripted")]
    assert [call[0] for call in backend.calls] == ["鲁肉饭", "禁止吸烟"]
    assert all(call[2] is PHOTO_TEXT for call in backend.calls)
    assert [call[1] for call in backend.calls] == [0, 1]


def test_repeated_blocks_are_translated_once() -> None:
    backend = ScriptedBackend({"植物医生": "Plant Doctor"})
    translator = SceneTranslator(backend)
    first = translator.translate_blocks(["植物医生", "植物医生"])
    again = translator.translate_blocks(["植物醫生"])
    assert first == [("Plant Doctor", "scripted")] * 2
    assert again == [("Plant Doctor", "scripted")]
    assert len(backend.calls) == 1


def test_terms_are_written_in_and_an_echoed_terms_note_is_dropped() -> None:
    backend = ScriptedBackend({"Yuyuan Road": "Yuyuan Road (Terms: 愚园路 = Yuyuan Road)",
                               "Agricultural Bank of China": "Agricultural Bank of China"})
    glossary = Glossary({}, {"中国农业银行": "Agricultural Bank of China"})
    translator = SceneTranslator(backend, glossary)
    results = translator.translate_blocks(["愚园路", "中国农业银行"])
    assert [english for english, _ in results] == ["Yuyuan Road", "Agricultural Bank of China"]
    assert "(Terms: 愚园路 = Yuyuan Road)" in backend.calls[0][0]


def test_the_token_budget_follows_the_source_length() -> None:
    backend = ScriptedBackend({})
    SceneTranslator(backend, max_new_tokens=160).translate_blocks(["好", "飯" * 100])
    assert backend.calls[0][3] == 14
    assert backend.calls[1][3] == 160


def test_a_cancelled_run_stops_between_blocks() -> None:
    backend = ScriptedBackend({"一": "one"})
    done: list[int] = []
    translator = SceneTranslator(backend)
    results = translator.translate_blocks(["一", "二", "三"],
                                          on_block=lambda i, en, model: done.append(i),
                                          cancelled=lambda: len(done) >= 1)
    assert len(results) == 1


def test_a_printed_date_reaches_the_model_as_digits() -> None:
    backend = ScriptedBackend({})
    SceneTranslator(backend).translate_blocks(["2018年04月19日10:51开"])
    assert backend.calls[0][0].startswith("2018-04-19")


def test_chinese_copied_into_the_answer_is_glossed_or_romanised() -> None:
    backend = ScriptedBackend({"不锈钢机身": "不锈钢 body", "券后价": "券后价"})
    results = SceneTranslator(backend).translate_blocks(["不锈钢机身", "券后价"])
    assert [english for english, _ in results] == ["stainless steel body", "Quanhoujia"]


@pytest.mark.parametrize(("text", "english"), [("￥53.0元", "53.0 yuan"), ("20元", "20 yuan"),
                                                ("168 块", "168 yuan")])
def test_a_bare_price_is_written_out_without_a_model(text: str, english: str) -> None:
    backend = ScriptedBackend({})
    assert SceneTranslator(backend).translate_blocks([text]) == [(english, "")]
    assert backend.calls == []


class SequenceBackend(ScriptedBackend):
    """Answers in turn, whatever is asked."""

    def __init__(self, answers: list[str]) -> None:
        super().__init__({})
        self.queue = answers

    def translate(self, source: str, context: Sequence[tuple[str, str]], *,
                  forced_prefix: str, max_new_tokens: int, cancelled: Callable[[], bool],
                  on_text: Callable[[str], None] | None = None,
                  prompts: PromptSet = SPEECH) -> str | None:
        self.calls.append((source, len(context), prompts, max_new_tokens))
        return self.queue.pop(0)


def test_a_lost_number_is_asked_for_once_more() -> None:
    backend = SequenceBackend(["Car 7, seat 12B", "Car 07, seat 12B"])
    ((english, _),) = SceneTranslator(backend).translate_blocks(["07车12B号"])
    assert english == "Car 07, seat 12B"
    assert "(Copy these numbers exactly: 07)" in backend.calls[1][0]


def test_the_first_answer_stays_when_the_retry_is_no_better() -> None:
    backend = SequenceBackend(["Car 7, seat 12B", "Carriage seven"])
    assert SceneTranslator(backend).translate_blocks(["07车12B号"])[0][0] == "Car 7, seat 12B"


class BatchingBackend(ScriptedBackend):
    """A scripted backend that can also answer several sources at once (as the local
    model does), recording each group with its context."""

    def __init__(self, answers: dict[str, str]) -> None:
        super().__init__(answers)
        self.groups: list[tuple[list[str], int, list[int]]] = []
        self.messages: list[list[str]] = []

    def translate_batch(self, sources: Sequence[str], context: Sequence[tuple[str, str]], *,
                        max_new_tokens: Sequence[int],
                        prompts: PromptSet = SPEECH) -> list[str]:
        assert prompts is PHOTO_TEXT
        self.groups.append(([s.split("\n")[0] for s in sources], len(context),
                            list(max_new_tokens)))
        self.messages.append(list(sources))
        return [self.answers.get(source.split("\n")[0], "?") for source in sources]


def test_after_the_first_block_the_rest_go_in_groups_of_similar_length_shown_in_order(
        ) -> None:
    answers = {"禁止吸烟": "No smoking", "出口": "Exit", "不锈钢机身": "Stainless steel body",
               "鲁肉饭": "Braised pork rice", "极速发货": "Express delivery",
               "大桶装更划算强力去污": "The big tub is better value and cleans hard",
               "小心地滑": "Caution, wet floor"}
    backend = BatchingBackend(answers)
    shown: list[int] = []
    texts = ["NO SMOKING", "禁止吸烟", "出口", "不锈钢机身", "魯肉飯 30", "极速发货",
             "大桶装更划算强力去污", "小心地滑"]
    results = SceneTranslator(backend, batch=3).translate_blocks(
        texts, on_block=lambda index, english, model: shown.append(index))
    assert shown == list(range(len(texts)))
    assert results[0] == ("NO SMOKING", "") and results[4] == ("Braised pork rice 30", "scripted")
    assert [english for english, _ in results[1:]] == [
        "No smoking", "Exit", "Stainless steel body", "Braised pork rice 30",
        "Express delivery", "The big tub is better value and cleans hard", "Caution, wet floor"]
    assert [call[0] for call in backend.calls] == ["禁止吸烟"]  # the first one alone
    assert [group for group, _, _ in backend.groups] == [
        ["大桶装更划算强力去污", "不锈钢机身", "极速发货"], ["小心地滑", "鲁肉饭", "出口"]]
    assert {context for _, context, _ in backend.groups} == {1}  # after the first turn
    assert backend.groups[1][2] == [12 + 2 * 4, 12 + 2 * 3, 12 + 2 * 2]


def test_lost_numbers_in_a_group_are_asked_for_once_more_in_one_group() -> None:
    backend = BatchingBackend({"禁止吸烟": "No smoking", "07车12B号": "Car 7, seat 12",
                               "出口": "Exit", "3号门": "Gate 3"})
    results = SceneTranslator(backend).translate_blocks(["禁止吸烟", "07车12B号", "出口",
                                                         "3号门"])
    assert backend.messages == [["07车12B号", "3号门", "出口"],
                                ["07车12B号\n(Copy these numbers exactly: 07)"]]
    assert [call[0] for call in backend.calls] == ["禁止吸烟"]
    assert results[1][0] == "Car 7, seat 12"  # the retry kept no more numbers: first answer
    assert [english for english, _ in results[2:]] == ["Exit", "Gate 3"]


def test_a_text_that_repeats_in_a_photo_is_asked_once() -> None:
    backend = BatchingBackend({"招牌菜": "Signature dishes", "特价": "Special offer",
                               "鲁肉饭": "Braised pork rice"})
    results = SceneTranslator(backend).translate_blocks(
        ["招牌菜", "特价", "鲁肉饭 30", "特价", "特價", "鲁肉饭 28"])
    assert backend.messages == [["鲁肉饭", "特价"]]
    assert [english for english, _ in results] == [
        "Signature dishes", "Special offer", "Braised pork rice 30", "Special offer",
        "Special offer", "Braised pork rice 28"]


def test_batch_one_translates_one_block_at_a_time() -> None:
    backend = BatchingBackend({"禁止吸烟": "No smoking", "出口": "Exit"})
    SceneTranslator(backend, batch=1).translate_blocks(["禁止吸烟", "出口"])
    assert backend.groups == [] and [call[1] for call in backend.calls] == [0, 1]


def test_a_group_that_cannot_be_decoded_together_is_written_one_at_a_time() -> None:
    class FailingBatch(BatchingBackend):
        def translate_batch(self, sources: Sequence[str], context: Sequence[tuple[str, str]],
                            *, max_new_tokens: Sequence[int],
                            prompts: PromptSet = SPEECH) -> list[str]:
            raise RuntimeError("llama_decode failed (1)")

    backend = FailingBatch({"禁止吸烟": "No smoking", "出口": "Exit", "停车场": "Parking"})
    results = SceneTranslator(backend).translate_blocks(["禁止吸烟", "出口", "停车场"])
    assert [english for english, _ in results] == ["No smoking", "Exit", "Parking"]
    assert [call[0] for call in backend.calls] == ["禁止吸烟", "停车场", "出口"]


@pytest.mark.parametrize(("english", "source", "card"), [
    ("Departs April 19, 2018 at 10:51", "2018-04-19 10:51开", "Departs 2018-04-19 at 10:51"),
    ("Made on 19th April 2018", "生产日期2018-04-19", "Made on 2018-04-19"),
    ("Use by Apr. 9, 2026", "2026-4-9", "Use by 2026-4-9"),
    ("Use by the 9th of April 2026", "2026-04-09", "Use by the 2026-04-09"),
    ("May 9, 2018 and April 9, 2018", "2018-04-09", "May 9, 2018 and 2018-04-09"),
    ("April 19, 2019", "2018-04-19", "April 19, 2019"),  # another year: not the same date
    ("Room 2018-13-40", "2018-13-40", "Room 2018-13-40"),  # not a date
])
def test_dates_the_model_wrote_in_words_are_put_back_as_printed(english: str, source: str,
                                                                 card: str) -> None:
    assert restore_printed_dates(english, source) == card


@pytest.mark.parametrize(("english", "source", "card"), [
    ("Safety category: GB 18401-2010", "安全类别:GB18401-2010",
     "Safety category: GB18401-2010"),
    ("Standard: FZ/T 73025 - 2006", "执行标准:FZ/T73025-2006", "Standard: FZ/T73025-2006"),
    ("Item No.: B 2390", "货号：B2390", "Item No.: B2390"),
    ("Standard: GB18401-2010", "安全类别:GB18401-2010", "Standard: GB18401-2010"),
    ("Standard: GB 18401-2011", "安全类别:GB18401-2010", "Standard: GB 18401-2011"),  # changed
    ("Price: 47.5 yuan", "零售价：47.50元", "Price: 47.5 yuan"),  # a number, not a code
    ("Size: 66 / 47", "下装:66/47", "Size: 66 / 47"),  # no letter: not a code
    ("Room A 3", "A3房间", "Room A 3"),  # too short to be a code
    ("Call AB 12 or GAB 123", "AB12", "Call AB12 or GAB 123"),  # whole codes only
])
def test_codes_the_model_spaced_out_are_put_back_as_printed(english: str, source: str,
                                                            card: str) -> None:
    assert restore_printed_codes(english, source) == card


def test_a_hang_tag_code_reaches_the_card_as_printed() -> None:
    backend = SequenceBackend(["Safety category: GB 18401-2010"])
    results = SceneTranslator(backend).translate_blocks(["安全类别:GB18401-2010"])
    assert results[0][0] == "Safety category: GB18401-2010"


def test_a_ticket_date_written_in_words_needs_no_second_try() -> None:
    backend = SequenceBackend(["Departs April 19, 2018 at 10:51"])
    results = SceneTranslator(backend).translate_blocks(["2018年04月19日10:51开"])
    assert results[0][0] == "Departs 2018-04-19 at 10:51"
    assert len(backend.calls) == 1


def test_a_printed_date_is_given_to_the_model_in_digits_apart_from_the_time() -> None:
    assert printed_dates_as_digits("2018年04月19日10:51开") == "2018-04-19 10:51开"
    assert printed_dates_as_digits("生产日期：2024年1月5号") == "生产日期：2024-1-5"


REFUSAL = "Sorry, but I can't assist with that."


def test_a_block_the_model_answers_is_asked_again_quoted() -> None:
    """"敬请见谅！" (please excuse us) on a stall's sign came out as the model's refusal."""
    backend = SequenceBackend([REFUSAL, "“Please excuse us!”"])
    ((english, model),) = SceneTranslator(backend).translate_blocks(["敬请见谅！"])
    assert (english, model) == ("Please excuse us!", "scripted")
    assert backend.calls[1][0].startswith("「敬请见谅！」")


def test_a_block_still_answered_is_shown_as_printed_and_not_remembered() -> None:
    backend = SequenceBackend([REFUSAL, "I'm sorry, but I cannot help with that.",
                               "Please excuse us.", "Please excuse us."])
    translator = SceneTranslator(backend)
    assert translator.translate_blocks(["敬请见谅！"]) == [("敬请见谅！", "")]
    assert translator.translate_blocks(["敬请见谅！"]) == [("Please excuse us.", "scripted")]


def test_answered_blocks_in_a_group_are_asked_again_quoted_in_one_group() -> None:
    backend = BatchingBackend({"营业时间": "Opening hours", "敬请见谅！": REFUSAL,
                               "欢迎光临": "Welcome", "「敬请见谅！」": "Please excuse us.",
                               "谢谢惠顾": "As an AI, I cannot shop.",
                               "「谢谢惠顾」": "As an AI, I cannot shop."})
    results = SceneTranslator(backend).translate_blocks(["营业时间", "敬请见谅！", "欢迎光临",
                                                         "谢谢惠顾"])
    assert backend.messages[1] == ["「敬请见谅！」", "「谢谢惠顾」"]
    assert results[1:] == [("Please excuse us.", "scripted"), ("Welcome", "scripted"),
                           ("谢谢惠顾", "")]


@pytest.mark.parametrize(("source", "english", "expected"), [
    ("下午4:00~9:30", "4:00 PM to 9:30 AM", "4:00 PM to 9:30 PM"),  # a stall's evening hours
    ("营业时间：上午8:00-11:30", "Open 8:00 AM - 11:30 PM", "Open 8:00 AM - 11:30 AM"),
    ("晚上6点至10点", "6 PM to 10 am", "6 PM to 10 PM"),
    ("晚上10:00~2:00", "10:00 PM to 2:00 AM", "10:00 PM to 2:00 AM"),  # past midnight
    ("下午4:00~9:30", "4:00 PM to 9:30 PM", "4:00 PM to 9:30 PM"),
    ("4:00~9:30", "4:00 AM to 9:30 PM", "4:00 AM to 9:30 PM"),  # no period printed
])
def test_a_time_range_keeps_its_printed_period(source: str, english: str,
                                               expected: str) -> None:
    assert restore_printed_periods(english, source) == expected
