"""UID sets as IMAP writes them: ``1:500,502,510:900`` (RFC 3501 §9, ``sequence-set``).

imapclient joins UIDs with commas, one by one. Folding runs into ranges keeps a command
for 50,000 messages short, and chunking keeps every line below Dovecot's 64 KiB limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

__all__ = ["MAX_SET_CHARS", "chunks", "fold", "pairs", "parse", "to_text"]

#: Stay well below Dovecot's 64 KiB command line (and RFC 7162's advice of 8 KiB for
#: servers that are stricter): a UID set never exceeds this many characters.
MAX_SET_CHARS = 8000


def fold(uids: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted, de-duplicated UIDs as inclusive (first, last) runs."""
    runs: list[tuple[int, int]] = []
    for uid in sorted(set(uids)):
        if runs and uid == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], uid)
        else:
            runs.append((uid, uid))
    return runs


def _run_text(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}:{last}"


def to_text(uids: Iterable[int]) -> str:
    """The UIDs as one IMAP sequence-set string."""
    return ",".join(_run_text(a, b) for a, b in fold(uids))


def chunks(
    uids: Iterable[int], *, size: int, max_chars: int = MAX_SET_CHARS
) -> Iterator[tuple[str, list[int]]]:
    """Split *uids* into batches of at most *size* messages and *max_chars* characters.

    Yields the set text and the UIDs it covers, so callers can check a server's answer
    (``COPYUID``) against exactly the UIDs they asked for.
    """
    parts: list[str] = []
    covered: list[int] = []
    length = 0
    for first, last in fold(uids):
        while first <= last:
            room = size - len(covered)
            stop = min(last, first + room - 1)
            text = _run_text(first, stop)
            if parts and length + 1 + len(text) > max_chars:
                yield ",".join(parts), covered
                parts, covered, length = [], [], 0
                continue
            parts.append(text)
            covered.extend(range(first, stop + 1))
            length += len(text) + (1 if len(parts) > 1 else 0)
            first = stop + 1
            if len(covered) >= size:
                yield ",".join(parts), covered
                parts, covered, length = [], [], 0
    if parts:
        yield ",".join(parts), covered


def parse(text: str) -> list[int]:
    """The UIDs of a sequence-set such as ``4:6,9`` (no ``*``: COPYUID never sends one)."""
    uids: list[int] = []
    for part in text.split(","):
        first, _, last = part.partition(":")
        a, b = int(first), int(last or first)
        uids.extend(range(min(a, b), max(a, b) + 1))
    return uids


def pairs(source: Sequence[int], dest: Sequence[int]) -> dict[int, int]:
    """Map source UIDs to destination UIDs in order, as RFC 4315 §3 defines COPYUID."""
    if len(source) != len(dest):
        raise ValueError("COPYUID source and destination sets differ in length")
    return dict(zip(source, dest, strict=True))
