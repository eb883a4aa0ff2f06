"""Captions in the terminal: a panel shaped like the glasses' text area, redrawn in place.

The panel is exactly ``max_chars_per_line`` columns wide and a fixed number of lines high,
so what fits here fits on the glasses and the panel never changes size; its lines roll up
like the HUD's (the same layout engine, measured in columns instead of pixels). Committed English
is bright and bold, the tentative tail dim and italic (it may still change), the Chinese
source grey. Above the panel a few earlier final sentences scroll by for context.

When the console is not an interactive terminal (output piped to a file or a test buffer),
nothing is redrawn: each final sentence is printed once as plain lines instead.

In a conversation both directions show, labelled: "ZH→EN" the other person's Mandarin in
English, "EN→ZH" the wearer's English in Chinese (as the partner page shows it; "EN→ZH
draft" a dictated or typed message). The panel is the HUD (the wearer's own words only
as one echo row); the wearer's latest Chinese is shown under it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from types import TracebackType

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.text import Text

from hudtranslate.captions.layout import CaptionLine, CaptionSpan, CaptionView, SpanStyle
from hudtranslate.captions.rollup import PacingOptions, RollUp, hud_translations, rollup_lines
from hudtranslate.captions.text import same_words, tail_line
from hudtranslate.captions.track import CaptionTrack
from hudtranslate.config import CaptionOptions
from hudtranslate.events import StreamEnd, Transcript, Translation

logger = logging.getLogger(__name__)

STYLES: dict[SpanStyle, str] = {
    "committed": "bold bright_green",
    "tentative": "italic dim green",
    "source": "grey62",
}
HISTORY_STYLE = "green"
OUTGOING_STYLE = "bold cyan"

_KEEP_EXTRA_UTTERANCES = 8
"""Besides the history, how many recent utterances to remember (late events may update them)."""


def direction_label(translation: Translation) -> str:
    """"ZH→EN", "EN→ZH" or "EN→ZH draft": which way an utterance was translated."""
    label = f"{translation.source_language.upper()}→{translation.target_language.upper()}"
    return f"{label} draft" if translation.draft else label


def render(
    view: CaptionView,
    options: CaptionOptions | None = None,
    history: Sequence[str] = (),
    outgoing: str = "",
) -> RenderableType:
    """Draw ``view`` as a fixed-size panel, with ``history`` sentences above it and the
    ``outgoing`` line (what the other person is shown) under it."""
    options = options or CaptionOptions()
    height = options.max_lines + (1 if options.show_source else 0)
    rows = [
        Text.assemble(*((span.text, STYLES[span.style]) for span in line.spans))
        for line in view.lines[:height]
    ]
    rows += [Text() for _ in range(height - len(rows))]
    body = Text("\n", no_wrap=True, overflow="crop").join(rows)
    panel = Panel(
        body,
        width=options.max_chars_per_line + 4,
        height=height + 2,
        padding=(0, 1),
        border_style="green",
    )
    parts: list[RenderableType] = [panel]
    if history:
        parts.insert(0, Text("\n".join(history), style=HISTORY_STYLE, overflow="fold"))
    if outgoing:
        parts.append(Text(outgoing, style=OUTGOING_STYLE, overflow="fold"))
    return parts[0] if len(parts) == 1 else Group(*parts)


class TerminalCaptions:
    """A caption sink for the terminal: feed it Transcript and Translation events.

    The panel is the HUD's roll-up in display columns (the same ``CaptionTrack`` and
    ``RollUp`` as the glasses, unpaced: a terminal keeps its scrollback): each utterance
    starts a new line and older lines move up. The Chinese line shows the newest
    utterance's source (the raw transcript while no translation for it exists yet). Final
    sentences that have scrolled out of the panel are printed above it for context.

    ``directions``: label each sentence with its direction (``direction_label``); by
    default (None) labels start with the first utterance of the wearer's.
    """

    def __init__(
        self,
        options: CaptionOptions | None = None,
        console: Console | None = None,
        history_lines: int = 3,
        directions: bool | None = None,
    ) -> None:
        self._labels = bool(directions)
        self._auto_labels = directions is None
        self._options = options or CaptionOptions()
        self._console = console or Console()
        self._history_lines = max(0, history_lines)
        self._live: Live | None = None
        self._interactive = self._console.is_terminal and not self._console.is_dumb_terminal
        self._track = CaptionTrack(keep=self._history_lines + _KEEP_EXTRA_UTTERANCES)
        self._rollup = RollUp(self._options.max_lines, PacingOptions.unpaced())
        self._printed: set[int] = set()
        self._closed = False
        if not self._interactive:
            logger.debug("console is not an interactive terminal: printing final captions only")

    def __enter__(self) -> TerminalCaptions:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def label_directions(self) -> None:
        """Label every sentence with its direction from now on (a conversation, known
        before its first sentence: a converse server's ``session`` message)."""
        self._labels = True
        self._auto_labels = False

    def update(self, event: Transcript | Translation | StreamEnd) -> None:
        """Take one event and redraw; events of other kinds are ignored."""
        if self._closed or not self._track.update(event):
            return
        if self._auto_labels and _from_wearer(event):
            self._labels = True
        lines = rollup_lines(self._track, self._options.max_chars_per_line)
        self._rollup.update(lines, 0.0, settled=self._track.settled())
        if self._interactive:
            self._redraw()
        elif isinstance(event, Translation) and event.final:
            self._print_final(event)

    def view(self) -> CaptionView:
        """The caption frame for the current state (what the panel shows)."""
        lines = [placed.line for placed in self._rollup.window(0.0)]
        if self._options.show_source:
            source = tail_line(self._track.source(), self._options.max_chars_per_line)
            if source:
                lines.append(CaptionLine((CaptionSpan(source, "source"),)))
        return CaptionView(tuple(lines))

    def history(self) -> list[str]:
        """Final English of utterances that have scrolled out of the panel, oldest first."""
        window = self._rollup.window(0.0)
        if not window or not self._history_lines:
            return []
        first_shown = window[0].key[0]
        finals = [
            self._labelled(translation)
            for translation in hud_translations(self._track)
            if translation.final and translation.utterance_id < first_shown
        ]
        return finals[-self._history_lines :]

    def outgoing(self) -> str:
        """The wearer's latest utterance as the other person is shown it (Chinese), with
        its label: "" when the wearer has said nothing."""
        said = self._track.wearer_translations()
        return self._labelled(said[-1]) if said and said[-1].text else ""

    def _labelled(self, translation: Translation) -> str:
        if not self._labels:
            return translation.text
        return f"{direction_label(translation)}  {translation.text}"

    def close(self) -> None:
        """Stop redrawing and leave the last frame on screen. Safe to call twice."""
        self._closed = True
        if self._live is not None:
            self._live.stop()
            self._live = None

    def _redraw(self) -> None:
        renderable = render(self.view(), self._options, self.history(), self.outgoing())
        if self._live is None:
            self._live = Live(
                renderable, console=self._console, auto_refresh=False, transient=False
            )
            self._live.start(refresh=True)
        else:
            self._live.update(renderable, refresh=True)

    def _print_final(self, event: Translation) -> None:
        if event.utterance_id in self._printed or not event.text:
            return
        self._printed.add(event.utterance_id)
        self._printed = set(sorted(self._printed)[-(self._history_lines
                                                    + _KEEP_EXTRA_UTTERANCES):])
        self._console.print(Text(self._labelled(event), style=STYLES["committed"]),
                            soft_wrap=True)
        # The wearer's own English always goes with its Chinese: the wearer reads English.
        # English said in listen mode is its own source: printed once.
        shown = self._options.show_source or event.target_language != "en"
        source = event.source.strip()
        if shown and source and not same_words(source, event.text):
            self._console.print(Text(source, style=STYLES["source"]), soft_wrap=True)


def _from_wearer(event: Transcript | Translation | StreamEnd) -> bool:
    if isinstance(event, Translation):
        return event.source_language != "zh"
    return isinstance(event, Transcript) and event.language != "zh"
