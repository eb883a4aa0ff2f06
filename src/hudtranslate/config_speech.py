"""Settings of speech recognition: how speech is found (``[vad]``) and recognised
(``[asr]``). Kept apart from ``config`` for size; ``config.Settings`` holds them and
``hudtranslate.config`` re-exports both classes and the constants below."""

from __future__ import annotations

from dataclasses import dataclass

from hudtranslate.errors import check_range

__all__ = ["DEFAULT_SAME_SOUND_MARGIN_NATS", "MAX_INITIAL_PROMPT_CHARS", "AsrOptions",
           "VadOptions"]

MAX_INITIAL_PROMPT_CHARS = 1000
"""``asr.initial_prompt`` longer than this is refused (Whisper keeps only its last 223
tokens: a few hundred characters)."""
DEFAULT_SAME_SOUND_MARGIN_NATS = 10.0
"""``asr.same_sound_margin``: at 10 nats every repair measured was right, at 8 6 of 15
were wrong (``asr/same_sound.py``; docs/benchmark.md, "Fourteenth session")."""


@dataclass(frozen=True)
class VadOptions:
    """Silero speech detection and how it turns frames into utterances.

    Speech without pauses is cut too: once an utterance has lasted ``long_utterance_s``, a
    short pause of ``short_pause_ms`` ends it (frames within ``short_pause_db`` of the
    noise floor while Silero's probability dips below ``short_pause_probability``, or
    below what it usually gives a speaker it is unsure of: the gap between two sentences
    of a fast speaker, 0: off), and at ``max_utterance_s`` it
    is cut at the quietest point of its last ``cut_search_s`` (at most half of it; never
    mid-word at a fixed length), the
    audio after the cut starting the next utterance. An utterance that began at such a cut,
    with no pause before it (a speaker talking on), is ended by a short pause from
    ``run_on_utterance_s`` instead (0: from ``long_utterance_s`` too): its first sentence
    no longer waits for the next one to end (nonstop speech: final p95 6.4 → 5.0 s,
    docs/benchmark.md, eighteenth session). ``long_utterance_silence_ms`` (0:
    off) is the older knob: the same, with Silero's own end of speech.
    ``max_input_gain_db``: quiet, far speech is raised by up to this much for Silero alone
    (``vad/gain.py``: it missed reverberant speech at −40 dBFS; 0: off).
    ``onset_lookback_s``: how far before Silero's confirmed start (and its pre-roll) the
    level may show where speech really began (``vad/state.py``, ``_onset``: far speech is
    heard up to a second late; 0: the pre-roll alone).
    ``unsure_speech_utterance_s``: for a speaker Silero is unsure of (far, reverberant:
    ``vad/state.py``, ``UNSURE_SPEAKER_PROBABILITY``) a short pause ends an utterance only
    from this length: Whisper base needs more of such speech at once (far copies of the
    real recordings: CER 47 → 41 %, docs/benchmark.md, twentieth session); 0: as for others.
    """

    threshold: float = 0.5
    min_silence_ms: int = 300
    min_speech_ms: int = 200
    speech_pad_ms: int = 300
    max_utterance_s: float = 8.0
    long_utterance_s: float = 3.0
    run_on_utterance_s: float = 2.0
    long_utterance_silence_ms: int = 0
    short_pause_ms: int = 64
    short_pause_db: float = 10.0
    short_pause_probability: float = 0.9
    cut_search_s: float = 3.0
    max_input_gain_db: float = 20.0
    onset_lookback_s: float = 1.0
    unsure_speech_utterance_s: float = 6.0

    def __post_init__(self) -> None:
        check_range("vad.threshold", self.threshold, 0.05, 0.95)
        check_range("vad.max_input_gain_db", self.max_input_gain_db, 0.0, 40.0)
        check_range("vad.min_silence_ms", self.min_silence_ms, 32, 5000)
        check_range("vad.min_speech_ms", self.min_speech_ms, 0, 5000)
        check_range("vad.speech_pad_ms", self.speech_pad_ms, 0, 1000)
        check_range("vad.max_utterance_s", self.max_utterance_s, 2.0, 30.0)
        check_range("vad.long_utterance_s", self.long_utterance_s, 0.5, 30.0)
        if self.run_on_utterance_s:
            check_range("vad.run_on_utterance_s", self.run_on_utterance_s, 0.5, 30.0)
        check_range("vad.long_utterance_silence_ms", self.long_utterance_silence_ms, 0, 5000)
        check_range("vad.short_pause_ms", self.short_pause_ms, 0, 5000)
        check_range("vad.short_pause_db", self.short_pause_db, 0.0, 60.0)
        check_range("vad.short_pause_probability", self.short_pause_probability, 0.05, 1.0)
        check_range("vad.cut_search_s", self.cut_search_s, 0.5, 10.0)
        check_range("vad.onset_lookback_s", self.onset_lookback_s, 0.0, 3.0)
        check_range("vad.unsure_speech_utterance_s", self.unsure_speech_utterance_s, 0.0, 30.0)


@dataclass(frozen=True)
class AsrOptions:
    """Whisper recognition: ``model`` is a catalogue name or a CTranslate2 directory.

    ``sentence_final_min_chars``: a sentence the recogniser has committed up to its final
    mark (。！？) with at least this many characters is final at once, while the speaker
    goes on (0: finals only when the VAD ends an utterance); ``clause_final_min_chars``:
    the same for a clause (，；：), 0: never. ``partial_interval_ms``: speech between two
    partial re-decodes of an open utterance (1500 rather than 1000: 0.76 → 0.69 CPU-s per
    audio second on the dev talks at the same StreamLAAL; docs/benchmark.md).
    ``initial_prompt``: text Whisper is shown as what was said before (openai-whisper's
    option of that name) when it decodes in the first language: names and terms it should
    prefer. Off by default: a style prompt such as "以下是普通话的句子。" made the real
    recordings' CER 1-2.4 points worse (docs/benchmark.md, "Thirteenth session").
    ``same_sound_margin``: nats a same-sound repair of the recognised Mandarin must add to
    its sentence's word log-probability (``asr/same_sound.py``); 0: no repairs.
    ``same_sound_heard_margin``: a final's same-sound repairs that add more than this many
    nats (but maybe not ``same_sound_margin``) are judged by Whisper hearing the
    utterance again (``same_sound.repair_by_ear``; one more encoder pass for a final with
    such a repair; shed with the beams under load); 0: off.
    ``left_context_below_logprob``: a final decode less sure than this (mean token
    log-probability) of an utterance cut in running speech is decoded again after the
    utterance before it, made to say that one's text first (``asr/recognizer.py``); 0: never.
    −0.05 is all but the surest (Whisper base's units of the real recordings: quartiles
    −0.39 / −0.30 / −0.22): the pieces ``vad.run_on_utterance_s`` cuts are short, and heard
    alone they lost words (docs/benchmark.md, eighteenth session; −0.6 before).
    ``max_chars_per_s``: the most a decode may hear per second of audio, in Chinese
    characters (an English letter counts a quarter, ``policy.spoken_length``): Whisper
    invents text past what was said.
    ``dereverberate_unsure``: a final of a speaker the VAD is unsure of (far, reverberant)
    is decoded again with late reverberation removed (WPE, ``asr/dereverb.py``) and the
    surer decode kept (one more decode per such final; shed with the beams under load).
    ``final_ahead_ms``: silence after which the open utterance's final decode is made,
    before the VAD ends the utterance (after ``vad.min_silence_ms``); it is given out if
    that pause ends it and dropped if the speaker goes on (``asr/final_ahead.py``; only
    for a session alone on a server that sheds nothing); a final a pause ended hears this
    much of it, then silence, decoded ahead or not; 0: the final decode waits for the end
    and hears the whole pause kept.
    """

    model: str = "whisper-base"
    language: str = "zh"
    beam_size: int = 1
    final_beam_size: int = 3
    partial_interval_ms: int = 1500
    padding_s: float = 3.0
    max_chars_per_s: float = 12.0
    sentence_final_min_chars: int = 4
    clause_final_min_chars: int = 8
    initial_prompt: str = ""
    same_sound_margin: float = DEFAULT_SAME_SOUND_MARGIN_NATS
    same_sound_heard_margin: float = 3.5
    left_context_below_logprob: float = -0.05
    dereverberate_unsure: bool = True
    final_ahead_ms: int = 100

    def __post_init__(self) -> None:
        check_range("asr.beam_size", self.beam_size, 1, 10)
        check_range("asr.final_ahead_ms", self.final_ahead_ms, 0, 5000)
        check_range("asr.left_context_below_logprob", self.left_context_below_logprob,
                    -10.0, 0.0)
        check_range("asr.same_sound_margin", self.same_sound_margin, 0.0, 100.0)
        check_range("asr.same_sound_heard_margin", self.same_sound_heard_margin, 0.0, 100.0)
        check_range("asr.initial_prompt (characters)", len(self.initial_prompt), 0,
                    MAX_INITIAL_PROMPT_CHARS)
        check_range("asr.sentence_final_min_chars", self.sentence_final_min_chars, 0, 100)
        check_range("asr.clause_final_min_chars", self.clause_final_min_chars, 0, 100)
        check_range("asr.final_beam_size", self.final_beam_size, 1, 10)
        check_range("asr.partial_interval_ms", self.partial_interval_ms, 100, 10_000)
        check_range("asr.padding_s", self.padding_s, 0.0, 30.0)
        check_range("asr.max_chars_per_s", self.max_chars_per_s, 1.0, 50.0)
