"""Claims on mailboxes, so that two processes never work on one mailbox at once.

A claim is a lease in the state database with a lifetime: a holder that died (kill -9,
a power cut) frees its mailboxes when the lease expires, a live one renews it between
commands (see `Heartbeat`), and a holder on this machine whose process is gone is
taken over at once, as its transfer journal makes that safe.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

import structlog

from inboxwarden.state import StateStore

__all__ = ["LEASE_TTL", "Heartbeat", "claim", "lease_holder_name"]

log = structlog.get_logger(__name__)

#: How long a claim on a mailbox lasts without renewal: a holder that died (kill -9,
#: power cut) frees its mailboxes after this; a live one renews well before.
LEASE_TTL = timedelta(minutes=10)


def lease_holder_name() -> str:
    """This process's name in the leases: host, process id and a nonce for this run."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claim(state: StateStore, mailbox: str, holder: str) -> bool:
    """Take the lease on *mailbox* for *holder*; False when a live process holds it."""
    if state.acquire_lease(mailbox, holder, LEASE_TTL):
        return True
    # A holder on this machine whose process is gone (kill -9, a crash) need not be
    # waited out for the lease's lifetime: its journal makes taking over safe.
    current = state.lease_holder(mailbox)
    if current is not None and died_here(current):
        log.warning("lease_taken_over", reason="holder process is gone")
        return state.take_over_lease(mailbox, current, holder, LEASE_TTL)
    return False


def died_here(holder: str) -> bool:
    """True when *holder* names a process on this host that no longer exists."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname()[:32] or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # it exists, owned by someone else
    return False


class Heartbeat:
    """Renews a lease when called, at most once per a third of its lifetime."""

    def __init__(self, renew: Callable[[], bool], every: timedelta = LEASE_TTL / 3) -> None:
        self._renew = renew
        self._every = every.total_seconds()
        self._last = time.monotonic()

    def __call__(self) -> None:
        if time.monotonic() - self._last >= self._every:
            self._renew()
            self._last = time.monotonic()
