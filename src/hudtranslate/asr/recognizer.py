"""Per-stream streaming recognition: buffer an utterance, re-decode, commit what agrees.

Sync core: ``insert`` speech, ``process`` when there is time, ``finish`` at the end of an
utterance. The ``WhisperEngine`` is shared between streams; this object is cheap.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from hudtranslate.asr.decode_checks import (
    FALLBACK_TEMPERATURES,
    UNSURE_SECOND_LANGUAGE_LOGPROB,
    decode_failed,
    is_silence,
    stopped_early,
    surer_of,
    with_alone_tail,
    wrote_no_chinese,
)
from hudtranslate.asr.decoding import DecodeCall, Decoder
from hudtranslate.asr.dereverb import dereverberate
from hudtranslate.asr.final_ahead import FinalAhead, PauseDecodes, silenced_after
from hudtranslate.asr.left_context import LeftContext
from hudtranslate.asr.levels import normalize_speech_level
from hudtranslate.asr.policy import (
    LATIN_CHARS_PER_CHINESE,
    LocalAgreement,
    sentence_cut,
    sentence_pieces,
    spoken_chars,
    spoken_length,
    within_spoken_length,
)
from hudtranslate.asr.text import (
    normalize_chinese,
    normalize_english,
)
from hudtranslate.asr.whisper import MAX_FRAMES, Decoded
from hudtranslate.config import AsrOptions
from hudtranslate.events import SAMPLE_RATE_HZ, AudioArray, SpeechChunk, Transcript

_MAX_UTTERANCE_SAMPLES = (MAX_FRAMES // 100 - 4) * SAMPLE_RATE_HZ
_TOKENS_PER_CHAR = 1.6


log = logging.getLogger(__name__)


@dataclass
class StreamingRecognizer:
    """Turns ``SpeechChunk``s into committed + tentative ``Transcript``s.

    A sentence the recogniser has committed up to its final mark (``sentence_cut``) is
    given out as a final at once, while the speaker goes on: speech without pauses then
    gets its English sentence by sentence instead of when the VAD cuts. The audio is not
    cut there (its time is only estimated); the sentences given out stay the decoder's
    forced prefix for the rest of the utterance, so no word is lost or said twice.
    Transcripts are numbered per sentence (``utterance_id`` counts finals given out).

    ``languages`` with more than one code (``--mode converse``: ("zh", "en")): every decode
    detects which of them is spoken on the same encoder pass, and the utterance is decoded
    and marked in it (``Transcript.language``); the final decode detects it again on the
    whole utterance. English is committed only at word ends and not cut into sentence
    finals (a wearer's answers are short; "Mr." and "5.30" are not sentence ends).
    """

    engine: Decoder
    options: AsrOptions
    languages: tuple[str, ...] = ()
    prompt: str = ""
    """Shown to Whisper as the text before each decode in the first language
    (``WhisperEngine.decode``'s ``prompt``): ``asr.initial_prompt``."""
    heard_repair: Callable[[AudioArray, str, int], str] | None = None
    """Repairs a Mandarin final's text from a position on, hearing the utterance's
    (levelled) audio (``pipeline.heard_repair``: same-sound errors judged by Whisper);
    None: not repaired here."""
    pause_kept_s: float = 0.0
    """How much of the pause that ends an utterance the VAD keeps as its end
    (``SpeechSegmenter.pause_kept_s``): the length of a final decoded in that pause
    (``decode_final_ahead``); 0: no final is decoded ahead, nor heard that way."""
    _language: str = ""
    """The language of the open utterance as last detected ("" before its first decode)."""
    _utterance_id: int = -1
    _chunks: list[AudioArray] = field(default_factory=list)
    _samples: int = 0
    _start_s: float = 0.0
    _decoded_samples: int = 0
    _speech_continues: bool = False
    _speech_share: float = 0.0
    _unsure_speaker: bool = False
    _policy: LocalAgreement = field(default_factory=LocalAgreement)
    _emitted: str = ""
    """Committed text of this utterance already given out as sentence finals."""
    _segment_id: int = -1
    _segment_start_s: float = 0.0
    _next_segment_id: int = 0
    _left: LeftContext | None = None
    pauses: PauseDecodes = field(init=False)
    """Final decodes made in pauses (``decode_final_ahead``): held, used, dropped."""

    def __post_init__(self) -> None:
        self.pauses = PauseDecodes(self.options.final_ahead_ms / 1000, self.pause_kept_s)

    def insert(self, chunk: SpeechChunk) -> None:
        """Add speech audio; a new utterance id starts a fresh buffer."""
        if chunk.utterance_id != self._utterance_id:
            self.reset()
            self._utterance_id = chunk.utterance_id
            self._start_s = self._segment_start_s = chunk.start_s
            self._new_segment()
        if len(chunk.samples):
            self._chunks.append(chunk.samples)
            self._samples += len(chunk.samples)
        self._speech_continues = chunk.speech_continues
        self._speech_share = chunk.speech_share
        self._unsure_speaker = chunk.unsure_speaker
        self.pauses.heard(chunk.pause_start_s)
        if chunk.final and chunk.pause_start_s is not None and self.pauses.on:
            # heard as a decode made in the pause hears it (``decode_final_ahead``)
            self._chunks = [self._heard_in_pause(self._samples)]
        if chunk.cut_s is not None:  # the utterance ends inside audio already received
            keep = max(0, round((chunk.cut_s - self._start_s) * SAMPLE_RATE_HZ))
            if keep < self._samples:
                self._chunks = [np.concatenate(self._chunks)[:keep]] if keep else []
                self._samples = keep

    @property
    def pending_s(self) -> float:
        """Seconds of audio received since the last decode."""
        return (self._samples - self._decoded_samples) / SAMPLE_RATE_HZ

    @property
    def partial_due(self) -> bool:
        """Would ``process`` decode now (an utterance is open and ``partial_interval_ms`` of
        new audio has arrived since the last decode)?"""
        return (self._utterance_id >= 0 and self.pauses.held is None
                and self.pending_s * 1000 >= self.options.partial_interval_ms)

    @property
    def final_ahead_due(self) -> bool:
        """Has the open utterance's speaker been silent for ``asr.final_ahead_ms``, with no
        decode made in this pause yet (``decode_final_ahead``)?"""
        return (self._utterance_id >= 0 and self._samples > 0
                and self.pauses.due(self._start_s + self._samples / SAMPLE_RATE_HZ))

    def decode_final_ahead(self, now_s: float) -> None:
        """Make the open utterance's final decode now, in a pause that may end it
        (``asr/final_ahead.py``), on a copy of this recogniser: ``finish`` gives its finals
        if that pause ends the utterance, and drops it if the speaker goes on."""
        pause_start_s = self.pauses.pause_start_s
        if pause_start_s is None or self._utterance_id < 0:
            return
        end = round((pause_start_s + self.pause_kept_s - self._start_s) * SAMPLE_RATE_HZ)
        twin = copy.copy(self)
        twin._policy = copy.deepcopy(self._policy)
        twin._chunks = [self._heard_in_pause(end)]
        twin._samples = end
        twin.pauses = PauseDecodes(0.0, 0.0)
        finals = twin.finish(now_s)
        self.pauses.held = FinalAhead(pause_start_s, self._samples, self._unsure_speaker,
                                      tuple(finals), twin)

    def _heard_in_pause(self, length: int) -> AudioArray:
        """The utterance's audio as its final decode hears it when a pause ends it
        (``final_ahead.silenced_after``), ``length`` samples long."""
        pause_start_s = self.pauses.pause_start_s
        assert pause_start_s is not None
        keep = round((pause_start_s + self.pauses.ahead_s - self._start_s) * SAMPLE_RATE_HZ)
        return silenced_after(np.concatenate(self._chunks), keep, length)

    def _finals_ahead(self, ahead: FinalAhead, now_s: float) -> list[Transcript]:
        """The finals of the decode made in the pause that ended the utterance, given out
        now; the recogniser takes on the state that decode's ``finish`` left (segment ids,
        the utterance heard before the next), with this utterance's whole audio and end."""
        after = ahead.after
        end_s = self._start_s + self._samples / SAMPLE_RATE_HZ
        finals = ahead.given_out(now_s, end_s)
        self._segment_id = after._segment_id
        self._segment_start_s = after._segment_start_s
        self._next_segment_id = after._next_segment_id
        self._left = (dataclasses.replace(after._left, audio=self._audio(), end_s=end_s)
                      if after._left is not None else None)
        self.reset()
        return finals

    def skip_partial(self) -> None:
        """Count the audio so far as decoded without decoding it (a partial decode shed
        under load): the next partial is due after another ``partial_interval_ms``."""
        self._decoded_samples = self._samples

    def process(self, now_s: float) -> Transcript | None:
        """Re-decode the utterance if enough new audio arrived; None when nothing to do."""
        if not self.partial_due:
            return None
        decoded = self._decode(self.options.beam_size)
        if decoded is None:
            return None
        committed, tentative = self._policy.update(decoded)
        if self._language == "en" and committed and tentative[:1] not in ("", " "):
            # Commit whole words only: the committed text is the next decode's forced
            # prefix, and half a word there makes Whisper finish it as some other word.
            word_end = max(0, committed.rstrip().rfind(" "))
            tentative = committed[word_end:] + tentative
            committed = self._policy.committed = committed[:word_end]
        emitted = len(self._emitted)
        cut = 0 if self._language == "en" else sentence_cut(
            committed, emitted, self.options.sentence_final_min_chars,
            self.options.clause_final_min_chars)
        if cut:
            committed = self._heard(committed, emitted, cut)
            sentence = self._transcript(committed[emitted:cut], "", final=True, now_s=now_s)
            end_s = self._start_s + self._samples / SAMPLE_RATE_HZ * cut / len(decoded)
            sentence = dataclasses.replace(sentence, end_s=max(sentence.start_s, end_s),
                                           speech_continues=True)
            self._emitted = committed[:cut]
            self._segment_start_s = sentence.end_s
            self._new_segment()
            return sentence
        return self._transcript(committed[emitted:], tentative, final=False, now_s=now_s)

    def finish(self, now_s: float, *, final_beam_size: int | None = None) -> list[Transcript]:
        """Final decode at the end of an utterance: its sentences not given out yet, each
        a final of its own (``sentence_pieces``; English and ``sentence_final_min_chars``
        0: one final); empty if it held no speech. A sentence followed by another gets
        ``speech_continues`` and an end time estimated from its share of the spoken
        characters, like the sentence finals of ``process``.

        ``final_beam_size`` overrides ``options.final_beam_size`` for this utterance (1:
        greedy, when the server sheds beams under load).
        """
        ahead = self.pauses.take(self._samples, final_beam_size, self._unsure_speaker)
        if ahead is not None:
            return self._finals_ahead(ahead, now_s)
        if self._utterance_id < 0 or self._samples == 0:
            self.reset()
            self._left = None
            return []
        beam_size = final_beam_size or self.options.final_beam_size
        decoded = self._decode(beam_size, final=True)
        agreed = self._policy.committed
        if decoded is not None and stopped_early(decoded, agreed):
            # The final beam stopped early: keep what two decodes agreed on and decode the
            # rest after it, rather than lose the words.
            forced = self._decode(beam_size)
            if forced is not None and spoken_chars(forced) >= spoken_chars(agreed):
                decoded = forced
        whole = self._policy.finish(decoded or "")
        emitted = self._emitted if len(whole) > len(self._emitted) else whole
        if beam_size == self.options.final_beam_size:  # not while beams are shed
            whole = self._heard(whole, len(emitted), len(whole))
        rest = whole[len(emitted):]  # sentences already given out are not new
        min_chars = 0 if self._language == "en" else self.options.sentence_final_min_chars
        pieces = [piece for piece in sentence_pieces(rest, min_chars) if piece]
        transcripts = []
        for number, piece in enumerate(pieces, start=1):
            transcript = self._transcript(piece, "", final=True, now_s=now_s)
            if number < len(pieces):
                said = spoken_chars(whole[:len(emitted) + len(piece)])
                end_s = self._start_s + self._samples / SAMPLE_RATE_HZ * said / max(
                    1, spoken_chars(whole))
                transcript = dataclasses.replace(transcript, end_s=max(transcript.start_s, end_s))
                emitted += piece
                self._segment_start_s = transcript.end_s
                self._new_segment()
            if number < len(pieces) or self._speech_continues:
                transcript = dataclasses.replace(transcript, speech_continues=True)
            transcripts.append(transcript)
        self._left = (LeftContext(self._audio(), whole,
                                  self._start_s + self._samples / SAMPLE_RATE_HZ)
                      if whole and self._language != "en" else None)
        self.reset()
        return transcripts

    def _heard(self, text: str, start: int, end: int) -> str:
        """``text`` with ``heard_repair`` applied to ``text[start:end]``, the Mandarin
        about to be given out as finals, hearing the utterance so far (more speech may
        follow ``end``: a text is scored as the start of what is said). A repair inside
        the committed text is made there too, so later decodes are forced to say it."""
        if self.heard_repair is None or self._language == "en" or end <= start:
            return text
        heard = self.heard_repair(normalize_speech_level(self._audio()), text[:end], start)
        if heard == text[:end]:
            return text
        if len(self._policy.committed) >= end:
            self._policy.amend(start, heard[start:])
        return heard + text[end:]

    def reset(self) -> None:
        self.pauses.drop()
        self.pauses.pause_start_s = None
        self._utterance_id = -1
        self._language = ""
        self._emitted = ""
        self._speech_continues = False
        self._speech_share = 0.0
        self._unsure_speaker = False
        self._chunks = []
        self._samples = 0
        self._decoded_samples = 0
        self._policy.reset()

    def _new_segment(self) -> None:
        self._segment_id = self._next_segment_id
        self._next_segment_id += 1

    def _audio(self) -> AudioArray:
        audio = np.concatenate(self._chunks) if len(self._chunks) > 1 else self._chunks[0]
        self._chunks = [audio]
        return audio[-_MAX_UTTERANCE_SAMPLES:]

    def _decode(self, beam_size: int, *, final: bool = False) -> str | None:
        """Decode the utterance so far; None when Whisper judges it silence.

        The audio is levelled first (``normalize_speech_level``). A partial continues the
        committed text (forced prefix); a final is decoded afresh after only the sentences
        already given out. A final that loops or is very unlikely is retried at
        ``FALLBACK_TEMPERATURES``, keeping the most likely try; silence is only judged on
        that best try, so a hard but real utterance is not dropped for one bad beam.
        An unsure final of an utterance cut in running speech is then heard in context
        (``_decode_after_left``). Always after the decode alone: decoded only in context
        (when the partials were unsure), Whisper stopped a syllable early at the unit's end
        with nothing to mend it from ("…给约" for "…给约翰", docs/benchmark.md, eighteenth
        session).
        """
        audio = normalize_speech_level(self._audio())
        self._decoded_samples = self._samples
        max_chars = int(self.options.max_chars_per_s * len(audio) / SAMPLE_RATE_HZ) + 4
        prefix = self._emitted if final else self._policy.committed
        budget = max(4, int((max_chars - spoken_length(prefix)) * _TOKENS_PER_CHAR))
        if self._language == "en" and prefix:  # English letters are not Chinese characters
            budget = max(4, int(max_chars * _TOKENS_PER_CHAR
                                - len(prefix) / LATIN_CHARS_PER_CHINESE))
        languages = self._candidate_languages(final)
        primary = not languages or (len(languages) == 1 and languages == self.languages[:1])
        call = DecodeCall(prefix, beam_size, budget, self.options.padding_s, languages,
                          self.prompt if primary else "")
        decoded = self.engine.decode(audio, **call.options())
        text = self._checked(decoded, audio, call, final=final)
        if text is None:
            return None
        return within_spoken_length(text, max_chars)

    def _checked(self, decoded: Decoded, audio: AudioArray, call: DecodeCall, *,
                 final: bool) -> str | None:
        """``_decode``'s steps after the decode alone: fallback, dereverberation, silence,
        then (maybe) the utterance heard in context. The normalised text, not cut to
        length."""
        if len(self.languages) > 1:
            if final:
                decoded = self._surer_language(decoded, audio, call)
            self._switch_language(decoded.language)
            call = dataclasses.replace(call, languages=(decoded.language,))
        if final:
            for temperature in FALLBACK_TEMPERATURES:
                if not decode_failed(decoded):
                    break
                retry = self.engine.decode(
                    audio, **dataclasses.replace(call, beam_size=1).options(),
                    temperature=temperature)
                if retry.avg_logprob > decoded.avg_logprob or not decode_failed(retry):
                    decoded = retry
        if (final and self._unsure_speaker and self.options.dereverberate_unsure
                and call.beam_size == self.options.final_beam_size):  # not while shedding
            decoded = self._surer_dereverberated(decoded, audio, call)
        if is_silence(decoded, self._speech_share):
            return None
        if final and self._left_context_due(decoded.avg_logprob, call.beam_size):
            heard = self._decode_in_context(call, alone=normalize_chinese(decoded.text))
            if heard is not None:
                return heard
        if self._language == "en":
            return normalize_english(decoded.text)
        return normalize_chinese(decoded.text)

    def _surer_language(self, decoded: Decoded, audio: AudioArray,
                        call: DecodeCall) -> Decoded:
        """A decode detected in a language other than the first (``languages[0]``) that
        Whisper is unsure of (``UNSURE_SECOND_LANGUAGE_LOGPROB``) decoded again in the
        first; the surer of the two is kept (``surer_of``), and the first whenever the
        other failed (``decode_failed``); a Mandarin decode that wrote no Chinese
        character (``wrote_no_chinese``) is kept as English, as it heard English (the
        wearer's short "OK." had gone to the HUD as the other person's "ok"). Far
        Mandarin heard as English had been translated into Chinese for the other person,
        and the wearer saw none of it: a worse loss than the wearer's own words shown as
        heard. Only for a final decode
        after a detection (``call.languages`` holds both): a partial decoded again
        switched the utterance's language back and forth, and its partial translations
        went the wrong way (the converse benchmark's English → Chinese chrF fell 33 → 29)."""
        first = self.languages[0]
        if (decoded.language == first or first not in call.languages
                or decoded.avg_logprob >= UNSURE_SECOND_LANGUAGE_LOGPROB):
            return decoded
        again = self.engine.decode(audio, **dataclasses.replace(
            call, languages=(first,), prompt=self.prompt).options())
        kept = again if decode_failed(decoded) else surer_of(decoded, again)
        if kept is again and wrote_no_chinese(first, again.text):
            # Mandarin written in Latin letters only ("ok", "yes"): English was said
            kept = dataclasses.replace(again, language=decoded.language)
        log.debug("unsure %s decode %r (%.2f) against %s %r (%.2f): kept %s",
                  decoded.language, decoded.text, decoded.avg_logprob, first, again.text,
                  again.avg_logprob, kept.language)
        return kept

    def _surer_dereverberated(self, decoded: Decoded, audio: AudioArray,
                              call: DecodeCall) -> Decoded:
        """The final of a speaker the VAD is unsure of (far, reverberant) decoded again
        with late reverberation removed (``dereverb.dereverberate``); the surer of the two
        decodes (mean token log-probability) is kept, unless it loops. Real recordings made
        far: CER 42.4 → 40.0 %, chrF 33.5 → 34.7, BLEU 8.8 → 8.4; the same second decode
        of the audio with faint noise added instead: 41.6 % (part of the gain is hearing
        it twice); dereverberated alone, without the choice: 43.0 %, some units looped
        (docs/benchmark.md, twenty-first session). A surer decode that stopped early
        (under ``EARLY_STOP_SHARE`` of the other's characters) is not kept: the mean
        favours a short confident start over the whole (real-022 made far lost half its
        first unit, 46 characters heard, 26 kept; twenty-fourth session)."""
        clearer = self.engine.decode(dereverberate(audio), **call.options())
        if (clearer.avg_logprob > decoded.avg_logprob and not decode_failed(clearer)
                and not stopped_early(clearer.text, decoded.text)):
            return clearer
        return decoded

    def _left_context_due(self, logprob: float, beam_size: int) -> bool:
        """Is a decode this sure (mean token log-probability) unsure enough to be heard
        in context? Never while beams are shed under load."""
        threshold = self.options.left_context_below_logprob
        return (threshold < 0 and logprob < threshold
                and beam_size == self.options.final_beam_size)

    def _decode_in_context(self, call: DecodeCall, alone: str) -> str | None:
        """``_decode_after_left``, mended at its end from ``alone`` (``with_alone_tail``),
        unless it holds fewer than ``EARLY_STOP_SHARE`` of the characters the decode alone
        heard: made to say a long prefix first, Whisper sometimes stops early (real-019
        made far lost its last clause)."""
        heard = self._decode_after_left(call)
        if heard is None or stopped_early(heard, alone):
            log.debug("decode in context dropped: %r, alone %r", heard, alone)
            return None
        return with_alone_tail(heard, alone)

    def _decode_after_left(self, call: DecodeCall) -> str | None:
        """The open utterance decoded after the one before it, Whisper made to say that
        one's text first (forced prefix), so the words around a cut in running speech are
        heard whole; None when there is no such utterance or the decode loops.

        Whisper base unsure of an utterance (far, reverberant, noisy speech) gains from
        hearing its start in context: on the real recordings made far, units cut in
        running speech decoded this way 54.4 → 50.3 % CER, while on the clean recordings
        the sure units lost as often as they gained (docs/benchmark.md, seventeenth
        session), hence only below ``asr.left_context_below_logprob``.
        """
        left = self._left
        if left is None or self._language == "en":
            return None
        audio = left.before(self._audio(), self._start_s, _MAX_UTTERANCE_SAMPLES)
        if audio is None:
            return None
        decoded = self.engine.decode(audio, **call.options(left.text + call.prefix))
        return left.words_after(decoded, call.prefix)

    def _candidate_languages(self, final: bool) -> tuple[str, ...]:
        """What a decode may be in: all ``languages`` (detect) unless the utterance already
        gave out sentence finals in one (they are the forced prefix), or a partial
        continues agreed text in its language."""
        if len(self.languages) < 2:
            return self.languages
        settled = self._emitted if final else self._policy.committed
        return (self._language,) if settled and self._language else self.languages

    def _switch_language(self, language: str) -> None:
        """A decode heard another language than the last: what was agreed in the old one
        is dropped (it is not a prefix of the new text)."""
        if self._language and language != self._language and not self._emitted:
            self._policy.reset()
        self._language = language

    def _transcript(self, committed: str, tentative: str, *, final: bool,
                    now_s: float) -> Transcript:
        language = self._language or (self.languages[0] if self.languages else "zh")
        if final and len(self.languages) > 1 and wrote_no_chinese(language, committed):
            # a sentence of English said after Mandarin without a pause (one utterance,
            # detected as Mandarin) is English: it goes the other way
            language = next((code for code in self.languages if code != language), language)
        return Transcript(
            utterance_id=self._segment_id,
            committed=committed,
            tentative=tentative,
            start_s=self._segment_start_s,
            end_s=self._start_s + self._samples / SAMPLE_RATE_HZ,
            final=final,
            emitted_s=now_s,
            language=language,
        )
