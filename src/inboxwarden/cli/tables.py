"""What ``plan`` and ``run`` print: readable tables, and the JSON object of docs/behaviour.md §13.

Messages appear only by date, size and HMAC reference, never by subject or address;
a folder whose name may carry personal data appears as its HMAC (`recorded_target`).
"""

from __future__ import annotations

from typing import Any

from inboxwarden.mailbox.enforcement import MailboxOutcome
from inboxwarden.mailbox.scan_job import RunSummary
from inboxwarden.policy.planning import MailboxPlan, Tally, recorded_target
from inboxwarden.policy.references import Referencer

__all__ = ["plan_json", "plan_table", "run_table"]


def _iso(value: Any) -> str:
    return str(value.isoformat(timespec="seconds"))


def _personal_rules(plan: MailboxPlan | None) -> frozenset[str]:
    """The rules of *plan* whose folder names are shown as HMACs."""
    if plan is None:
        return frozenset()
    return frozenset(d.rule.name for d in plan.decisions if d.rule.folder_names_are_personal)


def plan_json(summary: RunSummary, referencer: Referencer, detail: bool = False) -> dict[str, Any]:
    """``plan --format json``: ``{"now", "boundary", "enforcement_date", "mailboxes": [...]}``."""
    mailboxes = []
    for o in summary.outcomes:
        personal = _personal_rules(o.plan)
        entry: dict[str, Any] = {
            "mailbox": o.mailbox,
            "mode": o.mode,
            "status": o.status,
            "inbox": o.plan.inbox if o.plan else 0,
            "due": o.plan.due if o.plan else 0,
            "overdue": o.plan.overdue if o.plan else 0,
            "held": o.plan.held if o.plan else 0,
            "skipped": o.skipped,
            "actions": [
                {
                    "rule": t.rule,
                    "action": t.action,
                    "target": recorded_target(t.target, t.rule in personal, referencer),
                    "count": t.overdue,
                    "due": t.due,
                    "blocked": t.blocked,
                }
                for t in (o.plan.tallies() if o.plan else [])
            ],
        }
        if o.error:
            entry["error"] = o.error
        if detail and o.plan:
            entry["messages"] = [
                {
                    "date": _iso(d.message.internaldate),
                    "size": d.message.size,
                    "ref": referencer.ref(d.message),
                    "rule": d.rule.name,
                    "action": d.action,
                    "target": recorded_target(
                        d.target, d.rule.folder_names_are_personal, referencer
                    ),
                    "overdue": d.overdue,
                    "blocked": d.blocked,
                }
                for d in sorted(o.plan.decisions, key=lambda d: d.message.internaldate)
            ]
        mailboxes.append(entry)
    return {
        "now": _iso(summary.now),
        "boundary": _iso(summary.boundary),
        "enforcement_date": _iso(summary.enforcement_date),
        "mailboxes": mailboxes,
    }


def _header(summary: RunSummary) -> str:
    phase = "enforcing" if summary.now >= summary.enforcement_date else "grace period"
    return (
        f"As of {summary.now:%Y-%m-%d %H:%M %Z}: boundary {summary.boundary:%Y-%m-%d}, "
        f"enforcement {summary.enforcement_date:%Y-%m-%d} ({phase})"
    )


def _grid(rows: list[list[str]], indent: str = "") -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for row in rows:
        cells = [
            c.rjust(w) if c.isdigit() else c.ljust(w) for c, w in zip(row, widths, strict=True)
        ]
        out.append(indent + "  ".join(cells).rstrip())
    return out


def plan_table(summary: RunSummary, referencer: Referencer, detail: bool = False) -> str:
    """``plan``: per mailbox, then per rule, action and target."""
    lines = [_header(summary), ""]
    for o in summary.outcomes:
        if o.plan is None:
            lines.append(f"{o.mailbox}  [{o.mode}]  FAILED: {o.error}")
            continue
        p = o.plan
        personal = _personal_rules(p)
        held = f", {p.held} held (legal hold)" if p.held else ""
        skipped = f", {o.skipped} unreadable (skipped)" if o.skipped else ""
        if p.user_deleted:
            skipped += f", {p.user_deleted} marked deleted by the user (left alone)"
        counts = f"inbox {p.inbox}, due {p.due}, overdue {p.overdue}"
        lines.append(f"{o.mailbox}  [{o.mode}]  {counts}{held}{skipped}")
        tallies = p.tallies()
        if tallies:
            rows = [["rule", "action", "target", "due", "overdue"]]
            rows += [
                [
                    t.rule,
                    t.action,
                    _target(t, recorded_target(t.target, t.rule in personal, referencer)),
                    str(t.due),
                    str(t.overdue),
                ]
                for t in tallies
            ]
            lines += _grid(rows, "    ")
        if detail:
            for d in sorted(p.decisions, key=lambda d: d.message.internaldate):
                when = f"{d.message.internaldate:%Y-%m-%d %H:%M}"
                target = recorded_target(d.target, d.rule.folder_names_are_personal, referencer)
                outcome = f"{d.rule.name} → {d.action} {target or ''}".rstrip()
                outcome += "  NOT POSSIBLE" if d.blocked else ""
                ref = referencer.ref(d.message)
                lines.append(f"      {when}  {d.message.size:>9}  {ref}  {outcome}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _target(t: Tally, shown: str | None) -> str:
    """The folder as shown (*shown*: its name or HMAC), and what stops the server."""
    if t.blocked is None:
        return shown or ""
    return f"{shown or '-'}  NOT POSSIBLE: {t.blocked}"


def run_table(summary: RunSummary) -> str:
    """``run --once``: one line of counts per mailbox, then the totals."""
    columns = [
        "inbox",
        "due",
        "overdue",
        "flagged",
        "unflagged",
        "moved",
        "deleted",
        "held",
        "refused",
        "skipped",
    ]
    rows = [["mailbox", "mode", "status", *columns]]
    for o in summary.outcomes:
        counts = o.counts()
        rows.append([o.mailbox, o.mode, _status(o)] + [str(counts[c]) for c in columns])
    lines = [_header(summary), "", *_grid(rows)]
    for o in summary.outcomes:
        reasons = dict.fromkeys(o.applied.reasons)  # each reason once, in order
        lines += [f"  {o.mailbox}: refused: {reason}" for reason in reasons]
    failed = _failed_note(summary.failed)
    if failed:
        lines += ["", failed]
    if summary.busy:
        lines += [
            "",
            f"{len(summary.busy)} mailbox(es) busy: another inboxwarden process was working "
            "on them; this run left them alone.",
        ]
    return "\n".join(lines) + "\n"


def _status(o: MailboxOutcome) -> str:
    if o.status in ("ok", "busy"):
        return o.status
    if o.status == "partial":
        return "PARTIAL (server refused)"
    return f"FAILED ({o.error})"


def _failed_note(failed: list[MailboxOutcome]) -> str:
    if not failed:
        return ""
    return (
        f"{len(failed)} mailbox(es) failed or were refused in part; "
        "they will be retried on the next run."
    )
