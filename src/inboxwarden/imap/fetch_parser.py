"""A fast reader for the one FETCH answer the scan asks for (RFC 3501 §7.4.2).

imapclient's general parser tokenises every response and spends about 50 µs per message;
at 50,000 messages that alone is longer than the server's whole move. The scan's
answers have a fixed shape — UID, FLAGS, INTERNALDATE, RFC822.SIZE and one header
literal — so they are read with a few anchored regular expressions instead. Anything
that does not fit raises :class:`UnexpectedShape`, and the caller falls back to
imapclient's parser for that batch.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

__all__ = ["FetchedItem", "UnexpectedShape", "read_fetch"]

_UID = re.compile(rb"\bUID (\d+)")
_FLAGS = re.compile(rb"\bFLAGS \(([^)]*)\)")
_DATE = re.compile(
    rb'\bINTERNALDATE "\s?(\d{1,2})-(\w{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)"'
)
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
# Dovecot answers in the order asked: one search instead of four.
_IN_ORDER = re.compile(
    rb"\bUID (\d+) FLAGS \(([^)]*)\) "
    + _DATE.pattern.removeprefix(rb"\b")
    + rb" RFC822\.SIZE (\d+)"
)
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        (
            b"Jan",
            b"Feb",
            b"Mar",
            b"Apr",
            b"May",
            b"Jun",
            b"Jul",
            b"Aug",
            b"Sep",
            b"Oct",
            b"Nov",
            b"Dec",
        )
    )
}
_ZONES: dict[bytes, timezone] = {}


class UnexpectedShape(ValueError):
    """The answer is not of the shape this reader knows; use the general parser."""


@dataclass(frozen=True, slots=True)
class FetchedItem:
    """The attributes of one message, still as the server spelled them."""

    uid: int
    flags: tuple[str, ...]
    internaldate: datetime
    size: int
    header: bytes


def _zone(sign: bytes, hours: bytes, minutes: bytes) -> timezone:
    key = sign + hours + minutes
    zone = _ZONES.get(key)
    if zone is None:
        offset = timedelta(hours=int(hours), minutes=int(minutes))
        zone = timezone(-offset if sign == b"-" else offset)
        _ZONES[key] = zone
    return zone


@functools.lru_cache(maxsize=1024)
def _flags(raw: bytes) -> tuple[str, ...]:
    # Few distinct flag lists in one INBOX: decode each once, share the tuple.
    return tuple(f.decode("utf-8", "replace") for f in raw.split())


def _item(meta: bytes, literal: bytes | None) -> FetchedItem | None:
    together = _IN_ORDER.search(meta)
    if together is not None:
        uid, flags, *date, size = together.groups()
    else:  # another server's order: find each attribute on its own
        found_uid = _UID.search(meta)
        if found_uid is None:
            return None  # an unsolicited FETCH (a flag change by another client): not ours
        found = _FLAGS.search(meta), _DATE.search(meta), _SIZE.search(meta)
        if None in found:
            raise UnexpectedShape("missing attribute")
        uid, flags, date, size = (
            found_uid.group(1),
            found[0].group(1),  # type: ignore[union-attr]
            list(found[1].groups()),  # type: ignore[union-attr]
            found[2].group(1),  # type: ignore[union-attr]
        )
    day, mon, year, hh, mm, ss, sign, zh, zm = date
    month = _MONTHS.get(mon)
    if month is None:
        raise UnexpectedShape("month")
    when = datetime(
        int(year), month, int(day), int(hh), int(mm), int(ss), tzinfo=_zone(sign, zh, zm)
    )
    return FetchedItem(
        uid=int(uid),
        flags=_flags(flags),
        internaldate=when,
        size=int(size),
        header=literal or b"",
    )


def read_fetch(lines: Iterable[bytes | tuple[bytes, bytes]]) -> Iterator[FetchedItem]:
    """Items of imaplib's raw FETCH data: lines, or (line, literal) pairs then a tail."""
    pending: tuple[bytes, bytes] | None = None
    for line in lines:
        if isinstance(line, tuple):
            if pending is not None:
                item = _item(*pending)
                if item is not None:
                    yield item
            pending = (line[0], line[1])
        elif pending is not None:
            # The rest of the response after the literal, e.g. b")" or b" UID 7)".
            item = _item(pending[0] + line, pending[1])
            pending = None
            if item is not None:
                yield item
        elif isinstance(line, bytes):
            item = _item(line, None)
            if item is not None:
                yield item
        else:
            raise UnexpectedShape(type(line).__name__)
    if pending is not None:
        item = _item(*pending)
        if item is not None:
            yield item
