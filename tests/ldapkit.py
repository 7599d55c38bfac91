"""A real OpenLDAP ``slapd`` for the LDAP directory tests, on loopback, seeded.

``LocalSlapd`` runs Debian's slapd from a throwaway ``slapd.conf`` (mdb backend) in a
temporary directory, on two loopback ports: ``ldap://`` (StartTLS) and ``ldaps://``,
with a certificate from the test kit's throwaway CA. It is seeded with `slapadd`
before it starts, so seeding a few hundred people takes a fraction of a second.

Active Directory is emulated where the mapping reads it: a small schema adds AD's
``userAccountControl`` and ``department`` (with AD's OIDs), and slapd's size limits
stop a search without paging after `PAGE_LIMIT` entries and refuse larger pages, as
AD's ``MaxPageSize`` limits a page to 1,000 entries.

The people and groups it holds are in ``tests/ldap_people.py``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from inboxwarden.demo.localserver._certificates import Certificates, make_certificates
from inboxwarden.demo.localserver._process import LOOPBACK, free_ports
from tests.ldap_people import BIND_DN, BIND_PASSWORD, GROUP_SETTINGS, PEOPLE_BASE, SUFFIX, seed_ldif

SLAPD = Path("/usr/sbin/slapd")
SLAPADD = Path("/usr/sbin/slapadd")
PAGE_LIMIT = 100
"""Entries per page and in a search without paging: the test slapd's size limit."""

UNNAMED_LOOPBACK = "127.0.0.2"
"""slapd also listens here for LDAPS; the server certificate does not name it."""

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
