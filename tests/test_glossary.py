"""Glossary files, term matching and how terms reach the translator (plumbing: fake model)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from hudtranslate.config import TranslateOptions
from hudtranslate.errors import ConfigError
from hudtranslate.events import Transcript
from hudtranslate.testing import FakeBackend
from hudtranslate.translate.glossary import (
    Glossary,
    gloss_chinese,
    gloss_copied_words,
    proper_name,
    read_glossary_file,
    replace_copied_terms,
    term_present,
)
from hudtranslate.translate.prompts import SPEECH, PromptSet, build_prompt, user_message
from hudtranslate.translate.terms_kept import forced_start, held_from
from hudtranslate.translate.text import clean_translation
from hudtranslate.translate.translator import SessionTranslator


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_toml_top_level_and_terms_table(tmp_path: Path) -> None:
    flat = write(tmp_path, "a.toml", '"星海科技" = "StarSea Tech"\n"算力" = "compute"\n')
    table = write(tmp_path, "b.toml", '[terms]\n"星海科技" = "StarSea  Tech"\n')
    assert read_glossary_file(flat) == {"星海科技": "StarSea Tech", "算力": "compute"}
    assert read_glossary_file(table) == {"星海科技": "StarSea Tech"}


def test_tsv_with_comments_and_blank_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "g.tsv",
                 "\ufeff# company names\n星海科技\tStarSea Tech\n\n算力\tcompute\n")
    assert read_glossary_file(path) == {"星海科技": "StarSea Tech", "算力": "compute"}


def test_terms_may_mix_latin_letters_and_digits_with_chinese(tmp_path: Path) -> None:
    """Finance and technology write A股 and 5G网络: they had been refused."""
    path = write(tmp_path, "g.tsv", "A股\tA-shares\n5G网络\t5G network\n")
    terms = read_glossary_file(path)
    assert terms == {"A股": "A-shares", "5G网络": "5G network"}
    assert Glossary(terms).find("今天A股大涨，5G网络也快") == [("A股", "A-shares"),
                                                          ("5G网络", "5G network")]


def test_traditional_terms_are_kept_in_simplified(tmp_path: Path) -> None:
    """The recogniser writes Simplified: a glossary written in Traditional must match."""
    path = write(tmp_path, "g.tsv", "湯姆\tTom\n雲棲小鎮\tYunqi Town\n")
    assert read_glossary_file(path) == {"汤姆": "Tom", "云栖小镇": "Yunqi Town"}
    clash = write(tmp_path, "c.tsv", "湯姆\tTom\n汤姆\tThomas\n")
    with pytest.raises(ConfigError, match=r"c\.tsv:2: '汤姆' is already 'Tom'"):
        read_glossary_file(clash)


@pytest.mark.parametrize(("name", "text", "message"), [
    ("g.tsv", "星海科技\tStarSea\n算力 compute\n", r"g\.tsv:2: expected 'Chinese<TAB>English'"),
    ("g.tsv", "StarSea\tStarSea Tech\n", r"g\.tsv:1: the term 'StarSea' must be Chinese"),
    ("g.tsv", "5G\tfive G\n", r"g\.tsv:1: the term '5G' must be Chinese"),
    ("g.tsv", "A 股\tA-shares\n", r"g\.tsv:1: the term 'A 股' must be Chinese"),
    ("g.tsv", "算力\t  \n", r"g\.tsv:1: no English given for '算力'"),
    ("g.tsv", "算力\tcompute\tGPU hours\n", r"g\.tsv:1: 3 tab-separated columns, expected 2"),
    ("g.tsv", "算力\t\tcompute\n", r"g\.tsv:1: 3 tab-separated columns"),
    ("g.tsv", "算力\tcompute\n算力\tcomputing power\n", r"g\.tsv:2: '算力' is already 'compute'"),
    ("g.toml", '"算力" = 3\n', r"term '算力': the English must be a string"),
    ("g.toml", '"算力" = \n', r"g\.toml: invalid TOML"),
])
def test_bad_glossary_names_file_and_line(tmp_path: Path, name: str, text: str,
                                          message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        read_glossary_file(write(tmp_path, name, text))


def test_a_trailing_tab_is_not_a_column(tmp_path: Path) -> None:
    glossary = write(tmp_path, "g.tsv", "算力\tcompute\t\r\n")
    assert read_glossary_file(glossary) == {"算力": "compute"}


def test_missing_glossary_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"glossary .*nope\.tsv: cannot read it") as raised:
        read_glossary_file(tmp_path / "nope.tsv")
    assert str(raised.value).endswith("(No such file or directory)")  # no errno, no 2nd path


def test_find_prefers_longest_user_terms_and_skips_single_character_names() -> None:
    glossary = Glossary(terms={"星海": "StarSea", "星海科技": "StarSea Tech", "算力": "compute"},
                        names={"北京": "Beijing", "王": "Wang", "科技": "Keji"})
    found = glossary.find("王总说星海科技在北京的算力不够，星海科技要扩容。")
    assert found == [("星海科技", "StarSea Tech"), ("北京", "Beijing"), ("算力", "compute")]
    assert Glossary().find("星海科技") == []


def test_user_terms_win_over_dictionary_names() -> None:
    glossary = Glossary(terms={"长城": "Great Wall Motors"}, names={"长城": "the Great Wall"})
    assert glossary.find("我买了一辆长城。") == [("长城", "Great Wall Motors")]


@pytest.mark.parametrize(("definition", "name"), [
    ("Shenzhen subprovincial city in Guangdong", "Shenzhen"),
    ("Tsinghua University", "Tsinghua University"),
    ("the Great Wall", "the Great Wall"),
    ("Huawei (brand)", "Huawei"),
    ("Bank of China", "Bank of China"),
    ("surname Wang", ""),
    ("", ""),
])
def test_proper_name_from_cedict_definition(definition: str, name: str) -> None:
    assert proper_name(definition) == name


@pytest.mark.parametrize(("english", "terms", "expected"), [
    ("An association in Guangzhou.", [("广州", "Canton")], "An association in Canton."),
    ("From Guang Zhou and Guang-zhou's port", [("广州", "Canton")],
     "From Canton and Canton's port"),
    ("Canton, not Guangzhou", [("广州", "Canton")], "Canton, not Guangzhou"),  # kept already
    ("an apple", [("安", "Peace")], "an apple"),  # one syllable: too many English words
    ("the guangzhou road", [("广州", "Canton")], "the guangzhou road"),  # not a name
    ("Guangzhoustreet", [("广州", "Canton")], "Guangzhoustreet"),  # not a whole word
    ("A StarSea launch", [("星海科技", "StarSea Tech")], "A StarSea launch"),
], ids=["joined", "spaced, hyphenated, possessive", "the term is there", "one character",
        "lower case", "inside a word", "nothing by its sound"])
def test_a_term_written_by_its_sound_becomes_the_glossarys_english(
        english: str, terms: list[tuple[str, str]], expected: str) -> None:
    assert replace_copied_terms(english, terms) == expected


def test_copied_chinese_term_becomes_its_english() -> None:
    assert " ".join(replace_copied_terms("We met at 星海科技 today.",
                                         [("星海科技", "StarSea Tech")]).split()) == \
        "We met at StarSea Tech today."


def test_terms_follow_the_sentence_and_leave_the_cached_prefix_alone() -> None:
    message = user_message("星海科技很好。", [("星海科技", "StarSea Tech")])
    assert message == "StarSea Tech很好。\n(Terms: 星海科技 = StarSea Tech)"
    assert user_message("你好。") == "你好。"
    with_terms = build_prompt(message, glossary=True)
    assert with_terms.startswith(build_prompt("", glossary=True).rsplit("<|im_start|>user", 1)[0])


def test_session_sends_terms_with_the_source_but_keeps_plain_context() -> None:
    backend = FakeBackend()
    glossary = Glossary(terms={"星海科技": "StarSea Tech"})
    session = SessionTranslator(backend, TranslateOptions(translate_partials=False),
                                glossary=glossary)
    session.translate(Transcript(0, "星海科技很好。", "", 0.0, 1.0, True, 1.0))
    session.translate(Transcript(1, "我们走吧。", "", 3.0, 4.0, True, 4.0))
    assert backend.calls == ["StarSea Tech很好。\n(Terms: 星海科技 = StarSea Tech)", "我们走吧。"]
    assert session.context[0][0] == "星海科技很好。"


@pytest.mark.parametrize(("target", "english", "present"), [
    ("foundation model", "Many companies build their own foundation models.", True),
    ("captions", "The caption delay must stay under 2 seconds.", True),
    ("on-device", "It runs on device.", True),
    ("StarSea Tech", "Revenue at starsea tech doubled.", True),
    ("compute", "Our computing power is not enough.", False),
    ("Ian Zhao", "Xian Zhao is our youngest engineer.", False),
    ("art", "We start at nine.", False),
    # -ies and -es plurals: a correct plural read as missing would have the term forced
    # in the singular
    ("energy policy", "New energy policies were announced.", True),
    ("energy policies", "The energy policy changed.", True),
    ("business class", "Both business classes were full.", True),
    ("tax boxes", "Tick the tax box.", True),
    ("political overhaul", "We need political reforms.", False),
    ("political overhaul", "A political overhauling is planned.", False),
])
def test_term_presence_allows_plural_case_and_hyphen(target: str, english: str,
                                                     present: bool) -> None:
    assert term_present(target, english) is present


@pytest.mark.parametrize(("text", "glossed"), [
    ("不可漂白", "cannot bleach"),
    ("the 熨斗 bottom", "the clothes iron bottom"),
    ("券后价", "券后价"),
    ("100% cotton", "100% cotton"),
])
def test_gloss_chinese_uses_whole_dictionary_words(text: str, glossed: str) -> None:
    assert gloss_chinese(text) == glossed


@pytest.mark.parametrize(("english", "expected"), [
    ("make sure to enter the直播间 on Monday", "make sure to enter the studio on Monday"),
    ("I also 劝说 my friends", "I also persuade my friends"),
    ("He lives in the 小区.", "He lives in the housing estate."),
    ("小雨, come here.", "Xiaoyu, come here."),  # a given name too (jieba: nr)
    ("Lin 海燕 is my colleague.", "Lin Haiyan is my colleague."),
    ("He flew to 伦敦 with 汤姆.", "He flew to London with Tom."),  # names CC-CEDICT knows
    ("Tom and 马力 are kind.", "Tom and Mali are kind."),  # 马力 "horsepower" sounds like 马里
    ("When Michael 钱s team won", "When Michael Qians team won"),  # nothing glossed: as before
    ("No Chinese here.", "No Chinese here."),
])
def test_copied_ordinary_words_are_glossed_and_names_romanised(english: str,
                                                               expected: str) -> None:
    assert clean_translation(gloss_copied_words(english)) == expected


def test_tables_are_built_in_a_child_process() -> None:
    """``built_in_child`` runs the function in another process and hands back its result;
    a child that fails is a RuntimeError naming the reason."""
    import os

    from hudtranslate.translate.glossary import built_in_child

    assert built_in_child("os:getpid") != os.getpid()
    with pytest.raises(RuntimeError, match="ImportError"):
        built_in_child("os:no_such_function")


def test_glosses_are_built_here_when_the_child_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    from hudtranslate.translate import glossary

    def failing(function: str, timeout_s: float = 0.0) -> object:
        raise RuntimeError(f"{function}: no child today")

    glossary._cedict_gloss_table.cache_clear()
    monkeypatch.setattr(glossary, "built_in_child", failing)
    try:
        glossed = clean_translation(gloss_copied_words("He lives in the 小区."))
        assert glossed == "He lives in the housing estate."
    finally:
        glossary._cedict_gloss_table.cache_clear()


@pytest.mark.parametrize(("name", "text"), [
    ("bom.toml", '\ufeff"星海科技" = "StarSea Tech"\n'),
    ("bom.tsv", "\ufeff星海科技\tStarSea Tech\n"),
])
def test_a_glossary_saved_with_a_byte_order_mark_keeps_its_first_term(
        tmp_path: Path, name: str, text: str) -> None:
    assert read_glossary_file(write(tmp_path, name, text)) == {"星海科技": "StarSea Tech"}


def test_terms_above_a_terms_table_are_kept(tmp_path: Path) -> None:
    path = write(tmp_path, "g.toml", 'title = "work terms"\n"星海科技" = "StarSea Tech"\n'
                                     '[terms]\n"青松资本" = "Evergreen Capital"\n')
    assert read_glossary_file(path) == {"星海科技": "StarSea Tech",
                                        "青松资本": "Evergreen Capital"}


@pytest.mark.parametrize(("name", "text", "message"), [
    ("g.toml", '[glossary]\n"星海科技" = "StarSea Tech"\n',
     r"g\.toml: \[glossary\] is a table, not a term: write the terms at the top level"),
    ("g.toml", '[terms.names]\n"星海科技" = "StarSea Tech"\n', r"\[terms\.names\] is a table"),
    ("g.toml", f'"星海科技" = [{", ".join(["1"] * 50)}]\n',
     r"term '星海科技': the English must be a string, not a list$"),
    ("g.toml", "", r"g\.toml: no terms in it"),
    ("g.tsv", "# only a comment\n\n", r"g\.tsv: no terms in it"),
    ("g.txt", '"星海科技" = "StarSea Tech"\n', r"a TOML glossary needs a name ending in \.toml"),
])
def test_a_wrongly_shaped_glossary_gets_one_short_line(tmp_path: Path, name: str, text: str,
                                                      message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        read_glossary_file(write(tmp_path, name, text))
    assert "\n" not in str(info.value) and len(str(info.value)) < 200 + len(str(tmp_path))


def test_a_glossary_not_in_utf8_says_how_to_fix_it(tmp_path: Path) -> None:
    path = tmp_path / "g.tsv"
    path.write_bytes("星海科技\tStarSea Tech\n".encode("gbk"))
    with pytest.raises(ConfigError, match=r"g\.tsv: not UTF-8 text .*: save it as UTF-8"):
        read_glossary_file(path)


def test_a_glossary_path_from_a_config_file_expands_the_home_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    write(tmp_path, "g.tsv", "星海科技\tStarSea Tech\n")
    assert read_glossary_file(Path("~/g.tsv")) == {"星海科技": "StarSea Tech"}


def test_terms_with_ideographs_beyond_the_first_plane_are_chinese(tmp_path: Path) -> None:
    path = write(tmp_path, "g.tsv", "𠮷野家\tYoshinoya\n嵽嘳\tDie Kui\n")
    terms = read_glossary_file(path)
    assert terms["𠮷野家"] == "Yoshinoya" and len(terms) == 2  # 嘳: Simplified 𪡞


def test_english_terms_of_a_huge_glossary_are_found_without_trying_each(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``term_present`` compiles a pattern per term: 100k terms took 7 s a sentence."""
    from hudtranslate.translate import glossary as module

    targets = ["foundation model", "C++", ".NET", "(beta) test", "O'Brien", "AI", "ideas",
               "roll back", "Bass", "+++", "canary-release", "the Great Wall", "O'Bus Co"]
    terms = {f"术语{chr(0x4e00 + index)}": target for index, target in enumerate(targets)}
    words = ["".join(chr(97 + n // 26 ** place % 26) for place in range(4)) + "x"
             for n in range(10_000)]  # English as varied as a real termbase's
    terms.update({f"填充{chr(0x4e00 + n // 300)}{chr(0x4e00 + n % 300)}": f"the {word}"
                  for n, word in enumerate(words)})
    glossary = Glossary(terms=terms)
    sentences = ["Two foundation models and C++ on .NET", "the (beta) test of O'Brien's AIs",
                 "Ideas: roll-back the bass; +++", f"a canary release, then the {words[7]}",
                 "the great walls of O'Bu co"]
    tried: list[str] = []

    def counting(target: str, english: str) -> bool:
        tried.append(target)
        return term_present(target, english)

    for sentence in sentences:  # the same answer as trying every term
        expected = [(target, chinese) for chinese, target in terms.items()
                    if term_present(target, sentence)]
        tried.clear()
        monkeypatch.setattr(module, "term_present", counting)
        assert glossary.find_english(sentence) == expected
        monkeypatch.undo()
        assert expected and len(tried) < 1_000


TERM = [("政治改革", "political overhaul")]


@pytest.mark.parametrize(("english", "terms", "start"), [
    ("We need political reforms now.", TERM, "We need political overhaul"),
    ("Political reforms come first.", TERM, "Political overhaul"),
    ("We need a political-reform push.", TERM, "We need a political overhaul"),
    ("We need political overhaul now.", TERM, None),  # kept
    ("We need Political Overhauls now.", TERM, None),  # kept, in the plural
    ("We need sweeping reforms.", TERM, None),  # no first word: nothing to place
    ("Political parties want political reforms.", TERM, None),  # which one? left
    ("We need geopolitical reforms.", TERM, None),  # not a whole word
    ("We need reasoning costs.", [("推理", "inference")], None),  # one word
    ("We saw the big wall.", [("长城", "the Great Wall")], None),  # article first
    ("Cloud services and machine training grew.",
     [("云服务", "cloud services"), ("机器学习", "machine learning")],
     "Cloud services and machine learning"),
    ("Ask machine training about political reforms.",
     [*TERM, ("机器学习", "machine learning")], "Ask machine learning"),  # the first
])
def test_a_paraphrased_term_is_forced_where_its_first_word_is(
        english: str, terms: list[tuple[str, str]], start: str | None) -> None:
    assert forced_start(english, terms) == start


@pytest.mark.parametrize(("growing", "shown"), [
    ("We need political", "We need "),
    ("We need political overhaul", "We need political overhaul"),
    ("We need sweeping", "We need sweeping"),
])
def test_a_term_begun_waits_until_it_is_the_glossarys(growing: str, shown: str) -> None:
    assert growing[: held_from(growing, TERM)] == shown


class ParaphrasingBackend:
    """Answers ``answer`` and, asked with a forced start, that start and then ``rest``;
    streams words like ``FakeBackend``."""

    name = "fake"

    def __init__(self, answer: str, rest: str = " now.") -> None:
        self.answer, self.rest = answer, rest
        self.forced: list[str] = []

    def translate(self, source: str, context: Sequence[tuple[str, str]], *,
                  forced_prefix: str, max_new_tokens: int, cancelled: Callable[[], bool],
                  on_text: Callable[[str], None] | None = None,
                  prompts: PromptSet = SPEECH) -> str | None:
        self.forced.append(forced_prefix)
        answer = forced_prefix + self.rest if forced_prefix else self.answer
        words = answer.split()
        for index in range(len(words)):
            if on_text is not None:
                on_text(" ".join(words[: index + 1]) + " ")
        return answer


@pytest.mark.parametrize(("answer", "rest", "english", "forced"), [
    ("We need political reforms now.", " now.", "We need political overhaul now.",
     ["", "We need political overhaul"]),
    ("We need political overhaul now.", " now.", "We need political overhaul now.", [""]),
    ("We need sweeping reforms now.", " now.", "We need sweeping reforms now.", [""]),
    # the second answer is no better (the forced start ignored): the first is kept
    ("We need political reforms now.", "", "We need political reforms now.",
     ["", "We need political overhaul"]),
])
def test_a_session_asks_again_with_a_paraphrased_term_forced(
        answer: str, rest: str, english: str, forced: list[str]) -> None:
    backend = ParaphrasingBackend(answer, rest)
    if not rest:
        backend.translate = lambda *args, **kwargs: (  # type: ignore[method-assign]
            backend.forced.append(kwargs["forced_prefix"]) or answer)
    session = SessionTranslator(backend, TranslateOptions(translate_partials=False),
                                glossary=Glossary(terms=dict(TERM)))
    shown: list[str] = []
    result = session.translate(Transcript(0, "我们现在需要政治改革。", "", 0.0, 1.0, True, 1.0),
                               emit=lambda event: shown.append(event.committed))
    assert result is not None and result.committed == english
    assert backend.forced == forced
    assert all(english.startswith(words) for words in shown), shown  # never taken back
