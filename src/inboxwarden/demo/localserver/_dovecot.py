"""LocalDovecot: one disposable Dovecot process tree on loopback ports."""

from __future__ import annotations

import atexit
import base64
import os
import re
import secrets
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any, Self

from inboxwarden.demo.localserver import _process
from inboxwarden.demo.localserver._account import ServiceAccount, check_reachable
from inboxwarden.demo.localserver._certificates import Certificates, make_certificates
from inboxwarden.demo.localserver._config import (
    SPECIAL_USE_FOLDERS,
    DovecotConfig,
    Layout,
    OAuth2Passdb,
    check_path,
)
from inboxwarden.demo.localserver._install import DOVEADM, DOVECOT, check_supported_version
from inboxwarden.errors import LocalServerError

__all__ = ["LocalDovecot"]

_START_TIMEOUT = 10.0  # seconds; a healthy start takes well under 0.2 s
_PORT_ATTEMPTS = 5

# A mailbox address that is also a safe file name and passwd-file field.
# "*" is left out: it separates the user from the master user at login.
_ADDRESS = re.compile(r"[a-z0-9!#$&'+=?^_`{|}~.-]+@[a-z0-9.-]+")
_RAWLOG_TIMESTAMP = re.compile(rb"^\d+\.\d+ ", re.MULTILINE)


class LocalDovecot:
    """A disposable Dovecot IMAP server on loopback, for ``inboxwarden demo`` and the tests.

    Everything it keeps lives under *base_dir* (configuration, certificates, users, mail,
    log); its sockets live in a short directory under ``/tmp`` because Unix socket paths
    are limited to about 100 bytes. Ports are picked when it starts: ``port`` speaks
    plain IMAP and offers STARTTLS, ``tls_port`` speaks implicit TLS, both verified with
    ``ca_cert_pem`` for ``localhost`` and ``127.0.0.1``.

    Users are added at any time. The master user logs in as any user, both as
    ``user*master`` and with SASL PLAIN and an authorization identity.
    """

    host = _process.LOOPBACK

    def __init__(
        self,
        base_dir: Path,
        *,
        master_user: str = "inboxwarden",
        master_password: str | None = None,
        imap_capability: str | None = None,
        separator: str = "/",
        trace: bool = False,
        oauth2: OAuth2Passdb | None = None,
        special_use_folders: Sequence[tuple[str, str]] = SPECIAL_USE_FOLDERS,
        layout: Layout | None = None,
        prefix: str = "",
        acl: str | None = None,
        reuse_processes: bool = False,
    ) -> None:
        """Prepares a server; nothing runs and nothing is written until it is used.

        *master_password* defaults to a random one (read it back from the attribute):
        other users of the machine can reach loopback ports too. *imap_capability*
        replaces Dovecot's capability list (see ``capability_without``). *separator*
        is the hierarchy separator: ``/`` stores folders as nested directories
        (``LAYOUT=fs``), ``.`` as Maildir++ ``.Parent.Child`` directories. *trace*
        records each IMAP session after login (``rawlog()``). *oauth2* adds XOAUTH2 and
        OAUTHBEARER logins checked by a token server; *special_use_folders* names the
        special-use folders (name, attribute; an empty attribute makes a plain folder),
        to look like Exchange (``EXCHANGE_FOLDERS``) or Gmail (``GMAIL_FOLDERS``).
        *layout* overrides what the separator implies (``maildir++`` with ``/`` is a
        common setup that refuses ``.`` in names; ``mbox`` needs ``/``); *prefix* is the
        personal namespace's prefix (``INBOX.`` as on cPanel hosts); *acl* is the text of
        a global ACL file (``pattern identifier rights`` lines) that switches the ACL
        plugin on, to make the server refuse chosen folders. *reuse_processes* lets
        login and imap processes serve many connections, as a busy production server
        does (for benchmarks: otherwise each login spawns two processes).
        """
        if separator not in ("/", "."):
            raise ValueError(f"separator must be '/' or '.', not {separator!r}")
        if layout == "mbox" and separator != "/":
            raise ValueError("the mbox layout needs separator '/'")
        if prefix and not prefix.endswith(separator):
            raise ValueError(f"prefix {prefix!r} must end with the separator {separator!r}")
        if not re.fullmatch(r"[A-Za-z0-9._-]+", master_user):
            raise ValueError(f"master user {master_user!r} must be letters, digits and . _ -")
        self.base_dir = check_path(Path(base_dir).absolute())
        self.master_user = master_user
        self.master_password = master_password or secrets.token_urlsafe(18)
        self.imap_capability = imap_capability
        self.separator = separator
        self.trace = trace
        self.oauth2 = oauth2
        self.special_use_folders = tuple(special_use_folders)
        self.layout: Layout | None = layout
        self.prefix = prefix
        self.acl = acl
        self.reuse_processes = reuse_processes
        self.port = 0
        self.tls_port = 0
        self.config_path = self.base_dir / "dovecot.conf"
        self.log_path = self.base_dir / "dovecot.log"
        self.ca_cert_pem = self.base_dir / "tls" / "ca.pem"
        self.account = ServiceAccount.for_this_process()
        self._users: dict[str, str] = {}
        self._master: subprocess.Popen[bytes] | None = None
        self._runtime_dir: Path | None = None
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        state = f"port={self.port} tls_port={self.tls_port}" if self.running else "stopped"
        return f"<LocalDovecot {self.base_dir} {state}>"

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Tells whether the Dovecot master process is alive."""
        return self._master is not None and self._master.poll() is None

    @property
    def users(self) -> Mapping[str, str]:
        """Maps each added address to its password."""
        return MappingProxyType(self._users)

    @property
    def mail_owner(self) -> tuple[int, int] | None:
        """Returns the uid and gid that files written beside Dovecot must carry, if not ours."""
        if self.account.needs_privilege_drop:
            return (self.account.uid, self.account.gid)
        return None

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        """Starts Dovecot and returns once it greets on its port; does nothing if it runs.

        Ports are picked free just before the start; should another process take one in
        between, Dovecot exits at once and the start is retried with new ports.
        """
        with self._lock:
            if self._master is not None:
                return
            check_supported_version()
            self._prepare_base_dir()
            runtime_dir = Path(tempfile.mkdtemp(prefix="iwd-", dir=_process.short_tmp()))
            # Dovecot wants its base_dir world-readable (clients find sockets there) and
            # would otherwise fix it with a warning.
            runtime_dir.chmod(0o755)
            try:
                self._hand_over(runtime_dir)
                self._master = self._launch(runtime_dir)
            except BaseException:
                shutil.rmtree(runtime_dir, ignore_errors=True)
                raise
            self._runtime_dir = runtime_dir
            atexit.register(self.stop)

    def stop(self) -> None:
        """Stops Dovecot and every process it started; safe to call more than once.

        SIGTERM lets Dovecot shut its services down in order (it then waits a second for
        them itself); whatever of the process group is left after that is killed, so no
        process outlives the server.
        """
        with self._lock:
            process, runtime_dir = self._master, self._runtime_dir
            self._master = self._runtime_dir = None
            if process is None:
                return
            atexit.unregister(self.stop)
            try:
                _process.terminate(process)
            finally:
                if runtime_dir is not None:
                    shutil.rmtree(runtime_dir, ignore_errors=True)

    def _launch(self, runtime_dir: Path) -> subprocess.Popen[bytes]:
        for _attempt in range(_PORT_ATTEMPTS):
            port, tls_port = _process.free_ports(2)
            config = self._config(runtime_dir, port, tls_port)
            self._write(self.config_path, config.render())
            log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
            process = self._spawn()
            try:
                taken = self._wait_until_ready(process, port, config.instance_name, log_offset)
            except BaseException:
                _process.terminate(process, at_once=True)
                raise
            if not taken:
                self.port, self.tls_port = port, tls_port
                return process
            # Dovecot would take two seconds to give up on its own.
            _process.terminate(process, at_once=True)
        raise LocalServerError(f"no free loopback ports after {_PORT_ATTEMPTS} attempts")

    def _spawn(self) -> subprocess.Popen[bytes]:
        drop: dict[str, Any] = {}
        if self.account.needs_privilege_drop:
            drop = {"user": self.account.uid, "group": self.account.gid, "extra_groups": []}
        with self._stderr_path.open("wb") as stderr:
            # -F keeps the master in the foreground, so this handle is the master and
            # stop() needs no pid file; a new session keeps a Ctrl-C meant for the
            # caller from killing Dovecot before stop() can shut it down in order.
            return subprocess.Popen(
                [str(DOVECOT), "-F", "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                start_new_session=True,
                **drop,
            )

    def _wait_until_ready(
        self, process: subprocess.Popen[bytes], port: int, instance_name: str, log_offset: int
    ) -> bool:
        """Waits for the greeting; returns True if a port was taken under Dovecot's feet.

        Dovecot reports a taken port in its log at once but exits only two seconds
        later, so the log is read rather than the exit awaited.
        """
        deadline = time.monotonic() + _START_TIMEOUT
        while True:
            status = process.poll()
            if "Address already in use" in _process.read_from(self.log_path, log_offset):
                return True
            if status is not None:
                output = self._stderr_path.read_text(errors="replace").strip()
                if "Address already in use" in output:
                    return True
                raise LocalServerError(
                    f"Dovecot exited with status {status} while starting: {output}"
                    f"{_process.tail(self.log_path)}"
                )
            # The master binds every listener before it starts a service, so a greeting
            # on one port means both are ready.
            if _process.greets(port, instance_name):
                return False
            if time.monotonic() > deadline:
                raise LocalServerError(
                    f"Dovecot did not greet on port {port} within {_START_TIMEOUT:.0f} s"
                    f"{_process.tail(self.log_path)}"
                )
            time.sleep(0.01)

    @property
    def _stderr_path(self) -> Path:
        return self.base_dir / "dovecot.stderr"

    def _config(self, runtime_dir: Path, port: int, tls_port: int) -> DovecotConfig:
        certificates = Certificates.in_directory(self.ca_cert_pem.parent)
        return DovecotConfig(
            runtime_dir=runtime_dir,
            instance_name=f"inboxwarden-{runtime_dir.name}",
            log_path=self.log_path,
            port=port,
            tls_port=tls_port,
            user=self.account.user,
            group=self.account.group,
            uid=self.account.uid,
            gid=self.account.gid,
            cert_chain=certificates.cert_chain,
            private_key=certificates.private_key,
            master_users_file=self.base_dir / "master-users",
            users_dir=self._users_dir,
            separator=self.separator,
            imap_capability=self.imap_capability,
            rawlog_dir=self._rawlog_root if self.trace else None,
            oauth2_args=self._oauth2_args if self.oauth2 is not None else None,
            special_use_folders=self.special_use_folders,
            layout=self.layout,
            prefix=self.prefix,
            acl_file=self._acl_file if self.acl is not None else None,
            reuse_processes=self.reuse_processes,
        )

    def _prepare_base_dir(self) -> None:
        self._make_dirs()
        tls_dir = self.ca_cert_pem.parent
        if not Certificates.in_directory(tls_dir).exist():
            make_certificates(tls_dir)
        self._hand_over(tls_dir, *tls_dir.iterdir())
        if self.oauth2 is not None:
            # The auth process runs as the service account and must read the CA itself.
            ca_copy = tls_dir / "oauth2-ca.pem"
            self._write(ca_copy, self.oauth2.ca_file.read_text())
            self._write(self._oauth2_args, self.oauth2.render(ca_copy))
        if self.acl is not None:
            self._write(self._acl_file, self.acl)
        self._write(
            self.base_dir / "master-users",
            f"{self.master_user}:{_password_field(self.master_password)}\n",
        )

    def _make_dirs(self) -> None:
        directories = [self.base_dir, self._users_dir, self.base_dir / "mail"]
        if self.trace:
            directories.append(self._rawlog_root)
        for directory in directories:
            directory.mkdir(parents=True, exist_ok=True)
        if self.account.needs_privilege_drop:
            check_reachable(self.base_dir, self.account)
            self._hand_over(*directories)

    def _hand_over(self, *paths: Path) -> None:
        """Gives *paths* to the service account when we are root (mail stays Dovecot's own)."""
        owner = self.mail_owner
        if owner is not None:
            for path in paths:
                os.lchown(path, *owner)

    def _write(self, path: Path, text: str) -> None:
        """Replaces *path* atomically, readable by the service account only."""
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(text)
        temporary.chmod(0o600)
        owner = self.mail_owner
        if owner is not None:
            os.chown(temporary, *owner)
        temporary.replace(path)

    # -- users and mail --------------------------------------------------------------

    def add_user(self, email: str, password: str) -> None:
        """Creates the user *email* (or changes its password); it can log in at once.

        The maildir appears on first use. A changed password of an existing user may
        take up to a second to apply (Dovecot re-reads a passwd-file at most once a
        second); new users are not affected.
        """
        address = _normalise(email)
        with self._lock:
            self._make_dirs()
            home = self.base_dir / "mail" / address
            self._write(
                self._users_dir / address,
                f"{address}:{_password_field(password)}:{self.account.uid}:"
                f"{self.account.gid}::{home}::\n",
            )
            if self.trace:
                rawlog_dir = self._rawlog_root / address
                rawlog_dir.mkdir(exist_ok=True)
                self._hand_over(rawlog_dir)
            self._users[address] = password

    def master_login(self, email: str) -> str:
        """Returns the login name with which the master user acts as *email*."""
        return f"{_normalise(email)}*{self.master_user}"

    def maildir(self, email: str) -> Path:
        """Returns the root of *email*'s maildir, which holds the INBOX."""
        return self.base_dir / "mail" / _normalise(email) / "Maildir"

    def mailbox_path(self, email: str, folder: str, *, create: bool = False) -> Path:
        """Returns the directory of *folder* in *email*'s maildir, asking Dovecot.

        Dovecot maps the name (separator, Maildir++ dots, modified UTF-7) itself, so the
        answer is right for either layout. With *create*, a missing folder is created
        and subscribed the way an IMAP CREATE would.
        """
        address = _normalise(email)
        path = Path(self.doveadm("mailbox", "path", "-u", address, folder).strip())
        if create and not (path / "cur").is_dir():
            if folder.upper() == "INBOX":
                # Opening the INBOX creates it.
                self.doveadm("mailbox", "status", "-u", address, "messages", "INBOX")
            else:
                self.doveadm("mailbox", "create", "-s", "-u", address, folder)
        return path

    def doveadm(self, *args: str) -> str:
        """Runs ``doveadm`` against this server and returns what it printed.

        Mail commands (``-u user``) need the server running: doveadm asks its auth
        process about the user. As root, doveadm switches to the service account itself.
        """
        if not self.running:
            raise LocalServerError(f"doveadm {' '.join(args)}: the server is not running")
        result = subprocess.run(
            [str(DOVEADM), "-c", str(self.config_path), *args],
            capture_output=True,
            encoding="utf-8",
            errors="replace",
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            raise LocalServerError(
                f"doveadm {' '.join(args)} failed with exit status {result.returncode}: "
                f"{result.stderr.strip()}"
            )
        return result.stdout

    def rawlog(self, email: str) -> list[bytes]:
        """Returns what the client sent in each of *email*'s sessions, oldest first.

        Dovecot records a session from the moment of login (the LOGIN or AUTHENTICATE
        itself is not in it) and writes each line as it arrives; the timestamps it adds
        are removed here, so the bytes are exactly the client's.
        """
        if not self.trace:
            raise LocalServerError("rawlog() needs a server started with trace=True")
        directory = self._rawlog_root / _normalise(email)
        sessions = sorted(directory.glob("*.in"), key=_rawlog_order)
        return [_RAWLOG_TIMESTAMP.sub(b"", path.read_bytes()) for path in sessions]

    def ssl_context(self) -> ssl.SSLContext:
        """Returns a client context that trusts this server's CA, and nothing else."""
        return ssl.create_default_context(cafile=str(self.ca_cert_pem))

    @property
    def _oauth2_args(self) -> Path:
        return self.base_dir / "dovecot-oauth2.conf.ext"

    @property
    def _acl_file(self) -> Path:
        return self.base_dir / "global-acl"

    @property
    def _users_dir(self) -> Path:
        return self.base_dir / "users"

    @property
    def _rawlog_root(self) -> Path:
        return self.base_dir / "rawlog"


def _normalise(email: str) -> str:
    """Lower-cases *email* like Dovecot does (``auth_username_format = %Lu``)."""
    address = email.strip().lower()
    if not _ADDRESS.fullmatch(address) or ".." in address:
        raise ValueError(f"{email!r} is not an address the local server can store")
    return address


def _password_field(password: str) -> str:
    # Base64 so that any password fits a passwd-file line, colons and all.
    return "{PLAIN.b64}" + base64.b64encode(password.encode()).decode("ascii")


def _rawlog_order(path: Path) -> tuple[str, int, int]:
    # Dovecot names the files <yyyymmdd-hhmmss>.<pid>.<n>.in.
    stamp, pid, number, _suffix = path.name.split(".")
    return (stamp, int(pid), int(number))
