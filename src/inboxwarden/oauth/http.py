"""The HTTPS session both token clients use, trusting a private CA when configured."""

from __future__ import annotations

from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import requests

DEFAULT_TIMEOUT = 30.0


class _Session(requests.Session):
    """A session whose ``verify`` and timeout hold, whatever the environment says.

    requests lets ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` override a session's own
    ``verify`` (psf/requests#3829), so ``oauth.ca_file`` would be ignored on machines
    that set them. Proxies still come from the environment.
    """

    def __init__(self, ca_file: Path | None, timeout: float) -> None:
        super().__init__()
        self._pinned = str(ca_file) if ca_file is not None else None
        self._timeout = timeout
        if self._pinned is not None:
            self.verify = self._pinned

    def merge_environment_settings(
        self,
        url: str | bytes | None,
        proxies: MutableMapping[str, str] | None,
        stream: bool | None,
        verify: bool | str | None,
        cert: Any,
    ) -> Any:
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if self._pinned is not None:
            settings["verify"] = self._pinned
        return settings

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self._timeout)
        return super().request(method, url, *args, **kwargs)


def https_session(ca_file: Path | None, timeout: float = DEFAULT_TIMEOUT) -> requests.Session:
    """A session for the token endpoint; *ca_file* replaces the system's trust store."""
    return _Session(ca_file, timeout)


__all__ = ["https_session"]
