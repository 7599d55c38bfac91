"""Sends mail through the configured SMTP relay: the only module that imports smtplib.

Implicit TLS (RFC 8314, port 465), STARTTLS (RFC 3207, port 587) with a verified
certificate, or plain text to loopback only, the same stance as for IMAP (docs/behaviour.md §10).
AUTH uses the secret from ``smtp.password_file`` or the environment, never the TOML.
smtplib's and ssl's exceptions are translated once, here, into :class:`DeliveryError`;
its text names the class and the SMTP code, never a server reply, which can echo
addresses.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from pydantic import SecretStr

from inboxwarden.config import SmtpSettings, read_secret
from inboxwarden.errors import ConfigError, DeliveryError
from inboxwarden.transport import Security, is_loopback

__all__ = ["SmtpEndpoint", "probe", "send"]


@dataclass(frozen=True, slots=True)
class SmtpEndpoint:
    """Where the relay is, how the connection is secured, and who logs in."""

    host: str
    port: int
    security: Security = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    ca_file: Path | None = None
    timeout: float = 30.0

    @classmethod
    def from_settings(cls, smtp: SmtpSettings) -> SmtpEndpoint:
        """The relay of ``[smtp]``; reads the password up front, so a missing file stops early.

        Plain text is refused unless the relay is on loopback (a local Postfix).
        """
        endpoint = cls(
            host=smtp.host,
            port=smtp.port,
            security=smtp.security,
            username=smtp.username,
            password=read_secret(smtp.password, smtp.password_file, "smtp.password_file")
            if smtp.username
            else None,
            # `ca_file` is read when [smtp] has it (a private CA); else the system's CAs.
            ca_file=getattr(smtp, "ca_file", None),
        )
        endpoint.check()
        return endpoint

    def check(self) -> None:
        """Refuse plain text to anything but loopback (docs/behaviour.md §10)."""
        if self.security == "plain" and not is_loopback(self.host):
            raise ConfigError(
                "field 'smtp.security': plain text is only allowed to a relay on loopback; "
                "use tls or starttls"
            )


def send(endpoint: SmtpEndpoint, message: EmailMessage) -> None:
    """Hand *message* to the relay; raises :class:`DeliveryError` when it is not accepted."""
    with _delivery_errors(), _logged_in(endpoint) as client:
        client.send_message(message)


def probe(endpoint: SmtpEndpoint) -> None:
    """Connect, secure and log in as :func:`send` would, then quit: ``check`` sends nothing.

    Raises :class:`DeliveryError` naming what failed, as a send would.
    """
    with _delivery_errors(), _logged_in(endpoint) as client:
        client.noop()


@contextmanager
def _logged_in(endpoint: SmtpEndpoint) -> Iterator[smtplib.SMTP]:
    endpoint.check()
    context = ssl.create_default_context(cafile=str(endpoint.ca_file) if endpoint.ca_file else None)
    client: smtplib.SMTP
    if endpoint.security == "tls":
        client = smtplib.SMTP_SSL(
            endpoint.host, endpoint.port, timeout=endpoint.timeout, context=context
        )
    else:
        client = smtplib.SMTP(endpoint.host, endpoint.port, timeout=endpoint.timeout)
    with client:
        if endpoint.security == "starttls":
            client.starttls(context=context)
        if endpoint.username:
            if endpoint.password is None:
                raise ConfigError("smtp.password_file: needed for smtp.username")
            client.login(endpoint.username, endpoint.password.get_secret_value())
        yield client


@contextmanager
def _delivery_errors() -> Iterator[None]:
    """smtplib's and ssl's exceptions as one :class:`DeliveryError` with a reason."""
    try:
        yield
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"the SMTP relay refused the login ({exc.smtp_code})") from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise DeliveryError("the SMTP relay lacks a needed extension (STARTTLS or AUTH)") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(f"the SMTP relay refused {len(exc.recipients)} recipient(s)") from exc
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"the SMTP relay answered {exc.smtp_code}") from exc
    except ssl.SSLCertVerificationError as exc:
        raise DeliveryError("the SMTP relay's certificate could not be verified") from exc
    except (smtplib.SMTPException, OSError) as exc:
        # OSError covers refused connections, timeouts and other ssl.SSLErrors.
        detail = f" ({exc.strerror})" if isinstance(exc, OSError) and exc.strerror else ""
        raise DeliveryError(f"cannot reach the SMTP relay: {type(exc).__name__}{detail}") from exc
