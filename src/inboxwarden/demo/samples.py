"""A made-up digest and a made-up weekly report, for previews, screenshots and tests.

An administrator who overrides a template wants to see it before Monday morning, and
``scripts/render_screenshots.py`` wants the same page every time: both render these
instead of a real mailbox. Every name, number and subject here is invented; the
personnummer and phone number are valid-looking on purpose, so the preview shows the
masking at work.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from inboxwarden.directory.entries import Directory
from inboxwarden.policy.cycle import Cycle
from inboxwarden.policy.message import MessageInfo
from inboxwarden.policy.people import Employee, Language, Mode
from inboxwarden.policy.planning import Decision
from inboxwarden.policy.rules import Action, Match, Rule
from inboxwarden.reports.digest import Digest, build_digest
from inboxwarden.reports.weekly import (
    FanoutFigures,
    ManagerReport,
    WeekFigures,
    WeekKey,
    build_manager_reports,
)
from inboxwarden.reports.weeks import IsoWeek

__all__ = [
    "DIGEST_AT",
    "MANAGER",
    "ORGANISATION",
    "POLICY_URL",
    "REPORT_AT",
    "STOCKHOLM",
    "sample_digest",
    "sample_report",
]

STOCKHOLM = ZoneInfo("Europe/Stockholm")
ORGANISATION = "Exempel AB"
POLICY_URL = "https://intranet.exempel.se/integritetspolicy"
#: The digest goes out on the November boundary's first working morning.
DIGEST_AT = datetime(2026, 11, 2, 7, 0, tzinfo=STOCKHOLM)
#: The report is made on a Monday morning and covers the week before.
REPORT_AT = datetime(2026, 11, 16, 7, 0, tzinfo=STOCKHOLM)
MANAGER = "maria.chef@exempel.se"

_RULES = {
    "invoices": Rule(
        name="invoices",
        action=Action.MOVE,
        target="Bokföring/{year}",
        basis="Bokföringslagen (1999:1078) 7 kap.",
    ),
    "customers": Rule(
        name="customers",
        action=Action.MOVE,
        target="Kunder/{from_domain}",
        match=Match(from_domain=["kund.se"]),
        basis="Avtal – GDPR art. 6.1 b",
    ),
    "newsletters": Rule(name="newsletters", action=Action.DELETE),
    "default": Rule(name="default", action=Action.REPORT),
}

# (day in October, hour, sender, subject, size, rule, target)
_MAIL = (
    (1, 9, "Fortnox <faktura@fortnox.se>", "Faktura 10234 för 770923-1232", 48_211, "invoices"),
    (
        2,
        14,
        "Lena Ek <lena.ek@kund.se>",
        "Re: Avtal och offert för supportavtal 2027",
        183_400,
        "customers",
    ),
    (
        3,
        8,
        "Branschnytt <nyhetsbrev@branschnytt.se>",
        "Veckans nyheter: AI i kundtjänst",
        92_800,
        "newsletters",
    ),
    (
        6,
        11,
        "Per Holm <per.holm@annat.se>",
        "Ring mig på 070-123 45 67 om leveransen",
        6_120,
        "default",
    ),
    (8, 16, "Fortnox <faktura@fortnox.se>", "Påminnelse: faktura 10198", 51_004, "invoices"),
    (
        10,
        10,
        "Johan Berg <johan@client.example>",
        "Ärende #4471: inloggningen fungerar inte",
        24_900,
        "customers",
    ),
    (
        10,
        12,
        "Branschnytt <nyhetsbrev@branschnytt.se>",
        "Veckans nyheter: säkerhet",
        88_300,
        "newsletters",
    ),
    (
        14,
        9,
        "HR <hr@exempel.se>",
        "Lönespecifikation oktober – 19811218-9876",
        2_340_000,
        "default",
    ),
    (
        17,
        13,
        "Eventbolaget <info@event.example>",
        "Inbjudan: frukostseminarium",
        340_000,
        "newsletters",
    ),
    (21, 15, "Lena Ek <lena.ek@kund.se>", "Protokoll från styrgruppsmötet", 612_000, "customers"),
    (24, 8, "Sara Lind <sara.lind@annat.se>", "Lunch på fredag?", 3_200, "default"),
    (29, 17, "Fortnox <faktura@fortnox.se>", "Faktura 10311", 47_950, "invoices"),
)


def sample_digest(
    language: Language = "sv", mode: Mode = "enforce", now: datetime = DIGEST_AT
) -> Digest:
    """Twelve due messages of one employee, across every outcome the shipped rules have."""
    cycle = Cycle(timezone=STOCKHOLM)
    decisions = []
    for uid, (day, hour, sender, subject, size, rule_name) in enumerate(_MAIL, start=1):
        rule = _RULES[rule_name]
        arrived = datetime(2026, 10, day, hour, 7 * uid % 60, tzinfo=STOCKHOLM)
        domain = sender.rpartition("@")[2].rstrip(">")
        target = {
            "invoices": f"Bokföring/{arrived.year}",
            "customers": f"Kunder/{domain}",
            "newsletters": "Trash",
        }.get(rule_name)
        message = MessageInfo(uid, arrived, size, frozenset(), {"from": sender, "subject": subject})
        decisions.append(Decision(message, rule, rule.action.value, target, overdue=False))
    return build_digest(
        decisions,
        mailbox="anna.lind@exempel.se",
        language=language,
        mode=mode,
        window=cycle.window(now),
        organisation=ORGANISATION,
        policy_url=POLICY_URL,
    )


_TEAM = (
    # address, overdue per week over eight weeks (None: no run), inbox now, its weekly
    # growth, legal hold
    ("anna.lind@exempel.se", (4, 6, 0, 0, 2, 9, 3, 0), 212, -8, False),
    ("bjorn.ek@exempel.se", (None, None, 12, 15, 8, 21, 14, 6), 1_204, 35, False),
    ("carin.berg@exempel.se", (0, 0, 0, 0, 0, 3, 0, 0), 87, 2, True),
    ("david.holm@exempel.se", (2, 3, 5, 1, 0, 7, 4, 2), 460, -12, False),
    ("eva.sjoberg@exempel.se", (0, 1, 0, 0, 0, 2, 0, 0), 154, 0, False),
)


def sample_report(language: Language = "sv", now: datetime = REPORT_AT) -> ManagerReport:
    """A team of five over eight weeks, one member on legal hold, one new this autumn."""
    week = IsoWeek.containing(now, STOCKHOLM).shifted(-1)
    employees = [
        Employee(email, manager=MANAGER, team="Support", legal_hold=hold, language=language)
        for email, _, _, _, hold in _TEAM
    ]
    # Two colleagues in another team make the organisation's figure differ from the team's.
    employees += [
        Employee("fia.nord@exempel.se", manager="olof.chef@exempel.se", team="Ekonomi"),
        Employee("gustav.ny@exempel.se", manager="olof.chef@exempel.se", team="Ekonomi"),
    ]
    employees.append(Employee(MANAGER, team="Ledning", excluded=True, language=language))
    figures: dict[WeekKey, WeekFigures] = {}
    weeks = [week.shifted(-offset) for offset in range(7, -1, -1)]
    for email, overdue_by_week, inbox, growth, _ in _TEAM:
        for index, (when, overdue) in enumerate(zip(weeks, overdue_by_week, strict=True)):
            if overdue is None:
                continue
            figures[(email, when)] = WeekFigures(
                inbox=inbox - growth * (7 - index),
                due=overdue + 3 * (index % 3) + 1,
                overdue=overdue,
                moved=11 + 2 * index if overdue else 4,
                deleted=7 + index,
                runs=7,
            )
    for email in ("fia.nord@exempel.se", "gustav.ny@exempel.se"):
        figures[(email, week)] = WeekFigures(inbox=40, due=2, overdue=0, moved=3, deleted=5)
    findings = {
        ("bjorn.ek@exempel.se", week): FanoutFigures(count=3, external=2, high=1),
        ("david.holm@exempel.se", week): FanoutFigures(count=1, external=0, high=0),
    }
    [report] = build_manager_reports(
        Directory(tuple(employees)),
        figures,
        findings,
        week=week,
        tz=STOCKHOLM,
        now=now,
        organisation=ORGANISATION,
        default_language=language,
        policy_url=POLICY_URL,
        manager=MANAGER,
    )
    return report
