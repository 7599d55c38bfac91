"""The Dovecot 2.3 configuration of the local server, rendered from plain values.

Nothing is included from ``/etc/dovecot``: the file is complete, so a machine's own
Dovecot setup can neither break nor leak into tests. Every setting that differs from
Dovecot's defaults carries the reason in a comment in the rendered file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = [
    "DOVECOT_CAPABILITIES",
    "EXCHANGE_CAPABILITIES",
    "EXCHANGE_FOLDERS",
    "GMAIL_CAPABILITIES",
    "GMAIL_FOLDERS",
    "SPECIAL_USE_FOLDERS",
    "DovecotConfig",
    "Layout",
    "OAuth2Passdb",
    "capability_without",
    "check_path",
]

# What Dovecot 2.3.19 advertises after login with the settings below. Setting
# imap_capability replaces the whole list (pre- and post-login alike; there is no
# "-MOVE" syntax), so a weaker server is emulated with this list minus some names.
DOVECOT_CAPABILITIES: tuple[str, ...] = (
    "IMAP4rev1",
    "SASL-IR",
    "LOGIN-REFERRALS",
    "ID",
    "ENABLE",
    "IDLE",
    "SORT",
    "SORT=DISPLAY",
    "THREAD=REFERENCES",
    "THREAD=REFS",
    "THREAD=ORDEREDSUBJECT",
    "MULTIAPPEND",
    "URL-PARTIAL",
    "CATENATE",
    "UNSELECT",
    "CHILDREN",
    "NAMESPACE",
    "UIDPLUS",
    "LIST-EXTENDED",
    "I18NLEVEL=1",
    "CONDSTORE",
    "QRESYNC",
    "ESEARCH",
    "ESORT",
    "SEARCHRES",
    "WITHIN",
    "CONTEXT=SEARCH",
    "LIST-STATUS",
    "BINARY",
    "MOVE",
    "SNIPPET=FUZZY",
    "PREVIEW=FUZZY",
    "PREVIEW",
    "STATUS=SIZE",
    "SAVEDATE",
    "LITERAL+",
    "NOTIFY",
    "SPECIAL-USE",
)

# Special-use folders every mailbox gets (RFC 6154), created and subscribed on first login.
SPECIAL_USE_FOLDERS: tuple[tuple[str, str], ...] = (
    ("Drafts", "\\Drafts"),
    ("Sent", "\\Sent"),
    ("Trash", "\\Trash"),
    ("Junk", "\\Junk"),
)

# Dovecot expands %-variables in paths and splits values on spaces; paths made only of
# these characters need neither quoting nor escaping.
_SAFE_PATH = re.compile(r"[\w./@+-]+")

_DH_PARAMETERS = Path("/usr/share/dovecot/dh.pem")

#: How folders are stored, as hosting setups choose: ``fs`` nests directories,
#: ``maildir++`` is Maildir's ``.Parent.Child`` (Dovecot's default, which then refuses
#: ``.`` inside a name), ``mbox`` is one file per folder (Debian's default setup).
Layout = Literal["fs", "maildir++", "mbox"]

#: Special-use folders as Exchange Online names them (English mailbox; LIST carries the
#: attributes though SPECIAL-USE is not advertised), and its Archive, which has none.
EXCHANGE_FOLDERS: tuple[tuple[str, str], ...] = (
    ("Drafts", "\\Drafts"),
    ("Sent Items", "\\Sent"),
    ("Deleted Items", "\\Trash"),
    ("Junk Email", "\\Junk"),
    ("Archive", ""),
)

#: Gmail's system labels under ``[Gmail]`` (names are localised per user; these are English).
GMAIL_FOLDERS: tuple[tuple[str, str], ...] = (
    ("[Gmail]/Drafts", "\\Drafts"),
    ("[Gmail]/Sent Mail", "\\Sent"),
    ("[Gmail]/Trash", "\\Trash"),
    ("[Gmail]/Spam", "\\Junk"),
    ("[Gmail]/All Mail", "\\All"),
)


#: Exchange Online's capabilities after login (ecosystem §1) that Dovecot also has: no
#: CONDSTORE, QRESYNC, ESEARCH, SPECIAL-USE or ENABLE.
EXCHANGE_CAPABILITIES = (
    "IMAP4rev1 SASL-IR UIDPLUS ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+ MOVE"
)

#: Gmail's capabilities (ecosystem §2) that Dovecot also has.
GMAIL_CAPABILITIES = (
    "IMAP4rev1 UNSELECT IDLE NAMESPACE ID CHILDREN UIDPLUS ENABLE MOVE CONDSTORE ESEARCH "
    "LIST-EXTENDED LIST-STATUS SPECIAL-USE"
)


@dataclass(frozen=True)
class OAuth2Passdb:
    """An ``oauth2`` passdb that accepts XOAUTH2 and OAUTHBEARER logins.

    Dovecot 2.3 posts the login name and the token to *grant_url* as a password grant
    (``use_grant_password``) and accepts the login when the answer's ``email`` is the
    login name and ``active`` is ``true``. Plain introspection would send the token
    alone, and one app token serves many mailboxes, so it cannot say which one is meant.
    *ca_file* is the CA that the grant endpoint's HTTPS certificate is verified with.
    """

    grant_url: str
    ca_file: Path

    def render(self, ca_copy: Path) -> str:
        """The passdb's ``args`` file (``dovecot-oauth2.conf.ext``)."""
        return "\n".join(
            [
                f"grant_url = {self.grant_url}",
                "use_grant_password = yes",
                "# Dovecot needs a client to post as; the test token server ignores it.",
                "client_id = dovecot",
                "client_secret = dovecot",
                f"tls_ca_cert_file = {ca_copy}",
                "username_attribute = email",
                "active_attribute = active",
                "active_value = true",
                "timeout_msecs = 10000",
                "",
            ]
        )


#: Dovecot's "high-performance" login mode, and imap processes that serve one connection
#: after another: what a busy production server runs, instead of two new processes per
#: connection (every user here has the same system account, which reuse needs).
_REUSED_LOGIN = ("  service_count = 0", "  process_min_avail = 2")
_REUSED_IMAP = ("service imap {", "  service_count = 0", "  process_min_avail = 4", "}")


def capability_without(*names: str) -> str:
    """Returns Dovecot's capability list minus *names*, for ``imap_capability``.

    Only the advertisement changes: Dovecot still executes a command it no longer
    lists, just as a client that ignores CAPABILITY could still send it. That is what
    a test of "the client checks before it uses MOVE" needs.
    """
    wanted = {name.upper() for name in names}
    unknown = wanted - {name.upper() for name in DOVECOT_CAPABILITIES}
    if unknown:
        raise ValueError(f"Dovecot does not advertise {', '.join(sorted(unknown))}")
    return " ".join(name for name in DOVECOT_CAPABILITIES if name.upper() not in wanted)


def check_path(path: Path) -> Path:
    """Returns *path*, or raises ValueError when Dovecot's configuration could not hold it."""
    if not _SAFE_PATH.fullmatch(str(path)):
        raise ValueError(
            f"{path} cannot be used by the local Dovecot: use a path of letters, digits "
            "and . _ - + @ / only (no spaces, no %)"
        )
    return path


@dataclass(frozen=True)
class DovecotConfig:
    """Everything the configuration file depends on."""

    runtime_dir: Path
    instance_name: str
    log_path: Path
    port: int
    tls_port: int
    user: str
    group: str
    uid: int
    gid: int
    cert_chain: Path
    private_key: Path
    master_users_file: Path
    users_dir: Path
    separator: str
    imap_capability: str | None
    rawlog_dir: Path | None
    oauth2_args: Path | None = None
    special_use_folders: tuple[tuple[str, str], ...] = SPECIAL_USE_FOLDERS
    layout: Layout | None = None
    prefix: str = ""
    acl_file: Path | None = None
    reuse_processes: bool = False

    @property
    def mail_location(self) -> str:
        """Where and how mail is stored; the layout defaults to what the separator implies."""
        layout = self.layout or ("fs" if self.separator == "/" else "maildir++")
        if layout == "mbox":
            return "mbox:~/mail:INBOX=~/mbox"
        return "maildir:~/Maildir" + (":LAYOUT=fs" if layout == "fs" else "")

    def render(self) -> str:
        """Returns the text of ``dovecot.conf``."""
        lines = [
            "# Generated by inboxwarden.demo.localserver: a disposable server for demo and tests.",
            "protocols = imap",
            "listen = 127.0.0.1",
            f"base_dir = {self.runtime_dir}",
            f"state_dir = {self.runtime_dir}/state",
            f"instance_name = {self.instance_name}",
            f"log_path = {self.log_path}",
            "# Names this instance, so a start cannot mistake another server on its port for it.",
            f"login_greeting = Dovecot ready ({self.instance_name}).",
            "",
            "# Rootless: every process runs as one unprivileged account, and nothing chroots.",
            f"default_internal_user = {self.user}",
            f"default_internal_group = {self.group}",
            f"default_login_user = {self.user}",
            f"first_valid_uid = {self.uid}",
            f"first_valid_gid = {self.gid}",
            "",
            "# Loopback only, so tests may log in without TLS; TLS is offered on both ports.",
            "disable_plaintext_auth = no",
            "ssl = yes",
            f"ssl_cert = <{self.cert_chain}",
            f"ssl_key = <{self.private_key}",
        ]
        if _DH_PARAMETERS.exists():
            lines.append(f"ssl_dh = <{_DH_PARAMETERS}")
        lines += [
            "",
            "auth_mechanisms = plain login"
            + (" xoauth2 oauthbearer" if self.oauth2_args is not None else ""),
            "auth_master_user_separator = *",
            "auth_verbose = yes",
            "# Answer a failed login at once (Dovecot still rounds up to its 0.5 s timer).",
            "auth_failure_delay = 0",
            "",
            f"mail_location = {self.mail_location}",
            "# The mail is thrown away after the run; waiting for the disk buys nothing.",
            "mail_fsync = never",
            "# Master-user logins of a concurrent run all come from 127.0.0.1.",
            "mail_max_userip_connections = 100",
        ]
        if self.imap_capability is not None:
            lines.append(f"imap_capability = {self.imap_capability}")
        if self.acl_file is not None:
            lines += [
                "# Rights from one global file (pattern, identifier, rights), to make the",
                "# server refuse chosen folders the way an administrator's ACLs would.",
                "mail_plugins = $mail_plugins acl",
                "protocol imap {",
                "  mail_plugins = $mail_plugins imap_acl",
                "}",
                "plugin {",
                f"  acl = vfile:{self.acl_file}",
                "  # The INBOX's 'k' right decides whether top-level folders may be created.",
                "  acl_defaults_from_inbox = yes",
                "}",
            ]
        if self.rawlog_dir is not None:
            lines += [
                "# Every IMAP session after login is recorded, client and server side.",
                f"rawlog_dir = {self.rawlog_dir}/%u",
            ]
        lines.append("")
        password_only: list[str] = []
        if self.oauth2_args is not None:
            password_only = ["  mechanisms = plain login"]
            lines += [
                "# Tokens go to the oauth2 passdb only, passwords to the passwd-files only.",
                "passdb {",
                "  driver = oauth2",
                "  mechanisms = xoauth2 oauthbearer",
                f"  args = {self.oauth2_args}",
                "}",
            ]
        lines += [
            "passdb {",
            "  driver = passwd-file",
            f"  args = {self.master_users_file}",
            *password_only,
            "  master = yes",
            "  # Check that the user the master logs in as exists.",
            "  result_success = continue",
            "}",
            "# One file per user: Dovecot re-reads a passwd-file at most once a second, and a",
            "# new file is read at once, so a user added now can log in now.",
            "passdb {",
            "  driver = passwd-file",
            f"  args = {self.users_dir}/%Lu",
            *password_only,
            "}",
            "userdb {",
            "  driver = passwd-file",
            f"  args = {self.users_dir}/%Lu",
            "}",
            "",
            "namespace inbox {",
            "  inbox = yes",
            f"  separator = {self.separator}",
        ]
        if self.prefix:
            lines.append(f"  prefix = {self.prefix}")
        for name, special_use in self.special_use_folders:
            # mailbox names here are without the namespace prefix.
            lines.append(f'  mailbox "{name}" {{')
            if special_use:
                lines.append(f"    special_use = {special_use}")
            lines += ["    auto = subscribe", "  }"]
        lines += [
            "}",
            "",
            "service imap-login {",
            "  chroot =",
            *(_REUSED_LOGIN if self.reuse_processes else ()),
            "  inet_listener imap {",
            f"    port = {self.port}",
            "  }",
            "  inet_listener imaps {",
            f"    port = {self.tls_port}",
            "    ssl = yes",
            "  }",
            "}",
            *(_REUSED_IMAP if self.reuse_processes else ()),
            "service anvil {",
            "  chroot =",
            "  # No one may connect, which switches off the growing per-IP delay after failed",
            "  # logins (up to 15 s): every test connects from 127.0.0.1.",
            "  unix_listener anvil-auth-penalty {",
            "    mode = 0",
            "  }",
            "}",
            "",
        ]
        return "\n".join(lines)
