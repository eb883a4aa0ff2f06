"""The spoken command that turns an English utterance into a drafted message (pure)."""

from __future__ import annotations

import re

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
