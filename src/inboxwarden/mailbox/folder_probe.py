"""``check``'s look at a mailbox's folders: the namespace, and each folder name its rules
produce, probed on the server (see :meth:`~inboxwarden.imap.session.ImapSession.refusal`).
"""

from __future__ import annotations

from datetime import datetime

from inboxwarden.config import Settings
from inboxwarden.imap.session import ImapSession
from inboxwarden.policy.planning import MailboxFacts
from inboxwarden.policy.target_names import name_texts, target_names

__all__ = ["folder_lines"]


def folder_lines(
    settings: Settings, session: ImapSession, trash: str | None, no_trash: str
) -> list[str]:
    """``check``'s lines on folders: the namespace, and the exact folder names this
    mailbox's rules produce, each probed (see :meth:`ImapSession.refusal`)."""
    namespace = session.namespace()
    texts = name_texts(settings.all_rules, settings.domain_groups)
    chars = {c for c in texts if c.isascii() and not c.isalnum() and c not in " _/{}"}
    facts = MailboxFacts(
        namespace.separator,
        trash=trash,
        prefix=namespace.prefix,
        refused=session.refused_characters(chars),
        no_trash_reason=no_trash,
    )
    refused = "".join(sorted(facts.refused))
    lines = [
        f"folders: prefix {namespace.prefix!r}, separator {namespace.separator!r}"
        + (f", refuses {refused!r} in names (written as '_')" if refused else "")
    ]
    tz = settings.organisation.tz
    now = datetime.now(tz)
    for target in target_names(settings.all_rules, settings.domain_groups, facts, now=now, tz=tz):
        if target.name is None:
            lines.append(f"  rule {target.rule}: delete NOT POSSIBLE: {no_trash}")
            continue
        code = None if "{" in target.name else session.refusal(target.name)
        verdict = f"  NOT POSSIBLE: the server refuses it [{code}]" if code else ""
        lines.append(f"  rule {target.rule}: {target.action} → {target.name}{verdict}")
    return lines
