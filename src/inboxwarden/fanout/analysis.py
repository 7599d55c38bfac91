"""What counts as a CC fan-out finding, and how severe it is (docs/behaviour.md §6). Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from inboxwarden.detectors import Kind
from inboxwarden.fanout.recipients import Recipients

__all__ = ["IDENTITY_KINDS", "Finding", "Thresholds"]

#: Identity numbers sent outside the organisation are the worst kind of spread.
IDENTITY_KINDS = frozenset({Kind.PERSONNUMMER, Kind.SAMORDNINGSNUMMER})


@dataclass(frozen=True, slots=True)
class Thresholds:
    """``fanout.max_cc`` and ``fanout.max_recipients``."""

    max_cc: int = 3
    max_recipients: int = 10

    def exceeded(self, recipients: Recipients) -> bool:
        """True when the message went to more people than the policy allows."""
        return recipients.cc_count > self.max_cc or recipients.total > self.max_recipients


@dataclass(frozen=True, slots=True)
class Finding:
    """A message that spread personal data to too many people; no value, no address."""

    mailbox: str
    folder: str
    date: datetime
    ref: str
    recipients: int
    cc: int
    external: int
    kinds: frozenset[Kind]

    @property
    def severity(self) -> str:
        """``high`` for identity numbers sent outside the organisation, else ``medium``."""
        return "high" if self.external and self.kinds & IDENTITY_KINDS else "medium"

    def as_json(self) -> dict[str, object]:
        """The object ``fanout --format json`` prints (docs/behaviour.md §13)."""
        return {
            "mailbox": self.mailbox,
            "folder": self.folder,
            "date": self.date.isoformat(timespec="seconds"),
            "ref": self.ref,
            "recipients": self.recipients,
            "cc": self.cc,
            "external": self.external,
            "kinds": sorted(k.value for k in self.kinds),
            "severity": self.severity,
        }
