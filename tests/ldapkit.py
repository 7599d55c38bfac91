"""A real OpenLDAP ``slapd`` for the LDAP directory tests, and the people it holds.

``LocalSlapd`` runs Debian's slapd from a throwaway ``slapd.conf`` (mdb backend) in a
temporary directory, on two loopback ports: ``ldap://`` (StartTLS) and ``ldaps://``,
with a certificate from the test kit's throwaway CA. It is seeded with `slapadd`
before it starts, so seeding a few hundred people takes a fraction of a second.

Active Directory is emulated where the mapping reads it: a small schema adds AD's
``userAccountControl`` and ``department`` (with AD's OIDs), and slapd's size limit
caps a page at `PAGE_LIMIT` entries and refuses a search without paging above that,
as AD's ``MaxPageSize`` does at 1,000.

`PEOPLE` and the groups describe the directory once; `expected_csv()` writes the same
employees as the CSV source would list them, from the *expected* values, so a test
can compare the two sources.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from inboxwarden.localserver._certificates import Certificates, make_certificates
from inboxwarden.localserver._process import LOOPBACK, free_ports

SLAPD = Path("/usr/sbin/slapd")
SLAPADD = Path("/usr/sbin/slapadd")
SUFFIX = "dc=exempel,dc=se"
PEOPLE_BASE = f"ou=people,{SUFFIX}"
GROUPS_BASE = f"ou=groups,{SUFFIX}"
BIND_DN = f"cn=inboxwarden,ou=service,{SUFFIX}"
BIND_PASSWORD = "bind-secret-7Hq2"  # a throwaway test server's password
PAGE_LIMIT = 100
"""Entries per page and in a search without paging: the test slapd's size limit."""

UNNAMED_LOOPBACK = "127.0.0.2"
"""slapd also listens here for LDAPS; the server certificate does not name it."""
NORMAL, DISABLED = 512, 514  # userAccountControl: NORMAL_ACCOUNT, + ACCOUNTDISABLE (0x2)

_AD_SCHEMA = """\
# Two of Active Directory's attributes, with AD's OIDs, for the tests' slapd.
attributetype ( 1.2.840.113556.1.4.8 NAME 'userAccountControl'
    EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.2.141 NAME 'department'
    EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
# An auxiliary class to carry them (a private test OID: never registered, never shipped).
objectclass ( 1.3.6.1.4.1.99999.20261202.1 NAME 'inboxwardenAdUser' SUP top AUXILIARY
    MAY ( userAccountControl $ department ) )
"""

_SLAPD_CONF = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include {base}/ad-emulation.schema
pidfile {base}/slapd.pid
argsfile {base}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCACertificateFile {ca}
TLSCertificateFile {cert}
TLSCertificateKeyFile {key}
# A page holds at most {limit} entries, and so does a search without paging (AD: 1,000).
sizelimit size.soft={limit} size.hard={limit} size.pr={limit} size.prtotal=unlimited

database mdb
maxsize 268435456
suffix "{suffix}"
rootdn "cn=admin,{suffix}"
rootpw admin-{rootpw}
directory {base}/data
index objectClass eq
access to attrs=userPassword by anonymous auth by * none
access to * by dn.exact="{bind_dn}" read by * none
"""


def ensure_slapd_installed() -> None:
    """Install slapd and ldap-utils from Debian's packages when missing (root only).

    The preseeded ``slapd/no_configuration`` keeps the package from creating a system
    database and starting a system slapd on port 389: the tests run their own.
    """
    if SLAPD.exists() and SLAPADD.exists():
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise RuntimeError(
            f"OpenLDAP's slapd is not installed ({SLAPD} is missing); install it with: "
            "echo 'slapd slapd/no_configuration boolean true' | sudo debconf-set-selections"
            " && sudo apt-get install slapd ldap-utils"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(
        ["debconf-set-selections"],
        input="slapd slapd/no_configuration boolean true\n",
        text=True,
        env=env,
        check=True,
        capture_output=True,
    )
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "slapd", "ldap-utils"],
    ):
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {result.stderr.strip()[-2000:]}")


# -- the people ---------------------------------------------------------------------------


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


# -- the server ---------------------------------------------------------------------------


class LocalSlapd:
    """A disposable slapd on loopback: ``ldap_url`` (StartTLS) and ``ldaps_url``."""

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir
        self.certificates: Certificates | None = None
        self.port = 0
        self.tls_port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def ca_file(self) -> Path:
        assert self.certificates is not None
        return self.certificates.ca_cert

    @property
    def ldap_url(self) -> str:
        return f"ldap://localhost:{self.port}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://localhost:{self.tls_port}"

    def __enter__(self) -> LocalSlapd:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self.certificates = make_certificates(self.base_dir / "tls")
        (self.base_dir / "data").mkdir(parents=True, exist_ok=True)
        (self.base_dir / "ad-emulation.schema").write_text(_AD_SCHEMA)
        conf = self.base_dir / "slapd.conf"
        conf.write_text(
            _SLAPD_CONF.format(
                base=self.base_dir,
                ca=self.certificates.ca_cert,
                cert=self.certificates.cert_chain,
                key=self.certificates.private_key,
                limit=PAGE_LIMIT,
                suffix=SUFFIX,
                rootpw=os.urandom(8).hex(),
                bind_dn=BIND_DN,
            )
        )
        ldif = self.base_dir / "seed.ldif"
        ldif.write_text(seed_ldif(), encoding="utf-8")
        _run([str(SLAPADD), "-q", "-f", str(conf), "-l", str(ldif)])
        self.port, self.tls_port = free_ports(2)
        log = (self.base_dir / "slapd.log").open("wb")
        self._process = subprocess.Popen(
            [
                str(SLAPD),
                "-d",
                "0",
                "-f",
                str(conf),
                "-h",
                f"ldap://{LOOPBACK}:{self.port}/ ldaps://{LOOPBACK}:{self.tls_port}/"
                # Another loopback address, which the certificate does not name.
                f" ldaps://{UNNAMED_LOOPBACK}:{self.tls_port}/",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + 15
        while not (_listens(self.port) and _listens(self.tls_port)):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                output = (self.base_dir / "slapd.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"slapd did not start:\n{output}")
            time.sleep(0.05)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _listens(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=0.25):
            return True
    except OSError:
        return False


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {result.stderr.strip()[-2000:]}")


def new_slapd_dir() -> Path:
    """A directory for a slapd's files (not pytest's: the CA must outlive one test)."""
    return Path(tempfile.mkdtemp(prefix="iw-slapd-"))


def directory_toml(
    slapd: LocalSlapd,
    password_file: Path,
    *,
    url: str | None = None,
    filter: str = "(&(objectClass=inetOrgPerson)(mail=*))",
    groups: bool = True,
    page_size: int = 50,
    extra: str = "",
) -> str:
    """A ``[directory]`` table that reads this slapd as the service account."""
    password_file.write_text(BIND_PASSWORD + "\n")
    lines = [
        "[directory]",
        'source = "ldap"',
        f'url = "{url or slapd.ldap_url}"',
        f'ca_file = "{slapd.ca_file}"',
        f'bind_dn = "{BIND_DN}"',
        f'bind_password_file = "{password_file}"',
        f'base_dn = "{PEOPLE_BASE}"',
        f'filter = "{filter}"',
        f"page_size = {page_size}",
    ]
    if groups:
        lines += [f'{name} = "{dn}"' for name, dn in GROUP_SETTINGS.items()]
    return "\n".join(lines) + "\n" + extra
