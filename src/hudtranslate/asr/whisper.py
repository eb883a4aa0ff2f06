"""faster-whisper/CTranslate2 backend with short-window decoding.

faster-whisper's ``transcribe`` always pads audio to a 30 s window. CTranslate2's Whisper
encoder accepts shorter inputs, so decoding the clip plus a few seconds of padding is ~4x
cheaper with the same accuracy: that is what lets recognition and translation share two
cores. The loaded model is shared; per-stream state lives in ``StreamingRecognizer``.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hudtranslate.errors import DependencyError, ModelError
from hudtranslate.events import SAMPLE_RATE_HZ, AudioArray

log = logging.getLogger(__name__)

MAX_FRAMES = 3000
"""Whisper's encoder takes at most 30 s (3000 mel frames)."""
MAX_PROMPT_TOKENS = 223
"""Whisper's decoder context is 448 tokens; openai-whisper and faster-whisper keep at most
half of it, less the ``<|startofprev|>`` token, for the previous text."""
_LEAST_PROBABILITY = 1e-12
"""A token probability CTranslate2 rounds to 0 counts as this (−27.6 nats), not −inf."""


@dataclass(frozen=True, slots=True)
class Decoded:
    """One decode: the text and Whisper's own estimate that the audio held no speech.

    ``language``: the language it was decoded in (ISO 639-1), and ``language_prob`` the
    probability Whisper's language detection gave it among the candidates (1.0 when the
    language was fixed).
    """

    text: str
    no_speech_prob: float
    avg_logprob: float
    language: str = "zh"
    language_prob: float = 1.0


def decoder_prompt(tokenizer: Any, prompt: str = "") -> list[int]:
    """The token ids the decoder starts from: ``<|startofprev|>`` and the last
    ``MAX_PROMPT_TOKENS`` of ``prompt`` (when given, encoded after a space as
    faster-whisper does), then the language/task tokens and ``<|notimestamps|>``."""
    start = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
    if not prompt.strip():
        return start
    previous = tokenizer.encode(" " + prompt.strip())[-MAX_PROMPT_TOKENS:]
    return [tokenizer.sot_prev, *previous, *start]


def most_likely_language(probabilities: Sequence[tuple[str, float]],
                         candidates: Sequence[str]) -> tuple[str, float]:
    """The most likely of ``candidates`` in Whisper's detection output (``("<|en|>", p)``
    pairs over all 99 languages), with its probability renormalised over the candidates:
    a wearer and a partner speak one of two known languages, so Cantonese-, Japanese- or
    Welsh-looking guesses on short or accented speech must not count."""
    by_code = {token.strip("<|>"): prob for token, prob in probabilities}
    scores = {code: by_code.get(code, 0.0) for code in candidates}
    best = max(candidates, key=lambda code: scores[code])
    total = sum(scores.values())
    return best, (scores[best] / total if total > 0 else 1.0 / len(candidates))


class WhisperEngine:
    """A loaded Whisper model (int8, CPU). Thread-safe: decodes are serialised."""

    def __init__(self, model_dir: Path, *, cpu_threads: int, language: str = "zh") -> None:
        # offline by design: nothing a model folder lacks is fetched from the model hub
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            import ctranslate2
            from faster_whisper import WhisperModel
            from faster_whisper.tokenizer import Tokenizer
        except ImportError as exc:  # pragma: no cover - dependency is declared
            raise DependencyError(f"faster-whisper is not installed: {exc}") from exc
        try:
            self._model = WhisperModel(
                str(model_dir), device="cpu", compute_type="int8", cpu_threads=cpu_threads
            )
        except (RuntimeError, OSError, ValueError) as exc:
            raise ModelError(
                f"cannot load Whisper model from {model_dir}: {exc}; "
                "run: hudtranslate models fetch whisper-base"
            ) from None
        self._storage_view = ctranslate2.StorageView
        self._make_tokenizer = functools.partial(
            Tokenizer, self._model.hf_tokenizer, self._model.model.is_multilingual)
        self.language = language
        self._tokenizers: dict[tuple[str, str], Any] = {}
        self._tokenizer = self._tokenizer_for("transcribe", language)
        self._lock = threading.Lock()

    def _tokenizer_for(self, task: str, language: str) -> Any:
        key = (task, language)
        if key not in self._tokenizers:
            self._tokenizers[key] = self._make_tokenizer(task=task, language=language)
        return self._tokenizers[key]

    def decode(
        self,
        audio: AudioArray,
        *,
        prefix: str = "",
        beam_size: int = 1,
        max_new_tokens: int = 64,
        padding_s: float = 3.0,
        task: str = "transcribe",
        temperature: float = 0.0,
        languages: Sequence[str] = (),
        prompt: str = "",
    ) -> Decoded:
        """Decode ``audio`` (≤ 30 s) greedily or with a beam, continuing after ``prefix``.

        ``temperature`` > 0 samples instead of searching (the fallback for a failed
        decode, as in openai-whisper's ``transcribe``).
        ``languages``: one code decodes in that language; several: Whisper's language
        detection picks among them on the same encoder pass (``most_likely_language``);
        none: the engine's language.
        ``prompt``: text shown to the decoder as what came before (Whisper's
        ``initial_prompt``, faster-whisper's ``hotwords``): its words and style are
        preferred; at most ``MAX_PROMPT_TOKENS`` of its last tokens are kept.
        """
        batch, _frames = self._mel(audio, padding_s)
        sampling = {"sampling_temperature": temperature, "sampling_topk": 0} if temperature else {}
        with self._lock:
            features_in = self._storage_view.from_array(batch)
            language, language_prob = (languages[0] if languages else self.language), 1.0
            if len(languages) > 1:
                features_in = self._model.model.encode(features_in)
                detected = self._model.model.detect_language(features_in)[0]
                language, language_prob = most_likely_language(detected, languages)
            tokenizer = self._tokenizer_for(task, language)
            prompt_ids = decoder_prompt(tokenizer, prompt)
            prefix_ids = tokenizer.encode(prefix) if prefix else []
            result = self._model.model.generate(
                features_in,
                [prompt_ids + prefix_ids],
                beam_size=1 if temperature else beam_size,
                max_length=len(prompt_ids) + len(prefix_ids) + max_new_tokens,
                suppress_blank=not prefix_ids,
                return_scores=True,
                return_no_speech_prob=True,
                repetition_penalty=1.1,
                no_repeat_ngram_size=0,
                **sampling,
            )[0]
        ids = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
        text = tokenizer.decode(ids)
        return Decoded(
            text=text.strip(),
            no_speech_prob=float(result.no_speech_prob),
            avg_logprob=float(result.scores[0]) if result.scores else 0.0,
            language=language,
            language_prob=language_prob,
        )

    def _mel(self, audio: AudioArray, padding_s: float) -> tuple[np.ndarray, int]:
        """Whisper's log-mel features of ``audio`` plus ``padding_s`` of silence, as a
        ``(1, mels, frames)`` float32 batch, and ``frames`` (even, at most ``MAX_FRAMES``)."""
        padded = np.concatenate([audio, np.zeros(int(padding_s * SAMPLE_RATE_HZ), np.float32)])
        features = self._model.feature_extractor(padded)
        frames = min(features.shape[-1] - features.shape[-1] % 2, MAX_FRAMES)
        return np.ascontiguousarray(features[None, :, :frames], dtype=np.float32), frames

    def text_log_probabilities(self, audio: AudioArray, texts: Sequence[str], *,
                               padding_s: float = 3.0, language: str = "") -> list[float]:
        """How likely Whisper finds each of ``texts`` as what ``audio`` (16 kHz mono
        float32, ≤ 30 s) says: the natural log-probability of its tokens, each given the
        ones before (forced decoding: CTranslate2's ``align``, whose ``text_token_probs``
        are the decoder's probabilities along the given text). The audio is encoded once
        for all texts. A text may be only the start of what is said. Texts in
        ``language`` (default: the engine's)."""
        if not texts:
            return []
        batch, frames = self._mel(audio, padding_s)
        tokenizer = self._tokenizer_for("transcribe", language or self.language)
        tokens = [tokenizer.encode(text) or [tokenizer.eot] for text in texts]
        results = []
        with self._lock:  # one text at a time: in one batch, 9 texts on 8 s of audio added
            # 164 MB to the process's peak (4: 27 MB, 1: none) for ~10 % less time
            encoded = self._model.model.encode(self._storage_view.from_array(batch))
            for text_tokens in tokens:
                results += self._model.model.align(encoded, tokenizer.sot_sequence,
                                                   [text_tokens], [frames])
        return [float(np.sum(np.log(np.maximum(result.text_token_probs, _LEAST_PROBABILITY))))
                for result in results]

    def transcribe_offline(self, audio: AudioArray, *, beam_size: int = 5) -> str:
        """Whole-recording transcription with faster-whisper's own ``transcribe``: 30 s
        windows, each conditioned on the previous one, its default temperature fallback,
        no VAD filter, the engine's language. ``audio`` is 16 kHz mono float32 of any
        length. Returns the raw text (segments joined, stripped, not normalised).

        The benchmark's reference for recognition (``cer_offline``): what the same model
        hears with the whole utterance and no latency budget. Slow (full 30 s windows).
        """
        with self._lock:
            segments, _info = self._model.transcribe(
                audio, language=self._tokenizer.language_code, task="transcribe",
                beam_size=beam_size, vad_filter=False,
            )
            text = "".join(segment.text for segment in segments)  # the lazy decode runs here
        return text.strip()
