"""What people read: the employee digest and the weekly manager report (docs/behaviour.md §7).

The flow, by module. Pure content first, then the shell that does I/O:

* `digest` — the due messages of one mailbox, grouped by outcome, subjects masked;
  `digest_due` tells the scheduler when a digest is due.
* `weeks`, `weekly` — ISO weeks, and per-member figures folded from the stored runs
  (which `StateStore.runs_between` and `StateStore.findings_between` read).
* `templating` — the Jinja2 templates (``templates/`` in the package, overridable from
  ``digest.templates_dir``) and the language-aware `Formatter`.
* `chart` — the report's PNG chart; `mime` — the multipart messages; `marker` — the
  digest's verifiable own header.
* `inbox` (IMAP APPEND, replacing older digests) and `smtp` (the relay) deliver.
* `digest_job` and `weekly_job` put it together for ``inboxwarden digest`` and
  ``inboxwarden report``; `demo_outputs` for ``inboxwarden demo``; `samples` feeds
  previews and screenshots.

What a template sees:

* ``digest.*.j2`` — ``digest`` (`Digest`: ``mailbox``, ``language``, ``kind``
  ``"boundary"|"reminder"``, ``mode``, ``now``, ``boundary``, ``enforcement_date``,
  ``reminder_date``, ``organisation``, ``policy_url``, ``total``, ``overdue``,
  ``automatic``, ``enforcing``, ``count(action)``, and ``groups``: each a `DigestGroup`
  with ``action``, ``count``, ``overdue``, ``more``, ``targets`` and ``items``, each a
  `DigestItem` with ``arrived``, ``sender_name``, ``sender_address``, ``subject``
  (masked), ``size``, ``rule``, ``action``, ``target``, ``overdue``) and ``fmt``.
* ``report.*.j2`` — ``report`` (`ManagerReport`: ``manager``, ``language``,
  ``organisation``, ``policy_url``, ``week``, ``start``, ``end``, ``last_day``,
  ``generated_at``, ``teams``, ``members`` (`MemberRow`: ``email``, ``team``,
  ``this_week``/``last_week`` (`WeekFigures`: ``inbox``, ``due``, ``overdue``,
  ``moved``, ``deleted``, ``runs``) or None, ``fanout`` (`FanoutFigures`: ``count``,
  ``external``, ``high``) or None, ``legal_hold``, ``compliant``, ``overdue_change``,
  ``inbox_change``), ``team_compliance``, ``last_week_compliance``,
  ``org_compliance``, ``org_members``, ``compliant_members``, ``measured_members``,
  ``totals``, ``overdue_change``, ``fanout_available``, ``fanout_totals``, ``trend``
  (`TrendPoint`: ``week``, ``overdue``, ``compliance``)), ``fmt``, and ``chart_src``.
* ``fmt`` (`Formatter`): ``date``, ``time``, ``longdate``, ``daymonth``, ``number``,
  ``size``, ``percent``, ``change``, ``week``, ``span``.
"""

from __future__ import annotations

from inboxwarden.demo.outputs import demo_digests, demo_report
from inboxwarden.reports.digest import Digest, DigestKind, build_digest, digest_due
from inboxwarden.reports.digest_job import DigestOutcome, digest_table, send_digests
from inboxwarden.reports.smtp import SmtpEndpoint
from inboxwarden.reports.weekly import ManagerReport
from inboxwarden.reports.weekly_job import (
    ReportOutcome,
    build_reports,
    report_table,
    send_reports,
    write_reports,
)
from inboxwarden.reports.weeks import IsoWeek

__all__ = [
    "Digest",
    "DigestKind",
    "DigestOutcome",
    "IsoWeek",
    "ManagerReport",
    "ReportOutcome",
    "SmtpEndpoint",
    "build_digest",
    "build_reports",
    "demo_digests",
    "demo_report",
    "digest_due",
    "digest_table",
    "report_table",
    "send_digests",
    "send_reports",
    "write_reports",
]
