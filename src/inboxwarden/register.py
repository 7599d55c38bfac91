"""The record of processing the configuration implies (SPEC §9), for the DPO.

Built from the rules alone: each rule that keeps mail says where it keeps it, on which
legal basis and for how long, so the register cannot drift from what is enforced.
"""

from __future__ import annotations

from typing import Any

from inboxwarden.config import Settings
from inboxwarden.rules import Action


def register_entries(settings: Settings) -> list[dict[str, Any]]:
    """One entry per rule, in rule order, including what is deleted or only reported."""
    entries = []
    for rule in settings.all_rules:
        m = rule.match
        conditions = sorted(k for k, v in m.model_dump(by_alias=True).items() if v is not None)
        entries.append(
            {
                "rule": rule.name,
                "action": rule.action.value,
                "folder": rule.target
                if rule.action is Action.MOVE
                else ("INBOX" if rule.action is Action.KEEP else None),
                "basis": rule.basis,
                "retention": rule.retention,
                "keeps_mail": rule.keeps_mail,
                "conditions": conditions,
            }
        )
    return entries


def render_markdown(settings: Settings) -> str:
    """The register as a Markdown document."""
    org = settings.organisation
    lines = [
        f"# Record of processing — e-mail ({org.name})",
        "",
        "Mail in the INBOX older than the monthly cycle is filed or deleted by these rules. "
        "Rules are tried in order; the first that matches decides.",
        "",
        "| Rule | Action | Folder | Legal basis | Retention | Conditions |",
        "|---|---|---|---|---|---|",
    ]
    for e in register_entries(settings):
        lines.append(
            "| {rule} | {action} | {folder} | {basis} | {retention} | {conds} |".format(
                rule=e["rule"],
                action=e["action"],
                folder=e["folder"] or "—",
                basis=e["basis"] or "—",
                retention=e["retention"] or "—",
                conds=", ".join(e["conditions"]) or "any message",
            )
        )
    lines += [
        "",
        f"Audit events and findings are kept {settings.audit.retention_days} days.",
        "",
    ]
    return "\n".join(lines)
