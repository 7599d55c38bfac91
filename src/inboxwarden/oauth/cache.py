"""A thread-safe cache of access tokens, refreshed shortly before they expire.

Mailboxes are processed in a thread pool, and every login asks for a token: without the
cache a run over 5,000 mailboxes would ask the identity provider 5,000 times (and be
throttled). Each key (the app, or a mailbox) has its own lock, so two threads never
fetch the same token at once while different mailboxes' tokens are fetched in parallel.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from pydantic import SecretStr

from inboxwarden.errors import TokenUnavailable

__all__ = [
    "FAILURE_TTL_SECONDS",
    "REFRESH_MARGIN_SECONDS",
    "REFRESH_MARGIN_SHARE",
    "Fetch",
    "TokenCache",
    "TokenSource",
]

#: Refresh this long before expiry at most (Microsoft's tokens live 60-90 minutes) ...
REFRESH_MARGIN_SECONDS = 300.0
#: ... and at least a token's half life early, so a short-lived token is still reused.
REFRESH_MARGIN_SHARE = 0.5
#: A refusal is remembered this long: a wrong secret must not hit the provider per mailbox.
FAILURE_TTL_SECONDS = 60.0

#: Fetches a fresh token for a key: the token and its lifetime in seconds.
Fetch = Callable[[str], tuple[SecretStr, float]]


class TokenSource(Protocol):
    """Hands out the access token to log in to one mailbox with."""

    @property
    def provider(self) -> str:
        """The identity provider's name, as configured (``microsoft`` or ``google``)."""
        ...

    def token_for(self, login: str) -> SecretStr:
        """A valid token for *login*; raises TokenUnavailable or ConnectionLost."""
        ...


@dataclass(frozen=True, slots=True)
class _Cached:
    value: SecretStr
    refresh_at: float


class TokenCache:
    """Tokens by key, fetched through *fetch* when missing or about to expire."""

    def __init__(self, fetch: Fetch, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._fetch = fetch
        self._clock = clock
        self._tokens: dict[str, _Cached] = {}
        self._failures: dict[str, tuple[str, float]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        #: How many times the identity provider was asked, for tests and metrics.
        self.fetches = 0

    def __repr__(self) -> str:
        return f"<TokenCache {len(self._tokens)} tokens>"

    def get(self, key: str) -> SecretStr:
        """The cached token for *key*, or a fresh one when it is missing or nearly expired."""
        with self._lock_for(key):
            now = self._clock()
            cached = self._tokens.get(key)
            if cached is not None and now < cached.refresh_at:
                return cached.value
            failure = self._failures.get(key)
            if failure is not None and now < failure[1]:
                raise TokenUnavailable(failure[0])
            self.fetches += 1
            try:
                value, lifetime = self._fetch(key)
            except TokenUnavailable as exc:
                self._failures[key] = (str(exc), now + FAILURE_TTL_SECONDS)
                raise
            margin = min(REFRESH_MARGIN_SECONDS, max(lifetime, 0.0) * REFRESH_MARGIN_SHARE)
            self._tokens[key] = _Cached(value, now + lifetime - margin)
            self._failures.pop(key, None)
            return value

    def _lock_for(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())
