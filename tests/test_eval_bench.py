"""``hudtranslate bench`` plumbing with fakes: every system runs, the report is complete,
bad inputs fail before any model loads. Real models measure the product (docs/benchmark.md).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from hudtranslate.asr.whisper import Decoded
from hudtranslate.cli import main
from hudtranslate.config import Settings
from hudtranslate.eval import cli as bench_cli
from hudtranslate.eval import report, runner
from hudtranslate.eval.bench import BenchInputs, median_of_runs, run_benchmark
from hudtranslate.eval.cer import sentence_cer
from hudtranslate.eval.creep import LoopedStream, creep_summary, loop_talks
from hudtranslate.eval.manifests import Segment, load_talks, load_texts, load_utterances
from hudtranslate.eval.metrics import glossary_term_rate
from hudtranslate.events import AudioArray
from hudtranslate.pipeline import Engines
from hudtranslate.testing import (
    FakeBackend,
    FakeDecoder,
    FakeVad,
    fake_english,
    tone_and_silence,
)
from hudtranslate.translate.glossary import Glossary

pytestmark = pytest.mark.timeout(60)

SCRIPT = ["我们走吧。", "今天下雨了吗？"]


@dataclass
class RecordingDecoder:
    """A Whisper stand-in for the baseline: records how it was asked to decode."""

    calls: list[dict[str, Any]] = field(default_factory=list)

    def decode(self, audio: AudioArray, *, prefix: str = "", beam_size: int = 1,
               max_new_tokens: int = 64, padding_s: float = 3.0,
               task: str = "transcribe",
               temperature: float = 0.0, languages: Sequence[str] = (),
               prompt: str = "") -> Decoded:
        self.calls.append({"seconds": len(audio) / 16_000, "beam_size": beam_size, "task": task})
        # the talk's sentences in turn, in the fake translator's English (the references)
        text = fake_english(SCRIPT[(len(self.calls) - 1) % len(SCRIPT)])
        return Decoded(text=text, no_speech_prob=0.0, avg_logprob=-0.1)


def fake_engines(delay_s: float = 0.0,
                 offline_script: Sequence[str] | None = None) -> runner.BenchEngines:
    asr = FakeDecoder(SCRIPT, offline_script=offline_script)
    return runner.BenchEngines(
        pipeline=Engines(asr=asr, translator=FakeBackend(delay_s=delay_s),
                         vad_factory=FakeVad),
        baseline=RecordingDecoder(), vad_factory=FakeVad)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A 7.5 s talk of two tones (sentences), one utterance and a text file."""
    audio = tone_and_silence([(0.5, False), (2.0, True), (1.0, False), (3.0, True),
                              (1.0, False)])
    (tmp_path / "wav").mkdir()
    soundfile.write(tmp_path / "wav" / "talk.wav", audio, 16_000)
    # references in the fake translator's English, so the re-segmentation is exact
    talk = {"id": "t1", "wav": "wav/talk.wav", "segments": [
        {"start_s": 0.45, "end_s": 2.55, "zh": SCRIPT[0], "en_refs": [fake_english(SCRIPT[0])]},
        {"start_s": 3.45, "end_s": 6.55, "zh": SCRIPT[1],
         "en_refs": [fake_english(SCRIPT[1]), "Did it rain today?"]},
    ]}
    rows = {
        "talks.jsonl": [talk],
        "utterances.jsonl": [{"id": "u1", "wav": "wav/talk.wav", "zh": SCRIPT[0],
                              "en_refs": ["Let's go."]}],
        "text.jsonl": [{"id": "x1", "zh": SCRIPT[0], "en_refs": ["Let's go."]},
                       {"id": "x2", "zh": SCRIPT[1], "en_refs": ["Is it raining?"]}],
    }
    for name, items in rows.items():
        (tmp_path / name).write_text(
            "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in items), "utf-8")
    return tmp_path


def inputs(data: Path) -> BenchInputs:
    return BenchInputs(load_talks(data / "talks.jsonl"),
                       load_utterances(data / "utterances.jsonl"),
                       load_texts(data / "text.jsonl"))


TALK_KEYS = {"stream_laal_s", "stream_laal_ideal_s", "final_latency_p50_s",
             "final_latency_p95_s", "bleu", "chrf", "normalized_erasure", "cpu_s_per_audio_s",
             "peak_rss_mb"}


async def test_every_system_runs_and_reports_every_metric(data: Path) -> None:
    engines = fake_engines()
    results = await run_benchmark(inputs(data), runner.SYSTEMS, engines,
                                  Settings.load(env={}), realtime=False)
    assert list(results) == list(runner.SYSTEMS)
    for name in runner.AUDIO_SYSTEMS:
        row = results[name]
        assert set(row) >= TALK_KEYS, name
        assert row["final_latency_missed"] == 0 and row["sentences"] == 2
        assert row["final_latency_p50_s"] is not None and row["final_latency_p50_s"] > 0
        assert row["stream_laal_s"] is not None and row["normalized_erasure"] is not None
        assert {"bleu", "chrf", "cpu_s_per_audio_s"} <= set(row["utterances"])
        assert row["talks"][0]["english"]
    ceiling = results[runner.MT_ON_TEXT]
    assert "stream_laal_s" not in ceiling and ceiling["bleu"] is not None
    assert ceiling["text"]["sentences"] == 2 and "bleu" in ceiling["text"]
    assert [(item["id"], item["en"]) for item in ceiling["text"]["items"]] == [
        ("x1", fake_english(SCRIPT[0])), ("x2", fake_english(SCRIPT[1]))]  # to be read
    assert "text" not in results[runner.SIMULTANEOUS]
    # the fake translator names its source: the ceiling translated the reference Chinese
    assert ceiling["talks"][0]["english"].split() == [fake_english(z) for z in SCRIPT]
    baseline = engines.baseline
    assert isinstance(baseline, RecordingDecoder)
    assert baseline.calls and all(c["task"] == "translate" and c["beam_size"] == 5
                                  for c in baseline.calls)


ITEM_KEYS = {"id", "zh_ref", "zh", "zh_offline", "en", "en_refs", "cer", "cer_offline"}


async def test_recognition_is_scored_against_an_offline_decode(data: Path) -> None:
    # offline, the first sentence is heard as 我们走吗 (1 error in the talk's 10 characters)
    engines = fake_engines(offline_script=["我们走吗。", SCRIPT[1]])
    results = await run_benchmark(inputs(data), runner.SYSTEMS, engines,
                                  Settings.load(env={}), realtime=False)
    streamed = "".join(SCRIPT)
    for name in runner.ASR_SYSTEMS:
        row = results[name]
        assert row["cer"] == 0.0 and row["cer_offline"] == pytest.approx(0.1), name
        assert row["cer_streaming_cost"] == pytest.approx(-0.1)
        talk = row["talks"][0]
        assert talk["zh_ref"] == streamed and talk["zh"] == streamed
        assert talk["zh_offline"] == "我们走吗。今天下雨了吗？"
        assert talk["cer"] == 0.0 and talk["cer_offline"] == pytest.approx(0.1)
        # the utterance is the whole two-sentence recording: both sentences are heard
        utterances = row["utterances"]
        item = utterances["items"][0]
        assert set(item) == ITEM_KEYS
        assert item["zh"] == streamed and item["zh_ref"] == SCRIPT[0]
        assert item["en"] == " ".join(fake_english(z) for z in SCRIPT)
        assert item["en_refs"] == ["Let's go."]
        assert item["cer"] == pytest.approx(sentence_cer(SCRIPT[0], streamed))
        assert item["cer"] > 1.0  # six inserted characters for a reference of four
        assert utterances["cer"] == item["cer"]
        assert utterances["cer_offline"] == item["cer_offline"] == pytest.approx(
            sentence_cer(SCRIPT[0], item["zh_offline"]))
    baseline = results[runner.WHISPER_TRANSLATE]  # no Chinese, but its model's offline CER
    assert baseline["cer"] is None and baseline["cer_streaming_cost"] is None
    assert baseline["cer_offline"] == pytest.approx(0.1)
    assert baseline["talks"][0]["zh"] is None and baseline["talks"][0]["zh_offline"]
    assert baseline["utterances"]["items"][0]["zh"] is None
    ceiling = results[runner.MT_ON_TEXT]
    assert "cer" not in ceiling and "cer" not in ceiling["utterances"]
    item = ceiling["utterances"]["items"][0]
    assert set(item) == ITEM_KEYS and item["en"] == fake_english(SCRIPT[0])
    assert item["zh"] is None and item["zh_offline"] is None and item["cer"] is None
    # each clip decoded once (2 talk segments, 1 utterance) for all systems, beam 5
    asr = engines.pipeline.asr if engines.pipeline else None
    assert isinstance(asr, FakeDecoder)
    assert [beam for _, beam in asr.offline_calls] == [5, 5, 5]
    assert [round(seconds, 2) for seconds, _ in asr.offline_calls] == [2.1, 3.1, 7.5]


async def test_offline_decodes_get_the_same_text_repairs_as_the_stream(data: Path) -> None:
    """The pipeline repairs 天气与暴 → 天气预报 (same sound) in what it streams; the offline
    reference decode gets the same repair, so CER compares decoding alone."""
    engines = fake_engines(offline_script=["天气与暴。", SCRIPT[1]])
    results = await run_benchmark(inputs(data), ["hudtranslate"], engines,
                                  Settings.load(env={}), realtime=False)
    assert results["hudtranslate"]["talks"][0]["zh_offline"].startswith("天气预报。")
    results = await run_benchmark(
        inputs(data), ["hudtranslate"], engines,
        Settings.load(env={"HUDTRANSLATE_ASR_SAME_SOUND_MARGIN": "0"}), realtime=False)
    assert results["hudtranslate"]["talks"][0]["zh_offline"].startswith("天气与暴。")


async def test_offline_recognition_can_be_skipped(data: Path) -> None:
    engines = fake_engines()
    results = await run_benchmark(inputs(data), [runner.SIMULTANEOUS], engines,
                                  Settings.load(env={}), realtime=False, offline_asr=False)
    row = results[runner.SIMULTANEOUS]
    assert row["cer"] == 0.0 and row["cer_offline"] is None
    assert row["cer_streaming_cost"] is None and row["talks"][0]["zh_offline"] is None
    assert row["utterances"]["items"][0]["cer_offline"] is None
    asr = engines.pipeline.asr if engines.pipeline else None
    assert isinstance(asr, FakeDecoder) and not asr.offline_calls


async def test_talks_at_real_time_pace_count_computation(data: Path) -> None:
    talk = load_talks(data / "talks.jsonl")
    results = await run_benchmark(BenchInputs(talks=talk), [runner.SENTENCE],
                                  fake_engines(delay_s=0.4), Settings.load(env={}),
                                  realtime=True)
    row = results[runner.SENTENCE]
    # pause detection (~0.35 s) plus the translator's 0.4 s, after the segment's end
    assert row["final_latency_p50_s"] >= 0.4
    assert row["final_latency_p95_s"] < 3.0
    assert row["stream_laal_s"] > row["stream_laal_ideal_s"]
    assert row["normalized_erasure"] == 0.0


def test_cli_writes_json_and_markdown(data: Path, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    loaded: list[Sequence[str]] = []

    def load(settings: Settings, systems: Sequence[str]) -> runner.BenchEngines:
        loaded.append(systems)
        return fake_engines()

    monkeypatch.setattr(runner, "load_bench_engines", load)
    out = tmp_path / "out"
    code = main(["bench", "--talks", str(data / "talks.jsonl"), "--utterances",
                 str(data / "utterances.jsonl"), "--text", str(data / "text.jsonl"),
                 "--text-limit", "1", "--fast", "--systems",
                 "hudtranslate,mt-on-reference-text", "--out-dir", str(out)])
    assert code == 0
    assert loaded == [["hudtranslate", "mt-on-reference-text"]]
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert list(report["systems"]) == ["hudtranslate", "mt-on-reference-text"]
    assert report["systems"]["mt-on-reference-text"]["text"]["sentences"] == 1
    meta = report["metadata"]
    assert meta["machine"]["cpu_cores"] >= 1 and meta["talks_realtime"] is False
    assert meta["data"]["talks"]["sha256"] and meta["settings"]["translate"]["model"]
    assert set(report["targets"]) >= {"stream_laal_s", "final_latency_p95_s"}
    table = (out / "report.md").read_text(encoding="utf-8")
    assert "| hudtranslate |" in table and "StreamLAAL" in table
    assert "| hudtranslate |" in capsys.readouterr().out
    ours = report["systems"]["hudtranslate"]
    assert ours["cer"] == 0.0 and ours["cer_offline"] == 0.0
    assert ours["utterances"]["items"][0]["zh_offline"] and meta["offline_asr"] is True
    assert "| CER | CER offline |" in table and "utterances CER offline" in table


def test_cli_can_skip_the_offline_decodes(data: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "load_bench_engines", lambda settings, systems: fake_engines())
    out = tmp_path / "out"
    assert main(["bench", "--utterances", str(data / "utterances.jsonl"), "--systems",
                 "hudtranslate", "--no-offline-asr", "--out-dir", str(out)]) == 0
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    utterances = report["systems"]["hudtranslate"]["utterances"]
    assert utterances["cer"] is not None and utterances["cer_offline"] is None
    assert report["metadata"]["offline_asr"] is False


def test_cli_reports_bad_data_before_loading_models(
    data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(settings: Settings, systems: Sequence[str]) -> runner.BenchEngines:
        raise AssertionError("models must not load for bad data")

    monkeypatch.setattr(runner, "load_bench_engines", refuse)
    bad = data / "bad.jsonl"
    bad.write_text(json.dumps({"wav": "wav/talk.wav", "segments": [
        {"start_s": 1.0, "end_s": 9.0, "zh": "好", "en_refs": ["Good."]}]}) + "\n", "utf-8")
    assert main(["bench", "--talks", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "bad.jsonl:1" in err and "beyond the end of the audio" in err
    assert main(["bench"]) == 1
    assert "at least one input" in capsys.readouterr().err
    for flag, value in (("--direction", "en-zh"), ("--text-limit", "3")):
        assert main(["bench", "--utterances", str(data / "utterances.jsonl"), flag, value,
                     "--out-dir", str(data / "out")]) == 1
        assert f"{flag} applies to --text sentences" in capsys.readouterr().err


def test_cli_rejects_unknown_systems(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["bench", "--text", "x.jsonl", "--systems", "hudtranslate,google"])
    assert info.value.code == 2
    assert "unknown system(s) google" in capsys.readouterr().err


def test_cli_system_names_match_the_runner() -> None:
    assert bench_cli._SYSTEMS == runner.SYSTEMS


def test_git_commit_is_read_from_the_git_folder(tmp_path: Path) -> None:
    git = tmp_path / "repo" / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n", "utf-8")
    assert report.git_commit(tmp_path / "repo" / "src") is None  # no such ref yet
    (git / "packed-refs").write_text("# pack-refs\nabc123 refs/heads/main\n", "utf-8")
    assert report.git_commit(tmp_path / "repo" / "src") == "abc123"
    (git / "refs" / "heads" / "main").write_text("def456\n", "utf-8")
    assert report.git_commit(tmp_path / "repo") == "def456"
    (git / "HEAD").write_text("0123abcd\n", "utf-8")
    assert report.git_commit(tmp_path / "repo") == "0123abcd"


def test_git_commit_follows_a_worktree_to_its_branch(tmp_path: Path) -> None:
    """A worktree's ``.git`` is a file naming its folder; the branch lives in the common one."""
    common = tmp_path / "main" / ".git"
    own = common / "worktrees" / "wt"
    (common / "refs" / "heads").mkdir(parents=True)
    own.mkdir(parents=True)
    (own / "HEAD").write_text("ref: refs/heads/feature\n", "utf-8")
    (own / "commondir").write_text("../..\n", "utf-8")
    (common / "refs" / "heads" / "feature").write_text("fea123\n", "utf-8")
    (tmp_path / "wt").mkdir()
    (tmp_path / "wt" / ".git").write_text(f"gitdir: {own}\n", "utf-8")
    assert report.git_commit(tmp_path / "wt") == "fea123"


def test_targets_compare_with_sentence_mode_and_the_baseline() -> None:
    targets = report.targets_for({
        "hudtranslate": {"stream_laal_s": 1.5, "final_latency_p95_s": 2.5, "bleu": 30.0,
                         "normalized_erasure": 0.1},
        "hudtranslate-sentence": {"bleu": 31.5},
        "whisper-translate": {"bleu": 15.0},
    })
    assert targets["stream_laal_s"]["met"] is True
    assert targets["final_latency_p95_s"]["met"] is False
    assert targets["bleu_gap_to_sentence_mode"]["value"] == pytest.approx(1.5)
    assert targets["bleu_gap_to_sentence_mode"]["met"] is False
    assert targets["bleu_ratio_to_whisper_translate"]["met"] is True
    assert report.targets_for({})["stream_laal_s"]["met"] is None


@pytest.mark.parametrize(("missed", "met"), [(0, True), (1, True), (2, False), (20, False)])
def test_sentences_that_never_got_a_final_count_against_the_p95(missed: int,
                                                               met: bool) -> None:
    """A system that drops its hardest sentences must not score a better latency: one
    missed sentence in 20 is within the 95th percentile's 5 %, two are not."""
    ours = {"final_latency_p95_s": 1.0 if missed < 20 else None,
            "final_latency_missed": missed, "sentences": 20}
    assert report.targets_for({"hudtranslate": ours})["final_latency_p95_s"]["met"] is met


async def test_repeated_runs_report_medians_and_keep_each_run(data: Path) -> None:
    talk = load_talks(data / "talks.jsonl")
    results = await run_benchmark(BenchInputs(talks=talk), [runner.SENTENCE, runner.MT_ON_TEXT],
                                  fake_engines(), Settings.load(env={}), realtime=False,
                                  repeat=3)
    row = results[runner.SENTENCE]
    assert row["repeats"] == 3 and len(row["runs"]) == 3
    laal = sorted(run["stream_laal_s"] for run in row["runs"])
    assert row["stream_laal_s"] == pytest.approx(laal[1])
    assert "repeats" not in results[runner.MT_ON_TEXT]  # text is deterministic: run once


def test_median_of_runs_leaves_a_metric_unknown_when_a_run_lacks_it() -> None:
    merged = median_of_runs([{"bleu": 1.0, "p95": None, "talks": [1]},
                             {"bleu": 3.0, "p95": 2.0, "talks": [2]},
                             {"bleu": 2.0, "p95": 1.0, "talks": [3]}])
    assert merged["bleu"] == 2.0 and merged["talks"] == [3]
    assert median_of_runs([{"bleu": 1.0}]) == {"bleu": 1.0}


async def test_creep_loops_the_talks_and_compares_first_and_last_minute(data: Path) -> None:
    talk = load_talks(data / "talks.jsonl")
    results = await run_benchmark(BenchInputs(talks=talk), [runner.SIMULTANEOUS],
                                  fake_engines(), Settings.load(env={}), realtime=False,
                                  creep_minutes=2)
    creep = results[runner.SIMULTANEOUS]["creep"]
    assert creep["duration_s"] >= 120 and creep["loops"] >= 2
    assert creep["minute_sentences"] == 2 and creep["final_latency_missed"] == 0
    assert creep["first_minute_p50_s"] > 0 and creep["last_minute_p50_s"] > 0
    assert creep["last_to_first_ratio"] == pytest.approx(
        creep["last_minute_p50_s"] / creep["first_minute_p50_s"])
    assert len(creep["per_minute_p50_s"]) == 2
    assert creep["rss_mb_per_minute"] and creep["rss_mb_per_minute"][0] > 10
    assert creep["rss_growth_mb_after_warm_up"] is None  # a 2-minute stream has no minute 10


def test_looped_stream_ends_with_its_first_minute(data: Path) -> None:
    talk = load_talks(data / "talks.jsonl")[0]
    samples = soundfile.read(talk.wav, dtype="float32")[0]
    stream = loop_talks([talk], [samples], minutes=3)
    assert stream.duration_s >= 180
    count = stream.minute_sentences
    first, last = stream.segments[:count], stream.segments[-count:]
    offset = last[0].start_s - first[0].start_s
    assert [s.zh for s in last] == [s.zh for s in first]
    assert all(b.start_s - a.start_s == pytest.approx(offset)
               for a, b in zip(first, last, strict=True))
    start = round(last[0].start_s * 16_000)
    length = round(first[0].duration_s * 16_000)
    assert np.allclose(stream.samples[start : start + length],
                       samples[round(first[0].start_s * 16_000):][:length])
    assert last[-1].end_s <= stream.duration_s


def test_creep_summary_sees_latency_rise() -> None:
    segments = tuple(Segment(10.0 * i, 10.0 * i + 2, "好。", ("Good.",)) for i in range(13))
    stream = LoopedStream(np.zeros(16_000 * 130, dtype=np.float32), segments, loops=2,
                          minute_sentences=6)
    creep = creep_summary(stream, [1.0 + 0.1 * i for i in range(len(segments))])
    assert creep["first_minute_p50_s"] == pytest.approx(1.25)
    assert creep["last_minute_p50_s"] == pytest.approx(1.95)
    assert creep["last_to_first_ratio"] > 1.1


def test_creep_and_glossary_targets() -> None:
    targets = report.targets_for({"hudtranslate": {
        "creep": {"last_to_first_ratio": 1.05}, "glossary_term_rate": 1.0, "glossary_terms": 3,
        "utterances": {"glossary_term_rate": 0.0, "glossary_terms": 1}}})
    assert targets["latency_creep_ratio"]["met"] is True
    assert targets["glossary_term_rate"]["value"] == pytest.approx(0.75)
    assert targets["glossary_term_rate"]["met"] is False
    assert report.targets_for({})["glossary_term_rate"]["met"] is None
    text_only = report.targets_for({"mt-on-reference-text": {
        "text": {"glossary_term_rate": 1.0, "glossary_terms": 23}}})
    assert text_only["glossary_term_rate"]["met"] is True


def test_glossary_term_rate_counts_each_occurrence() -> None:
    glossary = Glossary(terms={"星海科技": "StarSea Tech", "算力": "compute"})
    rate = glossary_term_rate([("星海科技的算力", "StarSea Tech's compute"),
                               ("算力不够", "not enough computing power"),
                               ("你好", "hello")], glossary)
    assert rate == {"glossary_term_rate": pytest.approx(2 / 3), "glossary_terms": 3}
    assert glossary_term_rate([("你好", "hello")], glossary) == {}


def test_rss_summary_per_minute_and_growth_after_warm_up() -> None:
    from hudtranslate.eval.creep import current_rss_mb, rss_summary

    samples = [(minute * 60.0 + offset, 1000.0 + minute * 2 + offset / 100)
               for minute in range(15) for offset in (0.0, 30.0)]
    summary = rss_summary(samples)
    assert len(summary["rss_mb_per_minute"]) == 15
    assert summary["rss_mb_per_minute"][0] == 1000.3
    assert summary["rss_growth_mb_after_warm_up"] == pytest.approx(28.3 - 20.3)
    assert rss_summary(samples[:10])["rss_growth_mb_after_warm_up"] is None
    assert current_rss_mb() > 10


def test_a_rerun_keeps_the_earlier_report(tmp_path: Path) -> None:
    import argparse

    from hudtranslate.eval.cli import _publish

    args = argparse.Namespace(out_dir=tmp_path / "bench")
    for bleu in (20.0, 21.0):
        _publish(args, {"metadata": {"date": "2026-12-03", "machine": {"cpu_cores": 2},
                                     "git_commit": None},
                        "systems": {"hudtranslate": {"bleu": bleu}}, "targets": {}})
    reports = sorted((tmp_path / "bench").glob("report*.json"))
    assert len(reports) == 2 and len(list((tmp_path / "bench").glob("report*.md"))) == 2
    latest = json.loads((tmp_path / "bench" / "report.json").read_text("utf-8"))
    assert latest["systems"]["hudtranslate"]["bleu"] == 21.0
    kept = next(path for path in reports if path.name != "report.json")
    assert json.loads(kept.read_text("utf-8"))["systems"]["hudtranslate"]["bleu"] == 20.0
