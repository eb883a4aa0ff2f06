"""Is a Whisper decode usable? Pure checks on its text and scores: repetition loops,
unlikely text, silence, a decode that stopped early, and the end of a decode in context
mended from the decode alone. No model; ``StreamingRecognizer`` uses them.
"""

from __future__ import annotations

import zlib

from hudtranslate.asr.policy import PUNCTUATION, spoken_chars
from hudtranslate.asr.text import HANZI
from hudtranslate.asr.whisper import Decoded

_NO_SPEECH_PROB = 0.6
_LOW_LOGPROB = -1.0
FALLBACK_TEMPERATURES = (0.2, 0.4, 0.6)
"""A final decode that failed is retried sampling at these temperatures (openai-whisper's
``transcribe`` uses 0.2 steps up to 1.0; three tries bound the cost on two cores)."""
MAX_COMPRESSION_RATIO = 2.4
"""openai-whisper's threshold: text that gzip compresses this well is a repetition loop."""

MAX_HEALED_CHARS = 3
"""At most this many characters of the decode alone end a decode in context that stopped
early (``with_alone_tail``); more is not a stop but a different hearing."""

EARLY_STOP_SHARE = 0.8
"""A final holding less than this share of the words already agreed stopped early."""


def stopped_early(heard: str, other: str) -> bool:
    """Did the decode that gave ``heard`` stop early, holding under ``EARLY_STOP_SHARE``
    of the spoken characters of ``other`` (what agreed partials or another decode of
    the same audio heard)?"""
    return spoken_chars(heard) < EARLY_STOP_SHARE * spoken_chars(other)


def compression_ratio(text: str) -> float:
    """UTF-8 length ÷ zlib-compressed length, openai-whisper's repetition-loop measure."""
    raw = text.encode("utf-8")
    return len(raw) / len(zlib.compress(raw)) if raw else 0.0


def decode_failed(decoded: Decoded) -> bool:
    """A looping or very unlikely decode (openai-whisper's fallback rule)."""
    return (compression_ratio(decoded.text) > MAX_COMPRESSION_RATIO
            or decoded.avg_logprob < _LOW_LOGPROB)


UNSURE_SECOND_LANGUAGE_LOGPROB = -0.5
"""A decode that language detection put in the second language (the wearer's English in
``--mode converse``) but that is less sure than this (mean token log-probability) is
checked against a decode in the first: Mandarin said far from the glasses was detected as
English on 3 of 67 detecting decodes of the real recordings and 5 of 63 of their far
copies ("I'm fine, it's fine.", "Scott Herbert Sillings"; -1.07 to -3.70, every one a
failed decode by ``decode_failed``, and on 3 of 4 looked at the Mandarin decode was no
surer), while 99 English sentences spoken by the voice decoded at -0.65 or surer (median
-0.08; docs/benchmark.md, thirty-fifth session). The wearer speaks at the microphone:
unsure English is more likely a far Mandarin speaker."""


def wrote_no_chinese(language: str, text: str) -> bool:
    """Did a decode in ``language`` write a Mandarin ("zh") ``text`` with letters but no
    Chinese character? Whisper, told the speech is Mandarin, writes English it hears in
    Latin letters ("ok", "yes"): that decode heard English, not Mandarin."""
    return (language == "zh" and not HANZI.search(text)
            and any(char.isascii() and char.isalpha() for char in text))


def surer_of(first: Decoded, second: Decoded) -> Decoded:
    """The decode Whisper is surer of (higher mean token log-probability); ``first`` on a
    tie or when ``second`` failed (``decode_failed``: loops score well)."""
    if decode_failed(second) and not decode_failed(first):
        return first
    return second if second.avg_logprob > first.avg_logprob else first


CONFIDENT_SPEECH_SHARE = 0.8
"""An utterance whose frames the VAD judged speech at least this often is not dropped by
Whisper's no-speech test. Far, reverberant speech makes Whisper base unsure (no-speech
probability 0.65-0.81 with a mean log-probability under -1 on real recordings made far:
7 utterances of real speech dropped, each one Silero judged speech in 85-100 % of its
frames), while the blip the test exists for sits far lower (a 1-s tail of real-025,
21 %; real recordings' speech 84-100 %; docs/benchmark.md, fifteenth session)."""


def is_silence(decoded: Decoded, speech_share: float = 0.0) -> bool:
    """Whisper's own no-speech test: likely silence *and* an unlikely text, unless the VAD
    heard speech in at least ``CONFIDENT_SPEECH_SHARE`` of the utterance
    (``SpeechChunk.speech_share``)."""
    return (decoded.no_speech_prob > _NO_SPEECH_PROB and decoded.avg_logprob < _LOW_LOGPROB
            and speech_share < CONFIDENT_SPEECH_SHARE)


def with_alone_tail(in_context: str, alone: str) -> str:
    """``in_context``, with the words the decode alone heard after its last two characters
    (at most ``MAX_HEALED_CHARS``, and any mark): made to say a long prefix first, Whisper
    sometimes stops a syllable early ("…给约" for "…给约翰。"), and at the utterance's end
    the decode in context hears no more than the decode alone did."""
    said = in_context.rstrip(PUNCTUATION)
    if spoken_chars(said) < 2:
        return in_context
    at = alone.rfind(said[-2:])
    tail = alone[at + 2:] if at >= 0 else ""
    if not tail or spoken_chars(tail) > MAX_HEALED_CHARS:
        return in_context
    return said + tail
