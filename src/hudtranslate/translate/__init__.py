"""Simultaneous Mandarin→English translation: Qwen via llama.cpp, a remote
OpenAI-compatible model, and the router that falls back from one to the other."""

from hudtranslate.translate.llama import LlamaBackend, LlamaEngine
from hudtranslate.translate.prompts import build_prompt, chat_messages
from hudtranslate.translate.remote import OpenAIChatBackend, RemoteOptions
from hudtranslate.translate.router import FallbackBackend
from hudtranslate.translate.text import clean_translation, has_cjk
from hudtranslate.translate.translator import SessionTranslator, TranslationBackend

__all__ = [
    "FallbackBackend",
    "LlamaBackend",
    "LlamaEngine",
    "OpenAIChatBackend",
    "RemoteOptions",
    "SessionTranslator",
    "TranslationBackend",
    "build_prompt",
    "chat_messages",
    "clean_translation",
    "has_cjk",
]
