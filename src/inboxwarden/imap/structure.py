"""BODYSTRUCTURE as plain data: which parts hold text, which are attachments, by name.

The fan-out scan fetches only the text parts of the few messages that can be
findings; BODYSTRUCTURE (RFC 3501 §7.4.2) tells it which sections those are and how
they are encoded, without downloading any attachment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inboxwarden.message import decode_words


@dataclass(frozen=True, slots=True)
class BodyPart:
    """One leaf of a message's MIME tree."""

    section: str
    maintype: str
    subtype: str
    size: int
    filename: str | None

    @property
    def is_text(self) -> bool:
        """Text the detectors read: text/plain or text/html that is not an attachment."""
        return self.maintype == "text" and self.subtype in ("plain", "html") and not self.filename


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


def leaves(structure: Any, prefix: str = "") -> list[BodyPart]:
    """Every leaf part of imapclient's BODYSTRUCTURE answer, with its section number.

    A message that is not multipart has the single section ``1`` (RFC 3501 §6.4.5).
    Anything the parser cannot read is left out rather than raised on.
    """
    try:
        if getattr(structure, "is_multipart", False):
            parts: list[BodyPart] = []
            for index, child in enumerate(structure[0], start=1):
                parts.extend(leaves(child, f"{prefix}{index}."))
            return parts
        leaf = tuple(structure)
        params = _params(leaf[2])
        return [
            BodyPart(
                section=(prefix or "1.").rstrip("."),
                maintype=_text(leaf[0]).lower(),
                subtype=_text(leaf[1]).lower(),
                size=int(leaf[6]) if isinstance(leaf[6], int) else 0,
                filename=_filename(leaf, params),
            )
        ]
    except (IndexError, TypeError, ValueError):
        return []
