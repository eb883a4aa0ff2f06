"""Simultaneous Mandarin→English translation with Qwen (llama.cpp)."""

from hudtranslate.translate.llama import LlamaEngine
from hudtranslate.translate.prompts import build_prompt, chat_messages
from hudtranslate.translate.text import clean_translation, has_cjk
from hudtranslate.translate.translator import LlamaBackend, SessionTranslator, TranslationBackend

__all__ = [
    "LlamaBackend",
    "LlamaEngine",
    "SessionTranslator",
    "TranslationBackend",
    "build_prompt",
    "chat_messages",
    "clean_translation",
    "has_cjk",
]
