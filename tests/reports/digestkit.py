"""Made-up plan decisions for the pure digest tests."""

from __future__ import annotations

from datetime import datetime

from inboxwarden.policy.message import MessageInfo
from inboxwarden.policy.planning import Decision
from inboxwarden.policy.rules import Action, Rule

RULES = {
    "invoices": Rule(name="invoices", action=Action.MOVE, target="Bokföring/{year}", basis="BFL"),
    "newsletters": Rule(name="newsletters", action=Action.DELETE),
    "keep": Rule(name="keep", action=Action.KEEP, basis="Avtal"),
    "default": Rule(name="default", action=Action.REPORT),
}
ACTIONS = {
    "invoices": ("move", "Bokföring/2026"),
    "newsletters": ("delete", "Trash"),
    "keep": ("keep", None),
    "default": ("report", None),
}


def decision(
    uid: int,
    when: datetime,
    rule: str = "default",
    *,
    subject: str = "Hej",
    sender: str = "Per <per@annat.se>",
    overdue: bool = False,
    size: int = 2048,
    action: str | None = None,
) -> Decision:
    """One due message as the plan would decide it."""
    default_action, target = ACTIONS[rule]
    message = MessageInfo(uid, when, size, frozenset(), {"from": sender, "subject": subject})
    return Decision(message, RULES[rule], action or default_action, target, overdue)
