"""BODYSTRUCTURE as plain data: which parts hold text, which are attachments, by name.

The fan-out scan fetches only the text parts of the few messages that can be
findings; BODYSTRUCTURE (RFC 3501 §7.4.2) tells it which sections those are and how
they are encoded, without downloading any attachment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from imapclient.response_types import BodyData

from inboxwarden.policy.message import decode_words

__all__ = ["MAX_DEPTH", "MAX_LEAVES", "BodyPart", "leaves"]

MAX_DEPTH: Final = 10
"""Levels of multiparts and attached messages listed; real mail nests three or four."""

MAX_LEAVES: Final = 1_000
"""Parts listed per message; a message with more is marked as not fully read."""


@dataclass(frozen=True, slots=True)
class BodyPart:
    """One leaf of a message's MIME tree."""

    section: str
    maintype: str
    subtype: str
    size: int
    filename: str | None
    subject: str | None = None
    """The subject of an attached message (``message/rfc822``), from its envelope."""
    unread: bool = False
    """A placeholder for parts not read: nested too deep, too many, or unparseable."""

    @property
    def is_text(self) -> bool:
        """Text the detectors read: text/plain or text/html that is not an attachment."""
        return self.maintype == "text" and self.subtype in ("plain", "html") and not self.filename

    @property
    def is_message(self) -> bool:
        """An attached message, whose own parts follow it in `leaves`."""
        return (self.maintype, self.subtype) == ("message", "rfc822")


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)


def _params(value: Any) -> dict[str, str]:
    if not isinstance(value, tuple | list):
        return {}
    items = list(value)
    return {_text(k).lower(): _text(v) for k, v in zip(items[0::2], items[1::2], strict=False)}


def _filename(leaf: tuple[Any, ...], params: dict[str, str]) -> str | None:
    for element in leaf[7:]:
        if isinstance(element, tuple) and len(element) == 2 and isinstance(element[0], bytes):
            found = _params(element[1]).get("filename") or _params(element[1]).get("filename*")
            if found:
                return decode_words(found)
    name = params.get("name")
    return decode_words(name) if name else None


def leaves(structure: Any) -> list[BodyPart]:
    """Every leaf part of imapclient's BODYSTRUCTURE answer, with its section number.

    A message that is not multipart has the single section ``1`` (RFC 3501 §6.4.5).
    An attached message (``message/rfc822``) is listed itself, for its name and
    subject, and then its own parts under its section (``2.1``, ``2.2``; ``2.1`` for
    a body that is not multipart). The walk is iterative and bounded: parts deeper
    than `MAX_DEPTH`, past `MAX_LEAVES`, or that the parser cannot read are listed as
    one `BodyPart.unread` placeholder, never silently left out.
    """
    found: list[BodyPart] = []
    stack: list[tuple[Any, str, int]] = [(structure, "", 0)]
    while stack:
        node, prefix, depth = stack.pop()
        if len(found) >= MAX_LEAVES:
            found.append(_unread(prefix))
            break
        if depth > MAX_DEPTH:
            found.append(_unread(prefix))
            continue
        try:
            if getattr(node, "is_multipart", False):
                children = list(enumerate(node[0], start=1))
                stack.extend((c, f"{prefix}{i}.", depth + 1) for i, c in reversed(children))
                continue
            part = _leaf(tuple(node), (prefix or "1.").rstrip("."))
            inner = _attached_body(tuple(node)) if part.is_message else None
        except (IndexError, TypeError, ValueError):
            found.append(_unread(prefix))
            continue
        found.append(part)
        if inner is not None:
            # A body that is not multipart is part 1 of the attached message (§6.4.5).
            below = f"{part.section}." if inner.is_multipart else f"{part.section}.1."
            stack.append((inner, below, depth + 1))
    return found


def _leaf(leaf: tuple[Any, ...], section: str) -> BodyPart:
    params = _params(leaf[2])
    maintype, subtype = _text(leaf[0]).lower(), _text(leaf[1]).lower()
    subject = None
    if (maintype, subtype) == ("message", "rfc822") and len(leaf) > 7:
        envelope = leaf[7]  # (date, subject, from, …), RFC 3501 §7.4.2
        if isinstance(envelope, tuple) and len(envelope) > 1 and envelope[1]:
            subject = decode_words(_text(envelope[1]))
    return BodyPart(
        section=section,
        maintype=maintype,
        subtype=subtype,
        size=int(leaf[6]) if isinstance(leaf[6], int) else 0,
        filename=_filename(leaf, params),
        subject=subject,
    )


def _attached_body(leaf: tuple[Any, ...]) -> Any:
    """The BODYSTRUCTURE of the message inside a ``message/rfc822`` part (RFC 3501 §7.4.2)."""
    if len(leaf) > 8 and isinstance(leaf[8], tuple) and leaf[8]:
        return BodyData.create(leaf[8])  # imapclient leaves nested bodies unconverted
    return None


def _unread(prefix: str) -> BodyPart:
    return BodyPart(
        section=prefix.rstrip(".") or "1",
        maintype="",
        subtype="",
        size=0,
        filename=None,
        unread=True,
    )
