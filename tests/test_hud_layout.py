"""The HUD layout engine: profiles, pixel wrapping, roll-up, pacing. Pure: no drawing."""

from __future__ import annotations

import dataclasses
import io
import itertools
import json

import pytest
from PIL import ImageFont
from tests.conftest import shared_data_dir

from hudtranslate.captions import (
    PROFILES,
    CaptionTrack,
    DisplayProfile,
    HudEngine,
    HudFrame,
    PacingOptions,
    RollUp,
    columns,
    display_width,
    get_profile,
    load_font,
    min_display_s,
    profile_from_options,
    rollup_lines,
)
from hudtranslate.captions.fonts import font_path, single_face
from hudtranslate.captions.pinyin import to_pinyin
from hudtranslate.config import DisplayOptions, Settings
from hudtranslate.errors import ConfigError
from hudtranslate.events import StreamEnd, Transcript, Translation
from hudtranslate.testing import scripted_captions

UNPACED = PacingOptions.unpaced()
SHARED_DATA = shared_data_dir()


def english(uid: int, committed: str, tentative: str = "", *, final: bool = False,
            source: str = "", t: float = 0.0) -> Translation:
    return Translation(uid, source or f"源{uid}", committed, tentative, t, t + 1, final, t)


def frame_of(profile: DisplayProfile, *events: Transcript | Translation,
             pacing: PacingOptions = UNPACED, show_source: bool = True) -> HudFrame:
    engine = HudEngine(profile, pacing, show_source=show_source)
    for event in events:
        engine.update(event, event.emitted_s)
    return engine.frame(max((e.emitted_s for e in events), default=0.0))


def english_runs(frame: HudFrame) -> list[tuple[str, int, int]]:
    return [(r.text, r.x_px, r.baseline_px) for r in frame.runs
            if r.style in ("committed", "tentative")]


def assert_lines_fit(frame: HudFrame) -> None:
    """Every English line fits the text area in real pixels and the column limit."""
    profile = frame.profile
    font = load_font(profile.font_size_px)
    for line in frame.english:
        assert font.measure(line) <= profile.text_width_px, line
        assert display_width(line) <= profile.max_chars_per_line, line


# --- profiles ----------------------------------------------------------------------------


def test_builtin_profiles_match_the_devices() -> None:
    rokid, g1, meta = (get_profile(n) for n in ("rokid", "even-g1", "meta-display"))
    assert (rokid.width_px, rokid.height_px, rokid.color) == (480, 640, "green")
    assert (g1.width_px, g1.height_px, g1.color) == (576, 136, "1bit")
    assert (meta.width_px, meta.height_px, meta.color) == (600, 600, "rgb")
    assert g1.lines + 1 == 5 and g1.max_chars_per_line == 40  # ~40 characters × 5 lines
    for profile in PROFILES.values():
        assert profile.fits(source=True, pinyin=False), profile.name
        assert profile.max_chars_per_line <= 42
    assert Settings().display.profile == "rokid"


def test_profile_from_config_overrides_fields_and_is_named_custom() -> None:
    assert profile_from_options(DisplayOptions()) is get_profile("rokid")
    custom = profile_from_options(DisplayOptions(profile="meta-display", width_px=640,
                                                 height_px=400, color="green",
                                                 font_size_px=24, margin_x_px=0, lines=2))
    assert custom.name == "custom"
    assert (custom.width_px, custom.height_px, custom.color) == (640, 400, "green")
    assert (custom.font_size_px, custom.line_height_px, custom.lines) == (24, 31, 2)
    assert custom.margin_x_px == 0 and custom.margin_y_px == get_profile("meta-display").margin_y_px
    toml = Settings.load(env={"HUDTRANSLATE_DISPLAY_PROFILE": "even-g1",
                              "HUDTRANSLATE_DISPLAY_LINES": "3"})
    assert profile_from_options(toml.display).lines == 3


def test_a_profile_without_room_for_text_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        profile_from_options(DisplayOptions(width_px=100, font_size_px=60))


def test_bad_display_options_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown display profile 'hololens'"):
        DisplayOptions(profile="hololens")
    with pytest.raises(ConfigError):
        DisplayOptions(color="cmyk")
    with pytest.raises(ConfigError):
        Settings.load(env={"HUDTRANSLATE_DISPLAY_SCROLL_MS": "-5"})


def test_bundled_fonts_cover_english_chinese_and_pinyin() -> None:
    hud, latin = load_font(24), load_font(24, "latin")
    for char in "AZaz09$%.,!?'\"()—…你好中国，。！？“”：；、":
        assert hud.face.getmask(char).getbbox() is not None, char
    for char in "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü":
        assert latin.face.getmask(char).getbbox() is not None, char
    assert hud.measure("中") == 24  # CJK is one em wide


# --- pixel layout ------------------------------------------------------------------------


@pytest.mark.parametrize("profile", list(PROFILES.values()), ids=list(PROFILES))
def test_long_sentence_wraps_into_the_text_area_without_splitting_words(
        profile: DisplayProfile) -> None:
    text = ("The delegation from Shanghai will arrive tomorrow morning and we need to "
            "prepare the conference room, the projector and enough coffee for everyone.")
    engine = HudEngine(profile, UNPACED)
    engine.update(english(1, text, final=True), 0.0)
    frame = engine.frame(0.0)
    assert len(frame.english) == profile.lines
    assert_lines_fit(frame)
    assert " ".join(frame.english) in text and text.endswith(frame.english[-1])
    all_lines = [k.line.text for k in rollup_lines(engine.track, profile.text_width_px,
                                                   engine.geometry.measure(engine.geometry.font))]
    assert " ".join(all_lines).split() == text.split()  # no word split or lost


def test_word_longer_than_a_line_is_the_only_thing_broken() -> None:
    profile = get_profile("even-g1")
    word = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 2
    frame = frame_of(profile, english(1, f"a {word} b", final=True))
    assert_lines_fit(frame)
    joined = "".join(frame.english).replace(" ", "")
    assert word[-10:] in joined and joined.endswith("b")


@pytest.mark.parametrize("token", ["10:30", "$3.50", "1,000,000", "3.14159", "U.S.", "e-mail"])
def test_numbers_and_punctuated_tokens_stay_whole(token: str) -> None:
    for width in (120, 200, 280, 333):
        profile = dataclasses.replace(get_profile("rokid"), width_px=width + 48, name="narrow")
        sentence = f"We meet at {token} in room 12, floor {token} — OK?"
        frame = frame_of(profile, english(1, sentence, final=True))
        lines = [k.line.text for k in rollup_lines(_track(sentence), width,
                                                   _measure(profile))]
        assert any(token in line for line in lines), (width, lines)
        assert_lines_fit(frame)


def test_mixed_chinese_and_english_source_line_fits_and_keeps_the_newest_text() -> None:
    profile = get_profile("rokid")
    source = "我用iPhone给John Smith打电话，他说会议在10:30开始，门票$3.50一张，共1,000张。"
    frame = frame_of(profile, english(1, "I called John Smith", source=source))
    font = load_font(profile.font_size_px)
    assert frame.source.startswith("…") and source.endswith(frame.source[1:])
    assert font.measure(frame.source) <= profile.text_width_px
    assert frame.source[1] not in "，。"  # closing punctuation never starts the tail


def test_closing_punctuation_never_starts_an_english_line() -> None:
    text = "Yes! No? Maybe... \"Quoted,\" (bracketed) and 100% sure; right: done."
    for width in range(150, 400, 17):
        lines = [k.line.text for k in rollup_lines(_track(text), width,
                                                   _measure(get_profile("rokid")))]
        assert all(line[0] not in ",.!?;:)%" for line in lines), (width, lines)


@pytest.mark.parametrize("committed", ["", "   ", "\n\t"])
def test_empty_input_draws_nothing(committed: str) -> None:
    for profile in PROFILES.values():
        frame = frame_of(profile, english(1, committed, source=" "))
        assert frame.runs == () and frame.english == () and frame.text == ""
    assert HudEngine(get_profile("rokid")).frame(0.0).runs == ()


def test_tentative_tail_is_its_own_dimmer_span_and_committed_runs_do_not_move() -> None:
    profile = get_profile("meta-display")
    first = frame_of(profile, english(1, "The meeting starts", "at ten"))
    second = frame_of(profile, english(1, "The meeting starts", "at half past ten today"))
    assert english_runs(first)[0] == english_runs(second)[0] == (
        "The meeting starts", profile.margin_x_px, english_runs(first)[0][2])
    styles = [(r.text, r.style) for r in second.runs if r.style != "source"]
    assert styles[0] == ("The meeting starts", "committed")
    assert all(style == "tentative" for _, style in styles[1:])
    assert profile.tentative_rgb < profile.committed_rgb


def test_rows_are_fixed_slots_above_the_chinese_line() -> None:
    profile = get_profile("rokid")
    frame = frame_of(profile, english(1, "One.", final=True), english(2, "Two.", final=True),
                     english(3, "Three.", final=True, source="三。"))
    baselines = [b for _, _, b in english_runs(frame)]
    assert frame.english == ("One.", "Two.", "Three.")
    assert [b2 - b1 for b1, b2 in itertools.pairwise(baselines)] == [
        profile.line_height_px] * 2
    source_run = next(r for r in frame.runs if r.style == "source")
    assert source_run.baseline_px == baselines[-1] + profile.line_height_px
    assert source_run.baseline_px < profile.height_px - profile.margin_y_px
    hidden = frame_of(profile, english(1, "One.", final=True), show_source=False)
    assert not any(r.style == "source" for r in hidden.runs)


def test_pinyin_line_is_optional_and_uses_tone_marks() -> None:
    assert to_pinyin("你好，女人。") == "nǐ hǎo, nǚ rén."
    engine = HudEngine(get_profile("rokid"), UNPACED, show_pinyin=True)
    engine.update(english(1, "Hello", source="你好，世界"), 0.0)
    frame = engine.frame(0.0)
    assert frame.pinyin == "nǐ hǎo, shì jiè"
    assert next(r for r in frame.runs if r.style == "pinyin").font == "latin"


# --- roll-up and pacing ------------------------------------------------------------------


def test_new_utterances_start_new_lines_and_roll_older_ones_off_the_top() -> None:
    profile = get_profile("rokid")
    events = [english(uid, f"Sentence {uid}.", final=True) for uid in range(1, 6)]
    frame = frame_of(profile, *events)
    assert frame.english == ("Sentence 3.", "Sentence 4.", "Sentence 5.")


def test_window_never_moves_back_when_the_tentative_tail_shrinks() -> None:
    profile = dataclasses.replace(get_profile("rokid"), lines=2)
    engine = HudEngine(profile, UNPACED)
    engine.update(english(1, "First sentence is committed.", final=True), 0.0)
    engine.update(english(2, "Second one", "grows and grows until it wraps onto a new row"),
                  0.1)
    scrolled = engine.frame(0.1).english
    assert scrolled[0].startswith("Second one")
    engine.update(english(2, "Second one", "shrinks"), 0.2)
    assert engine.frame(0.2).english == ("Second one shrinks",)  # bottom row left empty


def test_reading_speed_holds_a_line_until_it_was_readable() -> None:
    rollup = RollUp(rows=2, pacing=PacingOptions(reading_chars_per_s=17, min_line_s=0.8,
                                                 clear_after_s=0, scroll_s=0))
    track = CaptionTrack()
    line = "x" * 34  # 2 s of reading at 17 characters a second
    for uid, t in ((1, 0.0), (2, 0.1), (3, 0.2)):
        track.update(english(uid, f"{line}{uid}", final=True, t=t))
        rollup.update(rollup_lines(track, 40), t, settled=True)
    assert [p.key[0] for p in rollup.window(0.2)] == [1, 2]  # 3 waits below
    assert rollup.next_change_s(0.2) == pytest.approx(min_display_s(line + "1"))
    assert [p.key[0] for p in rollup.window(1.9)] == [1, 2]
    assert [p.key[0] for p in rollup.window(2.1)] == [2, 3]


def test_backlog_is_bounded_so_latency_cannot_creep() -> None:
    rollup = RollUp(rows=2, pacing=PacingOptions(clear_after_s=0, scroll_s=0))
    track = CaptionTrack()
    for uid in range(1, 9):  # a burst of eight lines at once
        track.update(english(uid, f"Line {uid}.", final=True))
        rollup.update(rollup_lines(track, 40), 0.0, settled=True)
    shown = [p.key[0] for p in rollup.window(0.0)]
    assert shown[-1] >= 8 - 2 * 2  # at most one window of rows waits below
    later = [p.key[0] for p in rollup.window(100.0)]
    assert later == [7, 8]


def test_scroll_moves_lines_up_smoothly_then_settles_on_whole_rows() -> None:
    pacing = PacingOptions(reading_chars_per_s=1000, min_line_s=0, clear_after_s=0,
                           scroll_s=0.3)
    profile = get_profile("rokid")
    engine = HudEngine(profile, pacing)
    for uid, t in ((1, 0.0), (2, 1.0), (3, 2.0), (4, 3.0)):
        engine.update(english(uid, f"Sentence {uid}.", final=True, t=t), t)
    positions = []
    for step in range(0, 8):
        frame = engine.frame(3.0 + step * 0.05)
        run = next(r for r in frame.runs if r.text == "Sentence 2.")
        positions.append(run.baseline_px)
        assert frame.scrolling == (step < 6)
        english_clips = {r.clip for r in frame.runs if r.style != "source"}
        if step:  # (at step 0 the rows are still whole: only the one below is clipped)
            assert english_clips == ({engine.geometry.english_box} if step < 6 else {None})
    assert positions == sorted(positions, reverse=True)  # always moving up, never back
    assert positions[0] - positions[-1] == profile.line_height_px
    assert engine.frame(3.4).english == ("Sentence 2.", "Sentence 3.", "Sentence 4.")


def test_display_clears_after_silence_once_everything_was_read() -> None:
    pacing = PacingOptions(clear_after_s=5.0, scroll_s=0)
    engine = HudEngine(get_profile("rokid"), pacing)
    engine.update(Transcript(1, "你好", "", 0, 1, True, 0.5), 0.5)
    engine.update(english(1, "Hello.", final=True, t=1.0), 1.0)
    assert engine.next_change_s(1.0) == pytest.approx(6.0)
    assert engine.frame(5.9).english == ("Hello.",)
    cleared = engine.frame(6.0)
    assert cleared.runs == () and cleared.source == ""
    engine.update(Transcript(2, "再见", "", 7, 8, False, 8.0), 8.0)
    assert engine.frame(8.0).source == "再见" and engine.frame(8.0).english == ()
    assert not engine.update(StreamEnd(9.0), 9.0)


def test_unfinished_captions_never_clear() -> None:
    engine = HudEngine(get_profile("rokid"), PacingOptions(clear_after_s=1.0))
    engine.update(english(1, "Still", "talking"), 0.0)
    assert engine.next_change_s(0.0) is None
    assert engine.frame(100.0).english == ("Still talking",)


def _track(text: str) -> CaptionTrack:
    track = CaptionTrack()
    track.update(english(1, text, final=True))
    return track


def _measure(profile: DisplayProfile):  # type: ignore[no-untyped-def]
    font = load_font(profile.font_size_px)
    per_column = profile.text_width_px / profile.max_chars_per_line
    return lambda text: max(font.measure(text), columns(text) * per_column)


def test_on_a_real_talk_no_line_vanishes_before_it_can_be_read() -> None:
    """Play a shared talk's captions (scripted at the talk's own timing) into each
    profile and watch every line: each that scrolls away was up for its reading time."""
    talks = SHARED_DATA / "audio" / "talks.jsonl"
    if not talks.exists():
        pytest.skip(f"shared talks not found at {talks}")
    talk = json.loads(talks.read_text(encoding="utf-8").splitlines()[1])
    segments = [(s["start_s"], s["end_s"], s["zh"], s["en_refs"][0]) for s in talk["segments"]]
    events = scripted_captions(segments)
    pacing = PacingOptions()
    for profile in PROFILES.values():
        engine = HudEngine(profile, pacing)
        seen: dict[tuple[int, int], list[float]] = {}  # key → [first, last, last change]
        texts: dict[tuple[int, int], str] = {}
        times = sorted({e.emitted_s for e in events}
                       | {round(t * 0.05, 2) for t in range(int(talk["duration_s"] / 0.05))})
        pending = iter(events)
        event = next(pending, None)
        for now in times:
            while event is not None and event.emitted_s <= now:
                engine.update(event, event.emitted_s)
                event = next(pending, None)
            for placed in engine.rollup.window(now):
                if not 0 <= placed.row <= profile.lines - 1:
                    continue
                span = seen.setdefault(placed.key, [now, now, now])
                if texts.get(placed.key) != placed.line.text:
                    texts[placed.key], span[2] = placed.line.text, now
                span[1] = now
        gone = [key for key, span in seen.items() if span[1] < times[-1] - 1]
        assert len(gone) > 10, profile.name
        for key in gone:
            first, last, changed = seen[key]
            up_s = last - first + 0.05
            assert up_s >= min_display_s(texts[key]) - 0.06, (profile.name, texts[key], up_s)
            assert last - changed + 0.05 >= pacing.min_line_s - 0.06, (profile.name, key)


def test_single_face_of_the_collection_draws_like_the_collection() -> None:
    collection = font_path("hud").read_bytes()
    face = single_face(collection, 0)
    assert collection[:4] == b"ttcf" and face[:4] == b"\x00\x01\x00\x00"
    text = "不好意思，我会晚到十分钟。 Sorry!"
    ours = ImageFont.truetype(io.BytesIO(face), 40, layout_engine=ImageFont.Layout.BASIC)
    assert ours.getbbox(text) == load_font(40).face.getbbox(text)
    assert ours.getlength(text) == load_font(40).measure(text)
    mono = ImageFont.truetype(io.BytesIO(single_face(collection, 1)), 40)
    assert mono.getname()[0] != ours.getname()[0]
    single = font_path("latin").read_bytes()
    assert single_face(single) == single
    with pytest.raises(ValueError, match="2 faces"):
        single_face(collection, 2)
    with pytest.raises(ValueError, match="not a TrueType"):
        single_face(b"GIF89a")
