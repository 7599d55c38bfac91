"""Reading the files an administrator points at: regular files only, bounded in size.

The configuration, the directory and every secret file are read through here. A FIFO,
a device or a directory in their place would hang the service or feed it endless data,
so such a path is refused before a byte is read: the file is opened without blocking
and checked with ``fstat`` on the open descriptor, which leaves no window for a swap.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["UnreadableFile", "line_of", "read_regular_file"]

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class UnreadableFile(Exception):
    """The file is missing, not a regular file, too large or unreadable; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_regular_file(path: Path, max_bytes: int) -> bytes:
    """Return the bytes of the regular file *path*, at most *max_bytes* of them."""
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise UnreadableFile("not found") from None
    except OSError as exc:
        raise UnreadableFile(exc.strerror or type(exc).__name__) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
            raise UnreadableFile(f"{kind}, not a regular file")
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes and (chunk := os.read(fd, max_bytes + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise UnreadableFile(exc.strerror or type(exc).__name__) from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > max_bytes:
        raise UnreadableFile(f"larger than {max_bytes:,} bytes")
    return data


def line_of(data: bytes, offset: int) -> int:
    """The 1-based line of byte *offset* in *data*, for error messages."""
    return data[:offset].count(b"\n") + 1
