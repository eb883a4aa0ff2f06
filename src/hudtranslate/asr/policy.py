"""LocalAgreement commit policy for streaming recognition (pure, model-free).

Whisper re-decodes the whole utterance each time more audio arrives. A character is
committed once two consecutive hypotheses agree on it (LocalAgreement-2, as in
whisper_streaming); the rest is tentative. Committed text only grows within an utterance,
so the display never has to erase it.
"""

from __future__ import annotations

from dataclasses import dataclass

from hudtranslate.asr.text import common_prefix


@dataclass
class LocalAgreement:
    """Per-utterance commit state; ``reset`` starts the next utterance."""

    committed: str = ""
    _previous: str = ""

    def update(self, hypothesis: str) -> tuple[str, str]:
        """Feed a new full hypothesis; return (committed, tentative).

        The hypothesis is expected to start with the committed text (the recogniser is
        prompted with it); if it does not, the committed text still stands and the
        hypothesis's diverging part becomes tentative.
        """
        if not hypothesis.startswith(self.committed):
            tail = hypothesis[len(common_prefix(hypothesis, self.committed)) :]
            self._previous = self.committed + tail
            return self.committed, tail
        agreed = common_prefix(self._previous, hypothesis)
        if len(agreed) > len(self.committed):
            self.committed = agreed
        self._previous = hypothesis
        return self.committed, hypothesis[len(self.committed) :]

    def finish(self, hypothesis: str) -> str:
        """The final hypothesis becomes the whole committed text; returns it.

        The final decode sees all the audio with a wider beam and no forced prefix, so it
        is the best estimate: it supersedes partial commitments (which only ever fed the
        tentative English), and a final that heard nothing keeps what was committed.
        """
        final = hypothesis or self.committed
        self.committed = self._previous = final
        return final

    def reset(self) -> None:
        self.committed = ""
        self._previous = ""

