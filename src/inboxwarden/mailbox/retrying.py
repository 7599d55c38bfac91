"""Which mailbox failures are worth another attempt, and how the attempts are spaced.

The only module that imports tenacity. Transient: the connection broke or timed out
(:class:`ConnectionLost`), or the server said ``[UNAVAILABLE]`` or ``[INUSE]``
(RFC 5530 §3: "try again later"). Everything else, above all a refused login and a
policy refusal, fails the same way every time, so it is not retried.
"""

from __future__ import annotations

import imaplib
import re
from collections.abc import Callable

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
    wait_random,
)

from inboxwarden.errors import (
    AuthenticationFailed,
    ConnectionLost,
    MailboxError,
    TokenUnavailable,
)

__all__ = ["MAX_WAIT_SECONDS", "attempts", "is_transient"]

#: RFC 5530 response codes that mean "the same command may succeed later".
_TRY_LATER = re.compile(r"\[(UNAVAILABLE|INUSE)\]", re.IGNORECASE)
#: No single wait is longer than this, however many attempts came before.
MAX_WAIT_SECONDS = 60.0


def is_transient(exc: BaseException) -> bool:
    """True when *exc* may not happen again on the next attempt."""
    if isinstance(exc, ConnectionLost):
        return True
    if isinstance(exc, TokenUnavailable):
        return False  # the identity provider's refusal, whatever its words
    if isinstance(exc, AuthenticationFailed) and _broken_underneath(exc):
        return True
    return isinstance(exc, MailboxError) and bool(_TRY_LATER.search(str(exc)))


def _broken_underneath(exc: BaseException) -> bool:
    """True when the connection broke beneath *exc*.

    imapclient reports any error during LOGIN as a refused login, even a connection cut
    before the server answered; the broken socket is still in the exception's context.
    """
    seen = exc.__cause__ or exc.__context__
    while seen is not None:
        if isinstance(seen, (OSError, EOFError, imaplib.IMAP4.abort)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def attempts(
    *,
    tries: int,
    backoff_seconds: float,
    total_seconds: float,
    sleep: Callable[[float], None],
    on_retry: Callable[[int, BaseException], None],
) -> Retrying:
    """At most *tries* attempts within *total_seconds*, waits doubling from *backoff_seconds*.

    Jitter (up to one *backoff_seconds*) spreads the retries of mailboxes that failed
    together, so a server that just came back is not hit by all of them at once. The
    last error is raised as itself, never wrapped.
    """

    def before_sleep(state: RetryCallState) -> None:
        if state.outcome is not None and (exc := state.outcome.exception()) is not None:
            on_retry(state.attempt_number, exc)

    return Retrying(
        retry=retry_if_exception(is_transient),
        stop=stop_after_attempt(tries) | stop_after_delay(total_seconds),
        wait=wait_exponential(multiplier=backoff_seconds, max=MAX_WAIT_SECONDS)
        + wait_random(0, backoff_seconds),
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
