"""Which sentence to say next, and when to stop saying one: a pure policy, no audio.

Speech is slower than reading and the other person keeps talking, so a voice that says
everything falls further and further behind. The rules (``VoiceOptions``):

* one item per utterance (a later final of the same utterance replaces a waiting one;
  one already said or being said is not said again);
* an item is *stale*, and is never said, once it has waited ``max_wait_s`` since its
  caption arrived, or once more than ``max_captions_behind`` newer captions have arrived
  after it (with the default 1: the newest and the one before it may still be said);
* while an item is being said, once it has been said over a newer waiting one for
  ``cut_after_s`` (or it becomes stale by count), it is cut: the voice never talks over
  a newer caption for long.

Times are seconds on any monotonic clock, passed in (``now_s``), so the policy is
table-tested without sleeping.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SpeechItem:
    """One caption to say: its utterance, its text and language, when it arrived."""

    utterance_id: int
    text: str
    language: str
    arrived_s: float


@dataclass
class _Entry:
    item: SpeechItem
    seq: int


@dataclass
class SpeechQueue:
    """The waiting items and the one being said (see the module doc)."""

    max_wait_s: float = 8.0
    max_captions_behind: int = 1
    cut_after_s: float = 3.0
    dropped: int = 0
    """Items skipped as stale so far (for logs)."""
    cut: int = 0
    """Items cut while being said so far."""
    _waiting: deque[_Entry] = field(default_factory=deque)
    _current: _Entry | None = None
    _started_s: float = 0.0
    _said: deque[int] = field(default_factory=lambda: deque(maxlen=64))
    _seq: int = 0

    def add(self, item: SpeechItem) -> bool:
        """Queue ``item``; False if its utterance was already said or is being said."""
        if item.utterance_id in self._said or (
                self._current is not None
                and self._current.item.utterance_id == item.utterance_id):
            return False
        for entry in self._waiting:
            if entry.item.utterance_id == item.utterance_id:
                entry.item = item  # a later final of the same utterance: keep its place
                return True
        self._seq += 1
        self._waiting.append(_Entry(item, self._seq))
        return True

    @property
    def current(self) -> SpeechItem | None:
        """The item being said, if any."""
        return self._current.item if self._current is not None else None

    @property
    def waiting(self) -> list[SpeechItem]:
        return [entry.item for entry in self._waiting]

    def next(self, now_s: float) -> SpeechItem | None:
        """Start saying the oldest item that is not stale (dropping the stale ones before
        it); None when nothing is left. Call ``done`` when it has been said."""
        self._current = None
        while self._waiting:
            entry = self._waiting.popleft()
            if self._stale(entry, now_s):
                self.dropped += 1
                continue
            self._current, self._started_s = entry, now_s
            self._said.append(entry.item.utterance_id)
            return entry.item
        return None

    def is_stale(self, item: SpeechItem, now_s: float) -> bool:
        """Whether the item being said (or about to be) should no longer be said: checked
        again after synthesis, which takes time while newer captions may arrive."""
        entry = self._current
        if entry is None or entry.item is not item:
            return True
        return self._stale(entry, now_s)

    def should_cut(self, now_s: float) -> bool:
        """Whether to stop saying the current item now for a newer one."""
        entry = self._current
        if entry is None or not self._waiting:
            return False
        talked_over_s = now_s - max(self._waiting[0].item.arrived_s, self._started_s)
        return (self._seq - entry.seq > self.max_captions_behind
                or talked_over_s >= self.cut_after_s)

    def done(self, *, cut: bool = False) -> None:
        """The current item has been said (or cut)."""
        if cut and self._current is not None:
            self.cut += 1
        self._current = None

    def _stale(self, entry: _Entry, now_s: float) -> bool:
        return (now_s - entry.item.arrived_s > self.max_wait_s
                or self._seq - entry.seq > self.max_captions_behind)
