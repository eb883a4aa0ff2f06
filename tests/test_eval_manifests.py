"""Benchmark manifests: the shared format loads, and every bad input names its file:line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from hudtranslate.errors import DataError
from hudtranslate.eval.manifests import load_talks, load_texts, load_utterances


def write_wav(path: Path, seconds: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, np.zeros(int(seconds * 16_000), np.float32), 16_000)


def segment(start_s: float, end_s: float, **extra: Any) -> dict[str, Any]:
    return {"start_s": start_s, "end_s": end_s, "zh": "我们走吧。", "en_refs": ["Let's go."],
            **extra}


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    lines = [row if isinstance(row, str) else json.dumps(row, ensure_ascii=False) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write_wav(tmp_path / "audio" / "talks" / "a.wav", 5.0)
    return tmp_path / "audio"


def talk(*segments: dict[str, Any], wav: str = "talks/a.wav") -> dict[str, Any]:
    return {"id": "a", "wav": wav, "segments": list(segments)}


def test_a_valid_talk_loads_with_paths_relative_to_the_manifest(
    folder: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    manifest = write_jsonl(folder / "talks.jsonl", [
        talk(segment(0.5, 2.0), segment(2.0, 4.0, en_refs=["Go.", "Let us go."])), "",
        {"wav": "talks/a.wav", "segments": [segment(0.0, 5.0)]},
    ])
    monkeypatch.chdir(tmp_path)
    talks = load_talks(manifest)
    assert [t.id for t in talks] == ["a", "talks-3"]
    assert talks[0].wav == folder / "talks" / "a.wav"
    assert talks[0].duration_s == pytest.approx(5.0)
    assert talks[0].segments[1].en_refs == ("Go.", "Let us go.")
    assert talks[1].where == f"{manifest}:3"
    assert len(load_talks(manifest, limit=1)) == 1


@pytest.mark.parametrize("wav", ["talks/a.wav ", "talks\\a.wav", " talks\\a.wav"])
def test_a_wav_path_with_stray_spaces_or_windows_separators_is_found(folder: Path,
                                                                       wav: str) -> None:
    assert load_talks(write_jsonl(folder / "talks.jsonl", [talk(segment(0.5, 2.0),
                                                                wav=wav)]))[0].wav.is_file()


def test_a_manifest_saved_with_a_bom_loads(folder: Path) -> None:
    manifest = folder / "talks.jsonl"
    manifest.write_text(json.dumps(talk(segment(0.5, 2.0)), ensure_ascii=False) + "\n",
                        encoding="utf-8-sig")  # as Notepad saves UTF-8
    assert [t.id for t in load_talks(manifest)] == ["a"]


def test_audio_libsndfile_cannot_size_is_measured_by_decoding_it(folder: Path) -> None:
    """An M4A voice memo (read by FFmpeg) and a WAV whose recorder died before writing
    its header's sizes (still 0) are what ``hudtranslate file`` reads: the bench too."""
    av = pytest.importorskip("av")
    with av.open(str(folder / "memo.m4a"), "w") as container:
        stream = container.add_stream("aac", rate=16_000, layout="mono")
        tone = np.sin(np.arange(32_000, dtype=np.float32) * 0.1)[None, :] * 0.3
        frame = av.AudioFrame.from_ndarray(tone.astype(np.float32), format="fltp",
                                           layout="mono")
        frame.sample_rate = 16_000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    unclosed = folder / "unclosed.wav"
    soundfile.write(unclosed, np.full(24_000, 0.1, np.float32), 16_000, subtype="PCM_16")
    data = bytearray(unclosed.read_bytes())
    data[4:8] = data[40:44] = bytes(4)  # RIFF and data sizes as first written: 0
    unclosed.write_bytes(bytes(data))
    manifest = write_jsonl(folder / "utterances.jsonl", [
        {"id": "memo", "wav": "memo.m4a", "zh": "我们走吧。", "en_refs": ["Let's go."]},
        {"id": "unclosed", "wav": "unclosed.wav", "zh": "我们走吧。", "en_refs": ["Let's go."]},
    ])
    memo, wav = load_utterances(manifest)
    assert memo.duration_s == pytest.approx(2.0, abs=0.15)  # AAC adds its priming samples
    assert wav.duration_s == pytest.approx(1.5, abs=0.01)


def test_the_shared_dev_data_loads(shared_data: Path) -> None:
    talks = load_talks(shared_data / "audio" / "talks.jsonl")
    assert len(talks) == 3 and all(len(t.segments) >= 15 for t in talks)
    assert len(load_utterances(shared_data / "audio" / "utterances.jsonl")) == 60
    texts = load_texts(shared_data / "text" / "tatoeba_dev.jsonl")
    assert len(texts) == 400 and any(len(t.en_refs) > 1 for t in texts)


def test_the_real_speech_set_loads_with_its_extra_fields(shared_data: Path) -> None:
    real = shared_data / "real" / "real.jsonl"
    if not real.exists():
        pytest.skip(f"{real} not found")
    items = load_utterances(real)
    assert len(items) >= 19 and items[0].id == "real-001" and items[0].wav.is_file()
    assert all(item.zh and item.en_refs and item.duration_s > 3 for item in items)


@pytest.mark.parametrize(("row", "message"), [
    (talk(segment(2.0, 1.5)), r":1: segment 1: end_s 1.5 is not after start_s 2.0"),
    (talk(segment(1.0, 1.0)), r":1: segment 1: end_s 1.0 is not after"),
    (talk(segment(4.0, 5.5)), r":1: segment 1: end_s 5.5 is beyond the end of the audio"),
    (talk(segment(0.5, 2.0), segment(1.9, 3.0)), r":1: segment 2: overlaps segment 1"),
    (talk(segment(-0.1, 1.0)), r"start_s -0.1 is negative"),
    (talk(segment(0.0, "2")), r"segment 1: end_s must be a number"),
    (talk(segment(0.0, 1.0, en_refs=[])), r":1: segment 1: missing references"),
    (talk({"start_s": 0.0, "end_s": 1.0, "zh": "好"}), r":1: segment 1: missing references"),
    (talk(segment(0.0, 1.0, en_refs=["ok", ""])), r"every reference .* non-empty string"),
    (talk(segment(0.0, 1.0, zh="")), r"missing or empty 'zh'"),
    (talk(segment(0.0, 1.0, zh="。……")), r"segment 1: 'zh' '。……' has nothing but punctuation"),
    (talk(), r":1: missing references: 'segments'"),
    (talk(segment(0.0, 1.0), wav="talks/missing.wav"), r":1: audio not found: .*missing\.wav"),
    (talk(segment(0.0, 1.0), wav="talks"), r":1: '.*talks' is a folder: 'wav' names one audio"),
    ({"segments": [segment(0.0, 1.0)]}, r":1: missing 'wav'"),
    ("[1, 2]", r":1: expected a JSON object"),
    ('{"wav": ', r":1: not valid JSON"),
    ("[" * 5000, r":1: not valid JSON \(nested too deeply\)"),  # had been a RecursionError
])
def test_bad_talks_name_the_file_and_line(folder: Path, row: Any, message: str) -> None:
    manifest = write_jsonl(folder / "talks.jsonl", [row])
    with pytest.raises(DataError, match=message) as info:
        load_talks(manifest)
    assert str(info.value).startswith(str(manifest))


def test_the_line_number_counts_blank_lines(folder: Path) -> None:
    manifest = write_jsonl(folder / "talks.jsonl",
                           [talk(segment(0.0, 1.0)), "", talk(segment(1.0, 0.5))])
    with pytest.raises(DataError, match=r"talks\.jsonl:3: segment 1"):
        load_talks(manifest)


def test_unreadable_manifests(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nothere\.jsonl: manifest not found"):
        load_talks(tmp_path / "nothere.jsonl")
    with pytest.raises(DataError, match=r"a folder, not a manifest \(name its \.jsonl file\)"):
        load_texts(tmp_path)
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(DataError, match=r"binary\.jsonl: cannot read manifest"):
        load_texts(binary)
    empty = write_jsonl(tmp_path / "empty.jsonl", [""])
    with pytest.raises(DataError, match=r"empty\.jsonl: the manifest holds no entries"):
        load_texts(empty)


def test_audio_that_is_not_audio(folder: Path) -> None:
    (folder / "fake.wav").write_text("not audio", encoding="utf-8")
    manifest = write_jsonl(folder / "utterances.jsonl", [
        {"id": "u", "wav": "fake.wav", "zh": "好", "en_refs": ["Good."]}])
    with pytest.raises(DataError, match=r"utterances\.jsonl:1: cannot read audio .*fake\.wav"):
        load_utterances(manifest)


def test_utterances_and_texts_need_chinese_and_references(folder: Path) -> None:
    write_wav(folder / "u.wav", 1.0)
    manifest = write_jsonl(folder / "utterances.jsonl", [
        {"id": "u1", "wav": "u.wav", "zh": "好", "en_refs": ["Good."]},
        {"id": "u2", "wav": "u.wav", "zh": "好"},
    ])
    with pytest.raises(DataError, match=r"utterances\.jsonl:2: missing references"):
        load_utterances(manifest)
    texts = write_jsonl(folder / "text.jsonl", [
        {"id": "t1", "zh": "好", "en_refs": ["Good.", "Fine."]}, {"id": "t2", "en_refs": ["x"]}])
    with pytest.raises(DataError, match=r"text\.jsonl:2: missing or empty 'zh'"):
        load_texts(texts)
    good = load_texts(write_jsonl(folder / "ok.jsonl", [{"zh": "好", "en_refs": ["Good.\n ok"]}]))
    assert good[0].en_refs == ("Good. ok",) and good[0].id == "ok-1"
