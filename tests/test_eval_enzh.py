"""The en→zh text benchmark: direction plumbing with a fake translator, and chrF on
Chinese characters checked against values worked out by hand from the chrF definition."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hudtranslate.cli import main
from hudtranslate.config import Settings
from hudtranslate.errors import DataError
from hudtranslate.eval import runner
from hudtranslate.eval.bench import BenchInputs, NoProgress, run_benchmark
from hudtranslate.eval.manifests import load_texts
from hudtranslate.eval.metrics import chinese_quality
from hudtranslate.pipeline import Engines
from hudtranslate.testing import FakeDecoder, FakeVad, fake_english
from hudtranslate.translate.prompts import ENGLISH_SPEECH, SPEECH, PromptSet

pytestmark = pytest.mark.timeout(60)

ROWS = [
    {"id": "a", "zh": "我们走吧。", "en_refs": ["Let's go.", "Shall we go?"]},
    {"id": "b", "zh": "今天下雨了吗？", "en_refs": ["Did it rain today?"]},
]
CHINESE = {"Let's go.": "我们走吧。", "Did it rain today?": "今天下雨吗？"}


@dataclass
class TwoWayBackend:
    """Chinese from ``CHINESE`` for the en→zh prompt set, ``fake_english`` otherwise."""

    name: str = "two-way"
    calls: list[tuple[str, str]] = field(default_factory=list)

    def translate(self, source: str, context: Sequence[tuple[str, str]], *,
                  forced_prefix: str, max_new_tokens: int, cancelled: Callable[[], bool],
                  on_text: Callable[[str], None] | None = None,
                  prompts: PromptSet = SPEECH) -> str | None:
        self.calls.append((prompts.name, source))
        if prompts.target_language == "zh":
            return forced_prefix + CHINESE.get(source, "")
        return forced_prefix + fake_english(source)


def write(path: Path, rows: Sequence[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows),
                    "utf-8")
    return path


def engines_with(backend: TwoWayBackend) -> runner.BenchEngines:
    return runner.BenchEngines(pipeline=Engines(asr=FakeDecoder(["好"]), translator=backend,
                                                vad_factory=FakeVad))


# --- direction in the manifest -----------------------------------------------------------


def test_direction_comes_from_the_option_or_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "t.jsonl", [ROWS[0], {**ROWS[1], "direction": "en-zh"}])
    assert [item.direction for item in load_texts(path)] == ["zh-en", "en-zh"]
    assert [item.direction for item in load_texts(path, None, "en-zh")] == ["en-zh", "en-zh"]


def test_a_bad_direction_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "t.jsonl", [ROWS[0], {**ROWS[1], "direction": "zh-fr"}])
    with pytest.raises(DataError, match=r"t\.jsonl:2: 'direction'"):
        load_texts(path)
    with pytest.raises(DataError, match="direction must be one of"):
        load_texts(path, None, "fr-zh")


# --- the benchmark -------------------------------------------------------------------------


async def test_en_zh_items_are_translated_from_the_first_english_reference(
        tmp_path: Path) -> None:
    path = write(tmp_path / "t.jsonl", [ROWS[0], {**ROWS[1], "direction": "en-zh"}])
    backend = TwoWayBackend()
    results = await run_benchmark(BenchInputs(texts=load_texts(path)),
                                  ["mt-on-reference-text"], engines_with(backend),
                                  Settings.load(env={}), progress=NoProgress())
    ceiling = results["mt-on-reference-text"]
    assert ceiling["text"]["sentences"] == 1
    section = ceiling["text_en_zh"]
    assert section["sentences"] == 1 and section["prompts"] == ENGLISH_SPEECH.name
    [item] = section["items"]
    assert item == {"id": "b", "en": "Did it rain today?", "zh_ref": "今天下雨了吗？",
                    "zh": "今天下雨吗？", "chrf": pytest.approx(item["chrf"])}
    assert section["chrf"] == pytest.approx(
        chinese_quality(["今天下雨吗？"], ["今天下雨了吗？"]).chrf)
    assert ("en-zh", "Did it rain today?") in backend.calls
    assert ("speech", "我们走吧。") in backend.calls


def test_cli_direction_flag_writes_the_en_zh_section(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    backend = TwoWayBackend()
    monkeypatch.setattr(runner, "load_bench_engines",
                        lambda settings, systems: engines_with(backend))
    path = write(tmp_path / "t.jsonl", ROWS)
    out = tmp_path / "out"
    assert main(["bench", "--text", str(path), "--direction", "en-zh", "--systems",
                 "mt-on-reference-text", "--out-dir", str(out)]) == 0
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    systems = report["systems"]["mt-on-reference-text"]
    assert "text" not in systems and systems["text_en_zh"]["sentences"] == 2
    assert [item["en"] for item in systems["text_en_zh"]["items"]] == [
        "Let's go.", "Did it rain today?"]
    assert report["metadata"]["text_direction"] == "en-zh"
    table = (out / "report.md").read_text(encoding="utf-8")
    assert "text en→zh chrF (characters)" in table
    assert "English → Chinese, lowest chrF" in table and "今天下雨了吗？" in table


# --- chrF on Chinese characters ------------------------------------------------------------


def test_chrf_on_characters_matches_the_definition() -> None:
    """chrF (Popović 2015) as sacrebleu computes it: for each n-gram order where both sides
    have n-grams, precision and recall of character n-grams; both averaged over those
    orders; F-beta with beta 2.

    我爱你们 against 我爱你: order 1: 3 of 4 hypothesis unigrams match, all 3 reference
    ones are found (P 3/4, R 1); order 2: P 2/3, R 1; order 3: P 1/2, R 1; order 4: the
    reference has none. Mean P = (3/4 + 2/3 + 1/2) / 3 = 23/36, mean R = 1, and
    F2 = 5PR / (4P + R) = (115/36) / (128/36) = 115/128."""
    expected = 100 * 115 / 128
    assert chinese_quality(["我爱你们"], ["我爱你"]).chrf == pytest.approx(expected)
    # spaces are not characters of Chinese: spacing either side changes nothing
    assert chinese_quality(["我 爱 你 们"], ["我爱 你"]).chrf == pytest.approx(expected)


def test_chrf_on_characters_symmetric_case_and_extremes() -> None:
    """我爱你 against 我爱他: orders 1-3 have P = R = 2/3, 1/2, 0, so F = mean = 7/18."""
    assert chinese_quality(["我爱你"], ["我爱他"]).chrf == pytest.approx(100 * 7 / 18)
    assert chinese_quality(["会议室换了吗？"], ["会议室换了吗？"]).chrf == pytest.approx(100)
    assert chinese_quality(["谢谢"], ["再见"]).chrf == 0.0
    with pytest.raises(ValueError, match="2 hypotheses for 1"):
        chinese_quality(["a", "b"], ["c"])


def test_bleu_uses_chinese_characters_as_tokens() -> None:
    """With the zh tokenizer each character is a token: 我爱你。 against 我爱他。 matches
    3 of 4 unigrams and 1 of 3 bigrams. The default 13a tokenizer would see one word each
    (no match at all)."""
    from sacrebleu.metrics.bleu import BLEU

    score = BLEU(tokenize="zh").corpus_score(["我爱你。"], [["我爱他。"]])
    assert score.precisions[:2] == pytest.approx([75.0, 100 / 3])
    assert BLEU().corpus_score(["我爱你。"], [["我爱他。"]]).precisions[0] == 0.0
    assert chinese_quality(["我爱你。"], ["我爱他。"]).bleu == pytest.approx(score.score)
    assert chinese_quality(["我爱你。"], ["我爱他。"]).bleu > 0.0
