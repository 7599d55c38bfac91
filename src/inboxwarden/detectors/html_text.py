"""HTML reduced to the text a reader sees, for the detectors to scan.

The standard library's `html.parser` does the tokenising and decodes character
references (``&nbsp;``, ``&#8209;``), so ``070&nbsp;174&nbsp;06&nbsp;05`` reads as a
phone number. Script, style and head content is dropped; block elements and ``<br>``
become line breaks and table cells spaces, so that numbers in neighbouring cells do
not run together into one. No-break spaces become plain spaces. Attribute values
(``href="mailto:…"``) are not text and are not scanned.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Final

__all__ = ["html_to_text"]

_HIDDEN: Final = frozenset({"script", "style", "head", "template", "noscript"})
_BREAKS: Final = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
        "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li",
        "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "thead", "tfoot",
        "title", "tr", "ul",
    }
)  # fmt: skip
_CELLS: Final = frozenset({"td", "th"})
_TAG: Final = re.compile(r"<[^<>]*>")
"""A tag; ``[^<>]`` rather than ``[^>]`` so that unclosed ``<`` cannot make it quadratic."""


class _VisibleText(HTMLParser):
    """Collects the visible text of a document as it is fed."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden_depth += 1
        elif tag == "body":  # an unclosed <head> must not hide the whole message
            self._hidden_depth = 0
        elif tag in _BREAKS:
            self.chunks.append("\n")
        elif tag in _CELLS:
            self.chunks.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BREAKS:
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden_depth = max(0, self._hidden_depth - 1)
        elif tag in _BREAKS:
            self.chunks.append("\n")
        elif tag in _CELLS:
            self.chunks.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            self.chunks.append(data)


def html_to_text(document: str) -> str:
    """Return the visible text of an HTML document or fragment, entities decoded.

    The parser is fed but never closed: closing makes it step one character at a time
    through every construct left open, rescanning the rest of the document each time
    (``"<!--" * 250_000`` did not finish in minutes). What it holds back, from the
    first unclosed construct to the end, is stripped of tags crudely instead, which
    is linear and errs on the side of scanning more text.
    """
    parser = _VisibleText()
    try:
        parser.feed(document)
        text = "".join(parser.chunks) + _stripped(parser.rawdata)
    except Exception:  # the parser gave up on broken markup: strip tags crudely instead
        text = _stripped(document)
    return text.replace("\u00a0", " ")


def _stripped(markup: str) -> str:
    """Markup with its tags replaced by spaces and its entities decoded, in linear time."""
    return html.unescape(_TAG.sub(" ", markup)) if markup else ""
