"""The record of processing the configuration implies (docs/behaviour.md §9), for the DPO.

Built from the rules alone: each rule that keeps mail says where it keeps it, on which
legal basis and for how long, so the register cannot drift from what is enforced.
"""

from __future__ import annotations

from typing import Any

from inboxwarden.config import Settings
from inboxwarden.policy.rules import Action

__all__ = ["register_entries", "render_markdown"]


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


#: The register's words in the organisation's language (``organisation.language``).
_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Record of processing — e-mail",
        "intro": "Mail in the INBOX older than the monthly cycle is filed or deleted by these "
        "rules. Rules are tried in order; the first that matches decides.",
        "header": "| Rule | Action | Folder | Legal basis | Retention | Conditions |",
        "any": "any message",
        "kept": "Audit events and findings are kept {days} days.",
        "move": "move",
        "delete": "delete",
        "keep": "keep",
        "report": "report",
    },
    "sv": {
        "title": "Register över behandling — e-post",
        "intro": "E-post i inkorgen som är äldre än månadscykeln flyttas eller raderas enligt "
        "de här reglerna. Reglerna prövas i tur och ordning; den första som passar avgör.",
        "header": "| Regel | Åtgärd | Mapp | Rättslig grund | Lagringstid | Villkor |",
        "any": "alla meddelanden",
        "kept": "Granskningshändelser och fynd sparas i {days} dagar.",
        "move": "flytta",
        "delete": "radera",
        "keep": "behåll",
        "report": "rapportera",
    },
}


def render_markdown(settings: Settings) -> str:
    """The register as a Markdown document, in the organisation's language."""
    org = settings.organisation
    words = _WORDS[org.language]
    lines = [
        f"# {words['title']} ({org.name})",
        "",
        words["intro"],
        "",
        words["header"],
        "|---|---|---|---|---|---|",
    ]
    for e in register_entries(settings):
        lines.append(
            "| {rule} | {action} | {folder} | {basis} | {retention} | {conds} |".format(
                rule=e["rule"],
                action=words[e["action"]],
                folder=e["folder"] or "—",
                basis=e["basis"] or "—",
                retention=e["retention"] or "—",
                conds=", ".join(e["conditions"]) or words["any"],
            )
        )
    lines += ["", words["kept"].format(days=settings.audit.retention_days), ""]
    return "\n".join(lines)
