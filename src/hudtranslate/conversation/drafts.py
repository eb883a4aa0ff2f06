"""The spoken command that turns an English utterance into a drafted message (pure)."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from hudtranslate.events import Transcript

DRAFT_COMMANDS = ("draft message", "draft a message", "draft")
"""Said first, then what the message should say: "Draft: tell her I'll be ten minutes
late". Whisper writes the pause after the command as ":", ",", "." or nothing."""

_COMMAND = re.compile(
    r"^\s*(?:" + "|".join(re.escape(c).replace(r"\ ", r"\s+") for c in DRAFT_COMMANDS)
    + r")\b[\s:,.;!\-–—]*", re.IGNORECASE)


def draft_request(english: str) -> str | None:
    """What the wearer asked to be written, when ``english`` starts with a draft command;
    None when it does not (or nothing follows the command).

    >>> draft_request("Draft, tell her I'll be ten minutes late.")
    "tell her I'll be ten minutes late."
    >>> draft_request("The draft is ready.") is None
    True
    """
    match = _COMMAND.match(english)
    if match is None:
        return None
    request = english[match.end():].strip()
    return request or None


def bare_command(english: str) -> bool:
    """Whether ``english`` is a draft command alone ("Draft.", "Draft a message"): the
    wearer paused after it long enough to end the utterance, and says the message next.

    >>> bare_command("Draft."), bare_command("Draft: call me"), bare_command("Drafts.")
    (True, False, False)
    """
    match = _COMMAND.match(english)
    return match is not None and not english[match.end():].strip()


DRAFT_PAUSE_S = 4.0
"""A draft command said alone ("Draft." and a pause that ended the utterance) makes the
wearer's next English a message if it starts within this many seconds."""


@dataclass
class DraftMarker:
    """Marks the wearer's dictated messages as drafts (``Transcript.draft``) from their
    first partial on, as typed ones are, so that displays show a message card and not the
    dictation as something said to the other person: English that starts with a draft
    command and says something after it, and the utterance after a command said alone
    (``bare_command``) if it starts within ``DRAFT_PAUSE_S``. The command said alone is
    passed on with no text (partials too): it is not said to the other person, and no
    display should show it as a said line (the partner page had, until the message came)."""

    command_end_s: float | None = None
    message_id: int | None = None

    def mark(self, transcript: Transcript) -> Transcript:
        if transcript.language != "en" or transcript.draft:
            return transcript
        text = transcript.text
        if bare_command(text):
            if transcript.final:
                self.command_end_s, self.message_id = transcript.end_s, None
            return dataclasses.replace(transcript, committed="", tentative="")
        if self.command_end_s is not None and transcript.utterance_id != self.message_id:
            within = transcript.start_s - self.command_end_s <= DRAFT_PAUSE_S
            self.message_id = transcript.utterance_id if within else None
            self.command_end_s = None
        if transcript.utterance_id == self.message_id or draft_request(text) is not None:
            return dataclasses.replace(transcript, draft=True)
        return transcript
