"""The pure speech-state machine (table-driven) and the segmenter on a scripted VAD."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import numpy.typing as npt
import pytest

from hudtranslate.config import VadOptions
from hudtranslate.events import AudioChunk, SpeechChunk
from hudtranslate.vad import SpeechSegmenter, SpeechStateMachine, UtteranceEnd, UtteranceStart

# 100 ms frames keep the arithmetic readable: pad 1 frame, min speech 2 frames,
# min silence 3 frames, max utterance 20 frames.
OPTIONS = VadOptions(
    threshold=0.5, min_silence_ms=300, min_speech_ms=200, speech_pad_ms=100, max_utterance_s=2.0
)
# S: clear speech, m: between the end threshold (0.35) and the threshold, .: silence.
PROBABILITY = {"S": 0.9, "m": 0.4, ".": 0.05}


def run(pattern: str, options: VadOptions = OPTIONS, finish: bool = False) -> list[str]:
    """Feed one probability per character; describe events as 'push#:start@frame' etc."""
    machine = SpeechStateMachine(options, frame_ms=100)
    got: list[str] = []
    events: list[tuple[str, UtteranceStart | UtteranceEnd]] = []
    for index, symbol in enumerate(pattern):
        events += [(str(index), event) for event in machine.push(PROBABILITY[symbol])]
    if finish:
        events += [("fin", event) for event in machine.finish()]
    for when, event in events:
        if isinstance(event, UtteranceStart):
            got.append(f"{when}:start@{event.frame}")
        else:
            got.append(f"{when}:{'cut' if event.forced else 'end'}@{event.frame}")
    return got


CASES = [
    ("silence", ".........", [], OPTIONS),
    ("wavering below threshold never starts", "mmmmmmmm", [], OPTIONS),
    ("blip shorter than min speech is noise", ".S......", [], OPTIONS),
    (
        "speech starts padded, ends after min silence",
        "..SSSS....",
        ["3:start@1", "8:end@7"],
        OPTIONS,
    ),
    ("pad is clipped at the stream start", "SSS....", ["1:start@0", "5:end@4"], OPTIONS),
    ("short pause does not split", "..SS..SS.....", ["3:start@1", "10:end@9"], OPTIONS),
    ("two blips close together are speech", ".S.S.....", ["3:start@0", "6:end@5"], OPTIONS),
    ("between thresholds keeps speech going", "SSmmmmSS...", ["1:start@0", "10:end@9"], OPTIONS),
    ("between thresholds does not end a pause", "SS.mm...", ["1:start@0", "4:end@3"], OPTIONS),
    (
        "min speech 0 starts on the first frame",
        ".S....",
        ["1:start@0", "4:end@3"],
        VadOptions(0.5, 300, 0, 100, 2.0),
    ),
    (
        "long utterance is cut and continues at once",
        "S" * 25 + "...",
        ["1:start@0", "19:cut@16", "19:start@16", "27:end@26"],
        OPTIONS,
    ),
    ("cut during a pause does not restart", "S" * 18 + "....", ["1:start@0", "19:cut@19"], OPTIONS),
    (
        "without the long-utterance rule a short pause does not end it",
        "SSSSSS.SS....",
        ["1:start@0", "11:end@10"],
        OPTIONS,
    ),
    (
        "a long utterance ends on the shorter pause, a short one does not",
        "SSSSSS.SS....",
        ["1:start@0", "6:end@7", "8:start@7", "11:end@10"],
        VadOptions(0.5, 300, 200, 100, 2.0, long_utterance_s=0.5, long_utterance_silence_ms=100),
    ),
    (
        "start never overlaps the previous end",
        "SS...SS...",
        ["1:start@0", "4:end@5", "6:start@5", "9:end@10"],
        VadOptions(0.5, 300, 200, 300, 2.0),
    ),
]


# Short pauses and forced cuts need levels: q is quiet with Silero dipping below the
# threshold (but not to the end threshold), Q quiet while Silero still says speech.
LEVELED = VadOptions(threshold=0.5, min_silence_ms=300, min_speech_ms=200, speech_pad_ms=100,
                     max_utterance_s=2.0, long_utterance_s=1.0, short_pause_ms=200,
                     short_pause_db=10.0, cut_search_s=1.0)
LEVEL_FRAMES = {"S": (0.9, -20.0), ".": (0.05, -60.0), "q": (0.4, -60.0), "Q": (0.97, -60.0),
                # a speaker Silero is unsure of (far, reverberant): u speech at 0.7, w a
                # quiet frame at 0.8 (under 0.9, but no dip for this speaker)
                "u": (0.7, -20.0), "w": (0.8, -60.0)}


def run_leveled(pattern: str, options: VadOptions = LEVELED) -> list[str]:
    machine = SpeechStateMachine(options, frame_ms=100)
    got = []
    for index, symbol in enumerate(pattern):
        for event in machine.push(*LEVEL_FRAMES[symbol]):
            kind = "start" if isinstance(event, UtteranceStart) else (
                "cut" if event.forced else "end")
            got.append(f"{index}:{kind}@{event.frame}")
    return got


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("..." + "S" * 12 + "qq" + "S" * 5 + "....",
         ["4:start@2", "17:end@17", "19:start@17", "24:end@23"]),
        ("..." + "S" * 5 + "qq" + "S" * 5 + "....", ["4:start@2", "17:end@16"]),
        ("..." + "S" * 12 + "q" + "S" * 3 + "....", ["4:start@2", "21:end@20"]),
        ("..." + "S" * 10 + "QQ" + "S" * 10, ["4:start@2", "21:cut@14", "21:start@14"]),
    ],
    ids=["a short pause ends a long utterance", "not a short utterance",
         "not a pause shorter than short_pause_ms",
         "nonstop speech is cut at its quietest point, the next utterance starting there"],
)
def test_short_pauses_and_quietest_cut(pattern: str, expected: list[str]) -> None:
    assert run_leveled(pattern) == expected


@pytest.mark.parametrize(("pattern", "expected"), [
    ("." * 10 + "u" * 40 + "ww" + "u" * 5 + "....", ["11:start@9", "59:end@58"]),
    ("." * 10 + "u" * 40 + "qq" + "u" * 5 + "....", ["11:start@9", "52:end@52", "54:start@52",
                                                     "59:end@58"]),
    ("." * 10 + "S" * 40 + "ww" + "S" * 5 + "....", ["11:start@9", "52:end@52", "54:start@52",
                                                     "59:end@58"]),
], ids=["no pause where Silero is as unsure as on the speech", "a real dip still is one",
        "a speaker Silero is sure of: below 0.9 is a dip, as before"])
def test_a_short_pause_dips_below_how_sure_silero_is_of_the_speaker(
        pattern: str, expected: list[str]) -> None:
    options = dataclasses.replace(LEVELED, max_utterance_s=8.0, unsure_speech_utterance_s=0.0)
    assert run_leveled(pattern, options) == expected


@pytest.mark.parametrize(("pattern", "expected"), [
    ("." * 10 + "u" * 40 + "qq" + "u" * 30 + "qq" + "u" * 5 + "....",
     ["11:start@9", "84:end@84", "86:start@84", "91:end@90"]),
    ("." * 10 + "S" * 40 + "qq" + "S" * 30 + "qq" + "S" * 5 + "....",
     ["11:start@9", "52:end@52", "54:start@52", "84:end@84", "86:start@84", "91:end@90"]),
], ids=["a speaker Silero is unsure of: no short-pause cut before unsure_speech_utterance_s",
        "a speaker Silero is sure of: cut from long_utterance_s, as before"])
def test_speech_silero_is_unsure_of_is_cut_later(pattern: str, expected: list[str]) -> None:
    options = dataclasses.replace(LEVELED, max_utterance_s=10.0, run_on_utterance_s=0.5,
                                  unsure_speech_utterance_s=6.0)
    assert run_leveled(pattern, options) == expected


@pytest.mark.parametrize(("speech", "unsure"), [("u", True), ("S", False)])
def test_an_utterance_end_says_whether_silero_was_unsure_of_the_speaker(
        speech: str, unsure: bool) -> None:
    """The recogniser decodes such a speaker's finals again dereverberated."""
    machine = SpeechStateMachine(dataclasses.replace(LEVELED, max_utterance_s=8.0),
                                 frame_ms=100)
    ends = [event for symbol in "." * 10 + speech * 40 + "." * 6
            for event in machine.push(*LEVEL_FRAMES[symbol])
            if isinstance(event, UtteranceEnd)]
    assert [end.unsure_speaker for end in ends] == [unsure]


# Far speech: F heard (Silero sure), f missed (Silero near 0) at the same level; n noise.
FAR_FRAMES = {".": (0.05, -60.0), "F": (0.9, -38.0), "f": (0.05, -38.0), "n": (0.05, -45.0)}


def run_far(pattern: str, options: VadOptions = LEVELED) -> list[str]:
    machine = SpeechStateMachine(options, frame_ms=100)
    return [f"{index}:{'start' if isinstance(event, UtteranceStart) else 'end'}@{event.frame}"
            for index, symbol in enumerate(pattern)
            for event in machine.push(*FAR_FRAMES[symbol])]


@pytest.mark.parametrize(("pattern", "options", "expected"), [
    ("..fffFFFF....", LEVELED, ["6:start@2", "11:end@10"]),
    ("..ff.fFFFF....", LEVELED, ["7:start@2", "12:end@11"]),
    ("." + "f" * 15 + "FFFF....", LEVELED, ["17:start@5", "22:end@21"]),
    ("FFFFfffffFFFF....", LEVELED, ["1:start@0", "6:end@5", "10:start@5", "15:end@14"]),
    ("..fffFFFF....", dataclasses.replace(LEVELED, onset_lookback_s=0.0),
     ["6:start@4", "11:end@10"]),
    ("n" * 40 + "nnFFFF....", LEVELED, ["43:start@41", "48:end@47"]),
], ids=["speech Silero heard late starts where its level rose",
        "a gap shorter than ONSET_GAP_S between syllables is crossed",
        "at most onset_lookback_s before the pre-roll",
        "never into the utterance before",
        "onset_lookback_s 0: the pre-roll alone",
        "noise as loud as the start is not speech once the noise floor is known"])
def test_far_speech_heard_late_keeps_its_first_words(
        pattern: str, options: VadOptions, expected: list[str]) -> None:
    assert run_far(pattern, options) == expected


RUN_ON = dataclasses.replace(LEVELED, max_utterance_s=8.0, run_on_utterance_s=0.5)


@pytest.mark.parametrize(("pattern", "options", "expected"), [
    ("..." + "S" * 12 + "qq" + "S" * 7 + "qq" + "S" * 5 + "....", RUN_ON,
     ["4:start@2", "17:end@17", "19:start@17", "26:end@26", "28:start@26", "33:end@32"]),
    ("..." + "S" * 12 + "qq" + "S" * 7 + "qq" + "S" * 5 + "....", LEVELED,
     ["4:start@2", "17:end@17", "19:start@17", "33:end@32"]),
    ("..." + "S" * 12 + "qq" + "....." + "S" * 5 + "qq" + "S" * 5 + "....", RUN_ON,
     ["4:start@2", "19:end@18", "23:start@21", "36:end@35"]),
    ("..." + "S" * 6 + "...." + "S" * 5 + "qq" + "S" * 5 + "....", RUN_ON,
     ["4:start@2", "11:end@10", "14:start@12", "27:end@26"]),
], ids=["a piece cut in running speech ends at its first short pause after run_on_utterance_s",
        "without run_on_utterance_s it waits for long_utterance_s as the first piece did",
        "not after a real pause: the speaker paused, the first piece's rule holds",
        "not after an utterance that ended at a real pause"])
def test_speech_that_runs_on_is_cut_sooner(pattern: str, options: VadOptions,
                                          expected: list[str]) -> None:
    assert run_leveled(pattern, options) == expected


@pytest.mark.parametrize(
    ("pattern", "expected", "options"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_state_machine(pattern: str, expected: list[str], options: VadOptions) -> None:
    assert run(pattern, options) == expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("SSSS", ["1:start@0", "fin:end@4"]),
        ("SSSS..", ["1:start@0", "fin:end@5"]),
        ("..S", []),
        ("", []),
    ],
)
def test_finish(pattern: str, expected: list[str]) -> None:
    assert run(pattern, finish=True) == expected


def test_committed_frame_holds_back_a_pause_beyond_the_pad() -> None:
    machine = SpeechStateMachine(OPTIONS, frame_ms=100)
    committed = []
    for symbol in "..SSS..S":
        machine.push(PROBABILITY[symbol])
        committed.append(machine.committed_frame)
    assert committed == [None, None, None, 4, 5, 6, 6, 8]
    assert machine.in_utterance


def test_keep_from_covers_the_pre_roll() -> None:
    machine = SpeechStateMachine(OPTIONS, frame_ms=100)
    for symbol in ".....":
        machine.push(PROBABILITY[symbol])
    assert machine.keep_from == 4  # one pad frame before the next frame
    machine.push(PROBABILITY["S"])
    assert machine.keep_from == 4  # pending: its start may still need frame 4


def test_silero_frame_arithmetic() -> None:
    options = VadOptions(min_silence_ms=350, min_speech_ms=200, speech_pad_ms=100,
                         max_utterance_s=15.0)
    machine = SpeechStateMachine(options, frame_ms=32)
    assert machine.pad_frames == 3  # 100 ms
    assert machine.min_speech_frames == 7  # 200 ms, rounded up
    assert machine.min_silence_frames == 11  # 350 ms, rounded up
    assert machine.max_frames == 468  # 15 s
    assert machine.end_threshold == pytest.approx(0.35)


# --- the segmenter on a scripted VAD ---------------------------------------------------

FRAME = 512
SILERO_LIKE = VadOptions(min_silence_ms=350, min_speech_ms=200, speech_pad_ms=100,
                         max_utterance_s=15.0)
LOUD, QUIET = "S", "."


class LoudnessVad:
    """Calls a frame speech when it is loud: lets tests script speech with amplitudes."""

    def __init__(self) -> None:
        self.resets = 0

    def probability(self, frame: npt.NDArray[np.float32]) -> float:
        return 0.9 if float(np.mean(np.abs(frame))) > 0.2 else 0.0

    def reset(self) -> None:
        self.resets += 1


def script(pattern: str, seed: int = 0) -> npt.NDArray[np.float32]:
    """Audio with one 512-sample frame per character: loud noise for S, faint noise for '.'."""
    rng = np.random.default_rng(seed)
    frames = [rng.uniform(-1, 1, FRAME) * (0.9 if c == LOUD else 0.01) for c in pattern]
    return np.concatenate(frames).astype(np.float32) if frames else np.zeros(0, np.float32)


def segment(
    audio: npt.NDArray[np.float32],
    sizes: list[int] | None = None,
    options: VadOptions | None = None,
    start_s: float = 0.0,
) -> list[SpeechChunk]:
    segmenter = SpeechSegmenter(LoudnessVad(), options or SILERO_LIKE)
    out: list[SpeechChunk] = []
    begin, turn = 0, 0
    while begin < len(audio):
        size = sizes[turn % len(sizes)] if sizes else 1600
        out += segmenter.feed(AudioChunk(audio[begin : begin + size], start_s + begin / 16_000))
        begin, turn = begin + size, turn + 1
    return out + segmenter.finish()


def utterances(chunks: list[SpeechChunk], start_s: float = 0.0) -> dict[int, tuple[int, int]]:
    """Sample span per utterance, checking chunks are contiguous and end with one final."""
    spans: dict[int, tuple[int, int]] = {}
    finals: dict[int, int] = {}
    for chunk in chunks:
        begin = round((chunk.start_s - start_s) * 16_000)
        if chunk.cut_s is not None:  # the utterance ends before audio already sent
            cut = round((chunk.cut_s - start_s) * 16_000)
            assert chunk.final and cut <= begin + len(chunk.samples)
            spans[chunk.utterance_id] = (spans[chunk.utterance_id][0], cut)
            finals[chunk.utterance_id] += 1
            continue
        if chunk.utterance_id in spans:
            assert finals[chunk.utterance_id] == 0, "chunk after the final one"
            assert begin == spans[chunk.utterance_id][1], "utterance audio is not contiguous"
            spans[chunk.utterance_id] = (spans[chunk.utterance_id][0], begin + len(chunk.samples))
        else:
            spans[chunk.utterance_id] = (begin, begin + len(chunk.samples))
            finals[chunk.utterance_id] = 0
        finals[chunk.utterance_id] += chunk.final
    assert all(count == 1 for count in finals.values()), finals
    assert list(spans) == list(range(len(spans)))
    return spans


def test_segmenter_pads_both_ends_and_sends_exact_audio() -> None:
    pattern = "." * 20 + "S" * 30 + "." * 20 + "S" * 10 + "." * 20
    audio = script(pattern)
    chunks = segment(audio)
    spans = utterances(chunks)
    pad = 3 * FRAME  # 100 ms of 32 ms frames
    assert spans == {
        0: (20 * FRAME - pad, 50 * FRAME + pad),
        1: (70 * FRAME - pad, 80 * FRAME + pad),
    }
    for utterance, (begin, end) in spans.items():
        sent = np.concatenate([c.samples for c in chunks if c.utterance_id == utterance])
        np.testing.assert_array_equal(sent, audio[begin:end])


def test_segmenter_sends_the_start_silero_heard_late_and_counts_it_as_speech() -> None:
    rng = np.random.default_rng(0)
    amplitude = {".": 0.01, "f": 0.3, "S": 0.9}  # f: speech at a level Silero (here: the
    pattern = "." * 20 + "f" * 10 + "S" * 30 + "." * 20  # loudness VAD) does not call speech
    audio = np.concatenate([rng.uniform(-1, 1, FRAME) * amplitude[c] for c in pattern]
                           ).astype(np.float32)
    options = dataclasses.replace(SILERO_LIKE, max_input_gain_db=0.0)  # the VAD hears f alone
    chunks = segment(audio, options=options)
    assert utterances(chunks) == {0: (20 * FRAME, 63 * FRAME)}
    final = next(chunk for chunk in chunks if chunk.final)
    assert final.speech_share == pytest.approx(37 / 43)  # 7 onset frames + 30 heard
    without = segment(audio, options=dataclasses.replace(options, onset_lookback_s=0.0))
    assert utterances(without) == {0: (27 * FRAME, 63 * FRAME)}


def test_segmenter_streams_speech_before_the_pause() -> None:
    chunks = segment(script("." * 10 + "S" * 60 + "." * 20))
    assert len([c for c in chunks if c.utterance_id == 0 and not c.final]) > 10


@pytest.mark.parametrize("sizes", [[1600], [100, 2000, 7, 512], [FRAME], [50_000]])
def test_segmenter_does_not_depend_on_chunk_sizes(sizes: list[int]) -> None:
    audio = script("." * 15 + "S" * 40 + "." * 15 + "S" * 20 + "." * 5)
    assert utterances(segment(audio, sizes)) == utterances(segment(audio, [len(audio)]))


def test_segmenter_ignores_silence_and_blips() -> None:
    assert segment(script("." * 200)) == []
    assert segment(script("." * 50 + "SS" + "." * 50 + "S" + "." * 50)) == []


def test_segmenter_cuts_long_speech_and_continues() -> None:
    options = VadOptions(max_utterance_s=2.0)
    chunks = segment(script("." * 10 + "S" * 150 + "." * 20), options=options)
    spans = [span for _, span in sorted(utterances(chunks).items())]
    assert len(spans) >= 3
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))
    assert all(end - begin <= 2.0 * 16_000 for begin, end in spans)


def test_segmenter_cuts_nonstop_speech_at_a_quiet_frame_without_losing_audio() -> None:
    # one faint frame (a gap between words) inside 5 s of speech, far from the 2-s limit
    pattern = "." * 10 + "S" * 40 + "." + "S" * 110 + "." * 20
    audio = script(pattern)
    options = VadOptions(max_utterance_s=2.0, cut_search_s=1.0, short_pause_ms=0)
    chunks = segment(audio, options=options)
    spans = utterances(chunks)
    ordered = sorted(spans.values())
    assert all(a[1] == b[0] for a, b in itertools.pairwise(ordered))  # no gap/overlap
    assert 50 * FRAME in {end for _, end in ordered}  # cut at (just after) the faint frame
    assert all(end - begin <= 2.0 * 16_000 for begin, end in ordered)


def test_segmenter_finish_closes_speech_at_end_of_stream_with_its_tail() -> None:
    audio = np.concatenate([script("." * 10 + "S" * 20), script("S")[:300]])
    spans = utterances(segment(audio, [1000]))
    assert spans == {0: (7 * FRAME, len(audio))}


class UnsureVad(LoudnessVad):
    """A far speaker: loud frames are speech at 0.7."""

    def probability(self, frame: npt.NDArray[np.float32]) -> float:
        return 0.7 if super().probability(frame) else 0.0


@pytest.mark.parametrize(("vad", "unsure"), [(UnsureVad(), True), (LoudnessVad(), False)])
def test_a_final_chunk_says_whether_silero_was_unsure_of_the_speaker(
        vad: LoudnessVad, unsure: bool) -> None:
    """... and so does a chunk in the pause that ends it (a final may be decoded there);
    one in speech does not."""
    segmenter = SpeechSegmenter(vad, SILERO_LIKE)
    chunks = segmenter.feed(AudioChunk(script("." * 10 + "S" * 60 + "." * 30), 0.0))
    chunks += segmenter.finish()
    assert [(chunk.final, chunk.unsure_speaker) for chunk in chunks if chunk.final] == [
        (True, unsure)]
    assert not any(chunk.unsure_speaker for chunk in chunks if not chunk.final)
    segmenter = SpeechSegmenter(vad, SILERO_LIKE)
    audio = script("." * 10 + "S" * 60 + "." * 30)
    chunks = [chunk for begin in range(0, len(audio), FRAME)
              for chunk in segmenter.feed(AudioChunk(audio[begin:begin + FRAME], begin / 16_000))]
    in_pause = [chunk.unsure_speaker for chunk in chunks
                if not chunk.final and chunk.pause_start_s is not None]
    assert in_pause and set(in_pause) == {unsure}
    assert not any(chunk.unsure_speaker for chunk in chunks if chunk.pause_start_s is None)


def test_segmenter_times_follow_the_stream_clock() -> None:
    chunks = segment(script("." * 10 + "S" * 20 + "." * 20), start_s=42.0)
    assert chunks[0].start_s == pytest.approx(42.0 + 7 * FRAME / 16_000)
    assert utterances(chunks, start_s=42.0) == {0: (7 * FRAME, 33 * FRAME)}


def test_segmenter_reset_starts_a_new_stream_with_fresh_ids() -> None:
    vad = LoudnessVad()
    segmenter = SpeechSegmenter(vad, SILERO_LIKE)
    audio = script("." * 10 + "S" * 20 + "." * 20)
    first = segmenter.feed(AudioChunk(audio, 0.0)) + segmenter.finish()
    segmenter.reset()
    second = segmenter.feed(AudioChunk(audio, 0.0)) + segmenter.finish()
    assert {c.utterance_id for c in first} == {0} and {c.utterance_id for c in second} == {1}
    assert [c.start_s for c in first] == [c.start_s for c in second]
    assert vad.resets == 2


def test_frame_level_ignores_a_dc_offset() -> None:
    from hudtranslate.vad.segmenter import level_db

    faint = script(".")
    assert level_db(faint + np.float32(0.3)) == pytest.approx(level_db(faint), abs=0.01)
    assert level_db(np.zeros(FRAME, np.float32)) == pytest.approx(-120.0)


def test_chunks_say_how_much_of_their_utterance_the_vad_judged_speech() -> None:
    """30 speech frames padded by 3 frames of pre-roll and 3 of tail: 30 of 36."""
    chunks = segment(script("." * 20 + "S" * 30 + "." * 20))
    final = [chunk for chunk in chunks if chunk.final]
    assert len(final) == 1 and final[0].speech_share == pytest.approx(30 / 36)
    assert all(0.0 <= chunk.speech_share <= 1.0 for chunk in chunks)
