"""The people, managers and groups the test slapd holds, and what they must become.

`PEOPLE` and `GROUPS` describe the directory once: `seed_ldif()` writes it for slapadd,
and `expected_csv()` writes the same employees as the CSV source would list them, from
the *expected* values (the sets below are written out, not computed from the groups),
so a test can compare the two sources.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SUFFIX = "dc=exempel,dc=se"
PEOPLE_BASE = f"ou=people,{SUFFIX}"
GROUPS_BASE = f"ou=groups,{SUFFIX}"
BIND_DN = f"cn=inboxwarden,ou=service,{SUFFIX}"
BIND_PASSWORD = "bind-secret-7Hq2"  # a throwaway test server's password
NORMAL, DISABLED = 512, 514  # userAccountControl: NORMAL_ACCOUNT, + ACCOUNTDISABLE (0x2)


@dataclass(frozen=True)
class Person:
    """One person entry, and what the directory should make of it."""

    uid: str
    mail: str
    manager: str | None = None
    """The manager's uid (under ``ou=people``), or a full DN when it contains ``=``."""
    team: str | None = None
    language: str | None = None
    """``preferredLanguage`` as written in the directory."""
    account_control: int | None = NORMAL
    category: str | None = None
    """``businessCategory``: the run and report tests select their few people by it."""
    base: str = PEOPLE_BASE

    @property
    def dn(self) -> str:
        return f"uid={self.uid},{self.base}"

    def manager_dn(self) -> str | None:
        if self.manager is None:
            return None
        return self.manager if "=" in self.manager else f"uid={self.manager},{PEOPLE_BASE}"


def _p(i: int) -> str:
    return f"p{i:03d}"


DIRECTOR = Person("director", "vd@exempel.se", base=f"ou=board,{SUFFIX}", team="Ledning")
"""The managers' manager, outside the people's base: read by DN, not an employee."""
MANAGERS = [
    Person(f"m{n:02d}", f"m{n:02d}@exempel.se", DIRECTOR.dn, "Ledning") for n in range(1, 11)
]
GONE_MANAGER = f"uid=gone,{PEOPLE_BASE}"
RUN_PILOTS = ("p001", "p005", "p010", "p020", "p050", "p299")
REPORT_PILOTS = ("p060", "p070")


def _person(i: int) -> Person:
    uid = _p(i)
    language = {0: "en-US", 1: "sv"}.get(i % 3)
    if i == 7:
        language = "de-DE"  # no texts in German: kept, with the default language
    category = (
        "pilot-run" if uid in RUN_PILOTS else "pilot-report" if uid in REPORT_PILOTS else None
    )
    return Person(
        uid,
        f"{uid}@exempel.se",
        manager=GONE_MANAGER if i == 300 else f"m{i % 10 + 1:02d}",
        team=f"Team {i % 10 + 1}",
        language=language,
        account_control=DISABLED if i == 299 else None if i == 298 else NORMAL,
        category=category,
    )


PEOPLE = [_person(i) for i in range(1, 301)]
BROKEN = Person("broken", "not-an-address", manager="m01", team="Team 1")
EVERYONE = [*MANAGERS, *PEOPLE, BROKEN]
"""The entries under ``ou=people`` (the director is elsewhere)."""


@dataclass(frozen=True)
class Group:
    """A ``groupOfNames``; members are uids under ``ou=people`` or other groups' cns."""

    cn: str
    people: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    others: tuple[str, ...] = field(default=())
    """Full DNs of members that are neither (people outside the search)."""

    @property
    def dn(self) -> str:
        return f"cn={self.cn},{GROUPS_BASE}"

    def member_dns(self) -> list[str]:
        # Spelt in another case and with spaces, as another tool would: DNs compare anyway.
        people = [f"UID={uid}, OU=People, DC=exempel, DC=se" for uid in self.people]
        return people + [f"cn={cn},{GROUPS_BASE}" for cn in self.groups] + list(self.others)


def _range(first: int, last: int) -> tuple[str, ...]:
    return tuple(_p(i) for i in range(first, last + 1))


GROUPS = [
    Group("legal-hold", ("p001", "p002"), ("litigation",)),
    Group("litigation", ("p003",), ("litigation-deep",)),
    Group("litigation-deep", ("p004",)),
    Group("excluded", ("p005", "p006")),
    Group("wave-observe", _range(10, 19)),
    Group("wave-notify", (*_range(20, 39), "p010"), ("wave-notify-extra",)),
    Group("wave-notify-extra", _range(40, 44)),
    Group("wave-enforce", _range(50, 99), ("cycle-a",), (DIRECTOR.dn,)),
    Group("cycle-a", ("p100",), ("cycle-b",)),
    Group("cycle-b", ("p101",), ("cycle-a",)),
]
GROUP_SETTINGS = {
    "legal_hold_group": f"cn=legal-hold,{GROUPS_BASE}",
    "excluded_group": f"cn=excluded,{GROUPS_BASE}",
    "observe_group": f"cn=wave-observe,{GROUPS_BASE}",
    "notify_group": f"cn=wave-notify,{GROUPS_BASE}",
    "enforce_group": f"cn=wave-enforce,{GROUPS_BASE}",
}

# What the groups must mean, written out rather than computed from GROUPS.
LEGAL_HOLD = {"p001", "p002", "p003", "p004"}  # p003, p004 through nested groups
EXCLUDED = {"p005", "p006", "p299"}  # p299's account is disabled
OBSERVE = set(_range(10, 19))
NOTIFY = set(_range(20, 44))  # p010 is in both waves: the more cautious one wins
ENFORCE = {*_range(50, 99), "p100", "p101"}  # p100, p101 through a cycle of groups


def expected_csv() -> str:
    """The directory as the CSV source would list it: what the LDAP source must equal."""
    rows = ["email,manager,team,language,mode,legal_hold,excluded"]
    for person in EVERYONE:
        if person is BROKEN:
            continue
        manager = {m.dn: m.mail for m in [*MANAGERS, DIRECTOR]}.get(person.manager_dn() or "", "")
        language = {"en-US": "en", "sv": "sv"}.get(person.language or "", "")
        uid = person.uid
        mode = (
            "observe"
            if uid in OBSERVE
            else "notify"
            if uid in NOTIFY
            else "enforce"
            if uid in ENFORCE
            else ""
        )
        flags = ["true" if uid in LEGAL_HOLD else "", "true" if uid in EXCLUDED else ""]
        rows.append(",".join([person.mail, manager, person.team or "", language, mode, *flags]))
    return "\n".join(rows) + "\n"


def seed_ldif() -> str:
    """The whole directory as LDIF for slapadd."""
    blocks = [
        f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: exempel\no: Exempel AB",
    ]
    for ou in ("people", "groups", "service", "board"):
        blocks.append(f"dn: ou={ou},{SUFFIX}\nobjectClass: organizationalUnit\nou: {ou}")
    blocks.append(
        f"dn: {BIND_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
        f"cn: inboxwarden\nuserPassword: {BIND_PASSWORD}"
    )
    for person in [DIRECTOR, *EVERYONE]:
        lines = [
            f"dn: {person.dn}",
            "objectClass: inetOrgPerson",
            "objectClass: inboxwardenAdUser",
            f"uid: {person.uid}",
            f"cn: Person {person.uid}",
            f"sn: {person.uid}",
            f"mail: {person.mail}",
        ]
        if person.manager_dn():
            lines.append(f"manager: {person.manager_dn()}")
        if person.team:
            lines.append(f"department: {person.team}")
        if person.language:
            lines.append(f"preferredLanguage: {person.language}")
        if person.account_control is not None:
            lines.append(f"userAccountControl: {person.account_control}")
        if person.category:
            lines.append(f"businessCategory: {person.category}")
        blocks.append("\n".join(lines))
    for group in GROUPS:
        members = "\n".join(f"member: {dn}" for dn in group.member_dns())
        blocks.append(f"dn: {group.dn}\nobjectClass: groupOfNames\ncn: {group.cn}\n{members}")
    return "\n\n".join(blocks) + "\n"
