"""Benchmark metrics: quality (sacrebleu), flicker (normalized erasure) and latency.

The field's tools where they exist: BLEU and chrF from sacrebleu with every reference;
StreamLAAL as defined by simulstream 1.0.0 (``metrics/scorers/latency/stream_laal.py``):
the whole stream's output is re-segmented into the reference sentences with mweralign
(the mWER alignment simulstream itself uses, word level, untokenized), then LAAL is
computed per sentence from the time each output word was emitted, and averaged over
sentences. simulstream itself is not a dependency: it pulls torch and librosa for its
servers, while the metric is the 30 lines of arithmetic in ``sentence_laal`` below.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from hudtranslate.errors import DependencyError
from hudtranslate.events import Translation
from hudtranslate.translate.glossary import Glossary, term_present

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Quality:
    """Corpus BLEU and chrF (sacrebleu defaults: 13a tokenizer, chrF2)."""

    bleu: float
    chrf: float


def corpus_quality(hypotheses: Sequence[str], references: Sequence[Sequence[str]]) -> Quality:
    """BLEU and chrF of ``hypotheses`` against every reference of each sentence.

    Sentences may have different numbers of references: sacrebleu takes ``None`` for a
    missing one.
    """
    from sacrebleu.metrics.bleu import BLEU
    from sacrebleu.metrics.chrf import CHRF

    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references")
    depth = max((len(refs) for refs in references), default=0)
    streams = cast(Sequence[Sequence[str]],  # sacrebleu documents None; its hints omit it
                   [[refs[k] if k < len(refs) else None for refs in references]
                    for k in range(depth)])
    hyps = list(hypotheses)
    bleu = BLEU().corpus_score(hyps, streams).score
    chrf = CHRF().corpus_score(hyps, streams).score
    return Quality(bleu=float(bleu), chrf=float(chrf))


def chinese_quality(hypotheses: Sequence[str], references: Sequence[str]) -> Quality:
    """Corpus chrF and BLEU of Chinese ``hypotheses`` against one Chinese reference each.

    chrF on characters: every space is removed first (Chinese is written without them; a
    model that spaces its output must not gain or lose), then sacrebleu's ``CHRF`` with
    its defaults: character n-grams of order 1-6, no word n-grams (``word_order=0``:
    words would need a segmenter), beta 2, corpus statistics pooled over sentences. Order
    6 is the default WMT reports for Chinese targets, so the number reads like theirs.
    BLEU: sacrebleu's ``zh`` tokenizer (each Chinese character a token, Latin and digits
    kept as words), the one WMT uses for Chinese.
    """
    from sacrebleu.metrics.bleu import BLEU
    from sacrebleu.metrics.chrf import CHRF

    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references")
    hyps = ["".join(text.split()) for text in hypotheses]
    refs = [["".join(text.split()) for text in references]]
    chrf = CHRF(char_order=6, word_order=0, beta=2).corpus_score(hyps, refs).score
    bleu = BLEU(tokenize="zh").corpus_score(hyps, refs).score
    return Quality(bleu=float(bleu), chrf=float(chrf))


@dataclass
class WordTrack:
    """The words a system ended up showing, each with when it last (re)appeared.

    ``audio_s``: the audio the text was made from (end of its transcript), the
    computation-unaware emission time; ``emitted_s``: when it was shown, on the stream
    clock (wall time in real-time runs), the computation-aware one. ``erased`` counts
    words removed from the display over the whole stream.
    """

    words: list[str] = field(default_factory=list)
    audio_s: list[float] = field(default_factory=list)
    emitted_s: list[float] = field(default_factory=list)
    erased: int = 0

    @property
    def text(self) -> str:
        return " ".join(self.words)


def displayed_track(translations: Sequence[Translation]) -> WordTrack:
    """What the wearer saw: committed + tentative English of every utterance, in order."""
    return _track(translations, lambda t: t.text)


def committed_track(translations: Sequence[Translation]) -> WordTrack:
    """Only the text a system promised never to change (committed, or final)."""
    return _track(translations, lambda t: t.text if t.final else t.committed)


def _track(translations: Sequence[Translation],
           text_of: Callable[[Translation], str]) -> WordTrack:
    """Replay the display: each event replaces its utterance's text; the display is all
    utterances' words concatenated. Words after the common prefix of two consecutive
    displays are erased (suffix edits) and the new ones get the event's times.

    At the end, utterances that never got a final translation are cleared: their text is
    not in the final output, so it counts as erased.
    """
    texts: dict[int, list[str]] = {}
    finished: set[int] = set()
    track = WordTrack()
    for event in translations:
        texts[event.utterance_id] = text_of(event).split()
        if event.final:
            finished.add(event.utterance_id)
        _show(track, texts, event.end_s, event.emitted_s)
    dropped = [uid for uid in texts if uid not in finished and texts[uid]]
    if dropped:
        for uid in dropped:
            texts[uid] = []
        last = translations[-1]
        _show(track, texts, last.end_s, last.emitted_s)
    return track


def _show(track: WordTrack, texts: dict[int, list[str]], audio_s: float,
          emitted_s: float) -> None:
    words = [word for uid in sorted(texts) for word in texts[uid]]
    keep = 0
    for old, new in zip(track.words, words, strict=False):
        if old != new:
            break
        keep += 1
    track.erased += len(track.words) - keep
    added = len(words) - keep
    track.words = words
    track.audio_s = track.audio_s[:keep] + [audio_s] * added
    track.emitted_s = track.emitted_s[:keep] + [emitted_s] * added


def glossary_term_rate(pairs: Iterable[tuple[str, str]], glossary: Glossary) -> dict[str, Any]:
    """How often a glossary term in a sentence's Chinese appears (``term_present``) in
    that sentence's English: ``glossary_term_rate`` over ``glossary_terms`` occurrences.
    Empty when no sentence contains a term."""
    expected = found = 0
    for chinese, english in pairs:
        for _, target in glossary.find(chinese):
            expected += 1
            found += term_present(target, english)
    return {"glossary_term_rate": found / expected, "glossary_terms": expected} if expected else {}


def normalized_erasure(erased: int, final_words: int) -> float | None:
    """Erased displayed words ÷ words in the final output (None for no output)."""
    return erased / final_words if final_words else None


@dataclass(frozen=True)
class Span:
    """A final translation's audio span and when it was shown."""

    start_s: float
    end_s: float
    emitted_s: float


def final_latencies(segments: Sequence[tuple[float, float]], finals: Sequence[Span], *,
                    tolerance_s: float = 0.25, min_overlap_s: float = 0.1) -> list[float | None]:
    """End of each spoken sentence → its final English shown (None: never translated).

    The final that covers a segment's end is the first one overlapping the segment (by at
    least ``min_overlap_s``) that ends no earlier than ``tolerance_s`` before it; when a
    sentence was split over several utterances and none reaches its end, the last one
    overlapping it. Latency is that final's (or an earlier needed one's, if later) emission
    time minus the segment's end.
    """
    ordered = sorted(finals, key=lambda span: span.start_s)
    latencies: list[float | None] = []
    for start_s, end_s in segments:
        covering = [span for span in ordered
                    if min(span.end_s, end_s) - max(span.start_s, start_s) >= min_overlap_s]
        if not covering:
            latencies.append(None)
            continue
        needed = next((i for i, span in enumerate(covering) if span.end_s >= end_s - tolerance_s),
                      len(covering) - 1)
        shown_s = max(span.emitted_s for span in covering[: needed + 1])
        latencies.append(shown_s - end_s)
    return latencies


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (linear interpolation, numpy's default); None if empty."""
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if values else None


@dataclass(frozen=True)
class RefSentence:
    """A reference sentence of a stream: its English references and where it is spoken."""

    en_refs: tuple[str, ...]
    start_s: float
    end_s: float


def sentence_laal(delays: Sequence[float], source_s: float, reference_words: int) -> float:
    """Length-adaptive average lagging of one sentence (seconds).

    As in simulstream's StreamLaal (after SimulEval): ``delays`` are each output word's
    emission time measured from the sentence start, ``source_s`` is the sentence's spoken
    length; the lag of word ``i`` is ``d_i - i / gamma`` with
    ``gamma = max(|output|, |reference|) / source_s``, averaged up to the first word
    emitted after the sentence ended.
    """
    if not delays:
        raise ValueError("LAAL needs at least one output word")
    if delays[0] > source_s:
        return float(delays[0])
    gamma = max(len(delays), reference_words) / source_s
    total, tau = 0.0, 0
    for index, delay in enumerate(delays):
        total += delay - index / gamma
        tau = index + 1
        if delay >= source_s:
            break
    return total / tau


@dataclass(frozen=True)
class StreamLaal:
    """StreamLAAL over all sentences with output; ``empty`` sentences got no words."""

    computation_aware_s: float | None
    ideal_s: float | None
    sentences: int
    empty: int


@dataclass(frozen=True)
class Resegmented:
    """A stream's output cut into its reference sentences, with each word's times."""

    hypotheses: list[str]
    audio_s: list[list[float]]
    emitted_s: list[list[float]]


def resegment(track: WordTrack, references: Sequence[RefSentence]) -> Resegmented:
    """Cut the stream's words into one hypothesis per reference sentence (mweralign,
    aligned to each sentence's first reference)."""
    pieces = align_words(track.words, [ref.en_refs[0] for ref in references])
    hypotheses, audio, emitted = [], [], []
    index = 0
    for piece in pieces:
        hypotheses.append(" ".join(piece))
        audio.append(track.audio_s[index : index + len(piece)])
        emitted.append(track.emitted_s[index : index + len(piece)])
        index += len(piece)
    return Resegmented(hypotheses, audio, emitted)


def stream_laal(streams: Sequence[tuple[Resegmented, Sequence[RefSentence]]]) -> StreamLaal:
    """StreamLAAL (computation-aware and ideal), averaged over every sentence of every
    stream that received output, as simulstream does. The reference length is that of
    the first reference."""
    aware: list[float] = []
    ideal: list[float] = []
    empty = 0
    for output, references in streams:
        for ref, audio_s, emitted_s in zip(references, output.audio_s, output.emitted_s,
                                           strict=True):
            if not emitted_s:
                empty += 1
                continue
            length = len(ref.en_refs[0].split())
            source_s = ref.end_s - ref.start_s
            aware.append(sentence_laal([t - ref.start_s for t in emitted_s], source_s, length))
            ideal.append(sentence_laal([t - ref.start_s for t in audio_s], source_s, length))
    if empty:
        log.info("%d reference sentences got no output words (skipped in StreamLAAL)", empty)
    return StreamLaal(
        computation_aware_s=float(np.mean(aware)) if aware else None,
        ideal_s=float(np.mean(ideal)) if ideal else None,
        sentences=len(aware),
        empty=empty,
    )


def align_words(words: Sequence[str], references: Sequence[str]) -> list[list[str]]:
    """Split ``words`` (in order, unchanged) into ``len(references)`` pieces by minimum-WER
    alignment to one reference per sentence.

    mweralign's multi-reference syntax (``ref ### ref``) crashes its C++ core on some
    inputs (segfault, mweralign 1.4.1), so only one reference is aligned to; the scores
    still use every reference.
    """
    if not references:
        return []
    if not words:
        return [[] for _ in references]  # mweralign crashes on an empty hypothesis
    mweralign = _mweralign()
    hypothesis = " ".join(word.replace("###", "#") for word in words)
    reference_text = "\n".join(" ".join(ref.replace("###", "#").split()) for ref in references)
    with _quiet_stderr():
        aligned = mweralign.align_texts(reference_text, hypothesis)
    lines = aligned.split("\n")
    counts = [len(line.split()) for line in lines]
    if len(lines) != len(references) or sum(counts) != len(words):
        raise RuntimeError(f"mweralign returned {len(lines)} lines / {sum(counts)} words for "
                           f"{len(references)} references / {len(words)} words")
    pieces, index = [], 0
    for count in counts:
        pieces.append(list(words[index : index + count]))
        index += count
    return pieces


def _mweralign() -> Any:
    """Import mweralign without letting it reconfigure logging (it calls basicConfig)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        from mweralign import mweralign
    except ImportError:
        raise DependencyError(
            "the benchmark needs mweralign for StreamLAAL's re-segmentation: "
            "pip install 'mweralign==1.4.1'") from None
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)
    return mweralign


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """mweralign's C++ core writes two lines to stderr per call; keep the terminal clean."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
