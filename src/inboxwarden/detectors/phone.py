"""Phone numbers in text, validated by the `phonenumbers` library (libphonenumber).

`PhoneNumberMatcher` with leniency VALID and default region SE decides what is a
number: Swedish national numbers (``070-174 06 05``, ``08-465 004 00``) and
international ones (``+46 70 174 06 05``, ``0046 …``, ``+44 20 7946 0958``). It costs
about 3 µs per character, so it only ever sees short windows that start where a phone
number can start (``+``, ``(0`` or ``0`` after a non-word character) inside a digit run
the candidate pass found. Swedish numbers written without their trunk ``0`` and
foreign ones without ``+``/``00`` are not looked for.

libphonenumber also accepts shapes that in a Swedish mail are far more often something
else: ``08-12-2024`` (a date, and a valid Stockholm number) and ``08.00-17.00``
(opening hours). Those shapes are dropped after matching.

This module is the one place `phonenumbers` is imported; its match objects are turned
into plain ints here.
"""

from __future__ import annotations

import re
from typing import Final

from phonenumbers import Leniency, PhoneNumberMatcher

_PHONE_START: Final = re.compile(r"(?<![\w+\-./])(?:\+ ?[1-9]|\(0[0-9]|0[0-9])")

_NOT_A_PHONE: Final = re.compile(
    r"(?P<a>[0-9]{2})(?P<s>[\-./])(?P<b>[0-9]{2})(?P=s)(?:[0-9]{2}|[0-9]{4})"  # 27.11.2024
    r"|[0-9]{4}(?P<t>[\-./])[0-9]{2}(?P=t)[0-9]{2}"  # 2024-11-27
    r"|[0-9]{1,2}[.:][0-9]{2} ?[\-\u2013] ?[0-9]{1,2}[.:][0-9]{2}"  # 08.00-17.00
)


def find_phones(text: str, pos: int, endpos: int, lookahead: int = 0) -> list[tuple[int, int]]:
    """Return the spans of phone numbers inside ``text[pos:endpos]``.

    ``lookahead`` extra characters after ``endpos`` are shown to the matcher so that it
    can reject a number glued to a letter; a caller bounding the window by another
    finding passes 0, so the matcher cannot reach into it.
    """
    start = _PHONE_START.search(text, pos, endpos)
    if start is None:
        return []
    lo = start.start()
    window = text[lo : endpos + lookahead]
    found: list[tuple[int, int]] = []
    for match in PhoneNumberMatcher(window, "SE", leniency=Leniency.VALID):
        m_start, m_end = int(match.start), int(match.end)
        if m_end > endpos - lo or _NOT_A_PHONE.fullmatch(window, m_start, m_end):
            continue
        found.append((lo + m_start, lo + m_end))
    return found
