"""The decoder's starting tokens with and without an initial prompt (``decoder_prompt``)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from hudtranslate.asr.whisper import MAX_PROMPT_TOKENS, decoder_prompt
from hudtranslate.config import MAX_INITIAL_PROMPT_CHARS, AsrOptions
from hudtranslate.errors import ConfigError


@dataclass
class CharTokenizer:
    """One token per character (its code point); Whisper's special tokens as in
    faster-whisper's multilingual tokenizer."""

    sot_sequence: tuple[int, ...] = (50258, 50260, 50359)
    no_timestamps: int = 50363
    sot_prev: int = 50361

    def encode(self, text: str) -> list[int]:
        return [ord(char) for char in text]


@pytest.mark.parametrize(("prompt", "expected_previous"), [
    ("", None),
    ("   ", None),
    ("北京", " 北京"),
    (" 汤姆，北京。 ", " 汤姆，北京。"),
])
def test_the_prompt_comes_before_the_task_tokens(prompt: str,
                                                 expected_previous: str | None) -> None:
    tokenizer = CharTokenizer()
    start = [50258, 50260, 50359, 50363]
    ids = decoder_prompt(tokenizer, prompt)
    if expected_previous is None:
        assert ids == start
    else:
        assert ids == [50361, *map(ord, expected_previous), *start]


def test_a_long_prompt_keeps_its_last_tokens() -> None:
    prompt = "甲" * 300 + "乙丙"
    ids = decoder_prompt(CharTokenizer(), prompt)
    previous = ids[1:-4]
    assert len(previous) == MAX_PROMPT_TOKENS
    assert previous[-2:] == [ord("乙"), ord("丙")]


def test_an_overlong_initial_prompt_is_refused_by_name() -> None:
    AsrOptions(initial_prompt="北" * MAX_INITIAL_PROMPT_CHARS)
    with pytest.raises(ConfigError, match=r"asr\.initial_prompt"):
        AsrOptions(initial_prompt="北" * (MAX_INITIAL_PROMPT_CHARS + 1))

