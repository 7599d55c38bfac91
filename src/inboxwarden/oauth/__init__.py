"""OAuth2 access tokens for XOAUTH2 / OAUTHBEARER logins (docs/behaviour.md §10).

The only package that imports ``msal`` and ``google-auth``; what leaves it is a
:class:`~inboxwarden.oauth.cache.TokenSource` handing out tokens as ``SecretStr``.

- Microsoft 365 (``microsoft.py``): the client-credentials flow of an app with the
  ``IMAP.AccessAsApp`` permission. One app token serves every mailbox (the mailbox is the
  XOAUTH2 ``user=``), fetched once and refreshed shortly before it expires.
- Google Workspace (``google.py``): a service account with domain-wide delegation mints
  one token per mailbox (the JWT's ``sub``), each cached until shortly before it expires.

The libraries are imported when a source is built, so a server that logs in with
passwords never loads them.
"""

from __future__ import annotations

from inboxwarden.oauth.cache import TokenCache, TokenSource

__all__ = ["TokenCache", "TokenSource"]
