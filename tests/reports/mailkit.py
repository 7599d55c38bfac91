"""Helpers for the reports' tests against the real test Dovecot: configs, reading digests."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

from inboxwarden.demo.localserver import LocalDovecot
from inboxwarden.policy.message import OWN_MESSAGE_HEADER
from tests.kit.engine import RULES, write_config
from tests.kit.servers import session

POLICY_URL = "https://intranet.exempel.se/integritetspolicy"
SENDER = "InboxWarden <inboxwarden@exempel.se>"


def configure(
    tmp_path: Path,
    server: LocalDovecot,
    directory_rows: str,
    *,
    mode: str = "notify",
    rules: str = RULES,
    extra: str = "",
) -> Path:
    """A configuration like the engine tests', with a name, a policy and a digest sender."""
    config = write_config(
        tmp_path,
        server,
        [],
        mode=mode,
        rules=f'{rules}\n[digest]\nfrom = "{SENDER}"\n{extra}',
        directory_rows=directory_rows,
    )
    text = config.read_text(encoding="utf-8").replace(
        "[organisation]\n",
        f'[organisation]\nname = "Exempel AB"\npolicy_url = "{POLICY_URL}"\n',
        1,
    )
    config.write_text(text, encoding="utf-8")
    return config


@dataclass(frozen=True)
class Stored:
    """A message as it sits in a folder: UID, flags, arrival time and the parsed message."""

    uid: int
    flags: frozenset[str]
    internaldate: datetime
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)  # type: ignore[return-value]

    def part(self, subtype: str) -> str:
        body = self.message.get_body((subtype,))
        assert body is not None, f"no text/{subtype} part"
        return str(body.get_content())


def digests_in(server: LocalDovecot, mailbox: str, folder: str = "INBOX") -> list[Stored]:
    """Every message in *folder* that carries the digest header, oldest UID first."""
    with session(server, mailbox) as client:
        client.normalise_times = False
        client.select_folder(folder, readonly=True)
        uids = client.search(["HEADER", OWN_MESSAGE_HEADER, ""])
        fetched = client.fetch(uids, ["FLAGS", "INTERNALDATE", "BODY.PEEK[]"]) if uids else {}
    return [
        Stored(
            uid,
            frozenset(f.decode() if isinstance(f, bytes) else f for f in item[b"FLAGS"])
            - {"\\Recent"},
            item[b"INTERNALDATE"],
            item[b"BODY[]"],
        )
        for uid, item in sorted(fetched.items())
    ]
