"""Two-way conversation (``--mode converse``): each utterance goes the way its language
says — the other person's Mandarin to English for the wearer, the wearer's English to
Chinese for the other person — and dictated messages become Chinese ready to send."""

from hudtranslate.conversation.drafts import draft_request
from hudtranslate.conversation.translator import ConversationTranslator, ReplyTranslator

__all__ = ["ConversationTranslator", "ReplyTranslator", "draft_request"]
