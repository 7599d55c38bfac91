"""Benchmark: many small mailboxes, as the service's nightly scan meets them.

A private Dovecot gets *N* users (1,000 by default) with *M* messages each (200 by
default), written as maildir files hard-linked from one template (the arrival date is
the file's mtime) and indexed by Dovecot before any timing. Then, timed, as
subprocesses against a state database that already exists:

1. ``inboxwarden run --once`` in enforce mode with ``imap.max_connections = 16`` and
   two rules: newsletters are deleted, the rest is moved into monthly folders;
2. the same again, with nothing changed in between: every INBOX now holds only mail
   that is not due yet, and the incremental scans should find each one unchanged;
3. a bare client doing the same job on another *N* mailboxes seeded alike
   (``minimal_service_client.py``: no state, no journal, no proof, no audit), right
   after the first run: what a plain client doing this job costs on this machine.

Prints per run the wall time, mailboxes per minute, the child's peak memory (max RSS),
IMAP commands per mailbox (as the engine counts them, after login), how many
mailboxes were found unchanged, the child's CPU time (user + system: what the
client itself costs, whatever else runs on the machine) and the whole machine's busy CPU
time over the run (on an idle machine, the rest is Dovecot's); then the second run's
speed-up. Figures taken while other work runs on the machine are noisy. inboxwarden's
modules are byte-compiled first, as installing it does.

The server is Dovecot's default (two new processes per connection); with
``--reuse-processes`` its login and imap processes serve one connection after another,
as a busy production server's do: then the logins cost Dovecot far less.
``--server-dir DIR`` puts the server's files (and the mail) elsewhere than the
temporary directory, e.g. on a tmpfs: the benchmark machines' ext4 has no journal,
which makes every file Dovecot creates cost a scan of recently freed inodes.

Usage: ``python benchmarks/bench_service.py [--mailboxes 1000] [--messages 200]``;
``--profile FILE`` records a py-spy profile (raw, for flame graphs) of the first run,
``--profile-second FILE`` of the second.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import random
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime, make_msgid
from pathlib import Path
from zoneinfo import ZoneInfo

import inboxwarden
from inboxwarden.demo.localserver import (
    LocalDovecot,
    ensure_dovecot_installed,
    write_maildir_messages,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 11, 12, 3, 0, tzinfo=STOCKHOLM)  # enforcement date 2026-11-09 has passed
START = NOW - timedelta(days=90)
#: Goals of the service issue on a 2-core machine.
GOAL_RATE, GOAL_MB, GOAL_SPEEDUP = 3000, 200, 5.0
#: Connections at once, for inboxwarden (``imap.max_connections``) and the plain client.
CONNECTIONS = 16
#: The boundary whose enforcement date has passed at NOW: what arrived before it is
#: overdue (the minimal client is told; inboxwarden works it out).
BOUNDARY = datetime(2026, 11, 1, tzinfo=STOCKHOLM)

CONFIG = """
[organisation]
domains = ["exempel.se"]
[mode]
default = "enforce"
[imap]
host = "127.0.0.1"
port = {port}
security = "plain"
auth = "master"
master_user = "{master}"
password_file = "master.secret"
max_connections = {connections}
[directory]
path = "employees.csv"
[state]
url = "sqlite:///{state}"
[audit]
hmac_key_file = "audit.key"
[[rules]]
name = "newsletters"
match.list_id = "*"
action = "delete"
[[rules]]
name = "monthly"
action = "move"
target = "Arkiv/{{year}}-{{month}}"
basis = "Bokföringslagen (1999:1078) 7 kap."
"""

SENDERS = (
    ("Fortnox <faktura@fortnox.se>", None),
    ("Lena Svensson <lena@kund.se>", None),
    ("Per Holm <per@exempel.se>", None),
    ("Nyheter <news@branschnytt.se>", "<v.branschnytt.se>"),
    ("Erbjudanden <deals@butik.example>", "<offers.butik.example>"),
)


def messages(count: int) -> list[tuple[bytes, datetime]]:
    """*count* small messages over three months, a third of them from mailing lists."""
    rng = random.Random(count)
    span = (NOW - START).total_seconds()
    out = []
    for i in range(count):
        when = START + timedelta(seconds=span * i / count)
        sender, list_id = rng.choice(SENDERS)
        domain = sender.rpartition("@")[2].rstrip(">")
        lines = [
            f"From: {sender}",
            "To: Anställd <anstalld@exempel.se>",
            f"Subject: Meddelande {i}",
            f"Date: {format_datetime(when)}",
            f"Message-ID: {make_msgid(domain=domain)}",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
        ]
        if list_id:
            lines.append(f"List-Id: {list_id}")
        body = "Hej!\n\n" + "Lite text om ingenting särskilt. " * rng.randint(5, 60) + "\n"
        out.append(("\r\n".join(lines).encode() + b"\r\n\r\n" + body.encode(), when))
    return out


@dataclass
class RunFigures:
    """One ``run --once``."""

    seconds: float
    cpu_seconds: float
    machine_cpu_seconds: float
    peak_mb: float
    commands: float
    unchanged: int
    moved: int
    deleted: int
    failed: int


class Bench:
    """The server, the users and the working directory of one benchmark."""

    def __init__(self, server: LocalDovecot, base: Path, mailboxes: int, count: int) -> None:
        self.server, self.base = server, base
        self.users = [f"anstalld{i:05d}@exempel.se" for i in range(mailboxes)]
        #: The minimal client's mailboxes, seeded alike.
        self.bare_users = [f"bar{i:05d}@exempel.se" for i in range(mailboxes)]
        self.count = count
        self.state = base / "state.db"
        self.config = base / "inboxwarden.toml"
        #: Another checkout's ``src`` to time instead of this one (``--child-src``).
        self.child_src: str | None = None

    def seed(self) -> None:
        """Every user's INBOX: the same files, hard-linked; then indexed by Dovecot."""
        template = "template@exempel.se"
        self.server.add_user(template, "pw")
        write_maildir_messages(self.server, template, "INBOX", messages(self.count), sync=False)
        source = self.server.mailbox_path(template, "INBOX") / "cur"
        files = [entry.path for entry in os.scandir(source)]
        for address in self.users + self.bare_users:
            self.server.add_user(address, "pw")

        def fill(address: str) -> None:
            cur = self.server.mailbox_path(address, "INBOX", create=True) / "cur"
            for path in files:
                os.link(path, cur / os.path.basename(path))
            # Dovecot indexes the new files now, not in the timed run.
            self.server.doveadm("mailbox", "status", "-u", address, "messages", "INBOX")

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(fill, self.users + self.bare_users))

    def configure(self) -> None:
        (self.base / "master.secret").write_text(self.server.master_password)
        (self.base / "audit.key").write_text(secrets.token_hex(16))
        (self.base / "employees.csv").write_text("email\n" + "\n".join(self.users) + "\n")
        (self.base / "bare-users.txt").write_text("\n".join(self.bare_users) + "\n")
        self.config.write_text(
            CONFIG.format(
                port=self.server.port,
                master=self.server.master_user,
                state=self.state,
                connections=CONNECTIONS,
            ),
            encoding="utf-8",
        )
        # An administrator's database exists, made by the inboxwarden that is timed.
        make = f"from inboxwarden.state import StateStore; StateStore.open({self.url!r}).close()"
        subprocess.run([sys.executable, "-c", make], check=True, env=_env(self.child_src))

    @property
    def url(self) -> str:
        return f"sqlite:///{self.state}"

    def run(self, profile: str | None) -> RunFigures:
        command = [sys.executable, "-m", "inboxwarden", "--config", str(self.config)]
        command += ["--log-level", "WARNING", "run", "--once", "--now", NOW.isoformat()]
        if profile:
            spy = ["py-spy", "record", "--subprocesses", "--gil", "-r", "200", "-f", "raw"]
            command = [*spy, "-o", profile, "--", *command]
        seconds, cpu, busy, peak = self._timed(command, "inboxwarden run")
        with sqlite3.connect(self.state) as db:
            (run_id,) = db.execute(
                "SELECT id FROM runs WHERE kind = 'run' ORDER BY started_at DESC LIMIT 1"
            ).fetchone()
            rows = db.execute(
                "SELECT status, counts FROM mailbox_runs WHERE run_id = ?", (run_id,)
            ).fetchall()
        counts = [json.loads(c) for _, c in rows]
        return RunFigures(
            seconds=seconds,
            cpu_seconds=cpu,
            machine_cpu_seconds=busy,
            peak_mb=peak,
            commands=sum(c["imap_commands"] for c in counts) / max(1, len(counts)),
            unchanged=sum(c.get("unchanged", 0) for c in counts),
            moved=sum(c["moved"] for c in counts),
            deleted=sum(c["deleted"] for c in counts),
            failed=sum(status != "ok" for status, _ in rows),
        )

    def run_bare(self) -> RunFigures:
        """The minimal client on its own mailboxes (see ``minimal_service_client.py``)."""
        script = Path(__file__).with_name("minimal_service_client.py")
        command = [sys.executable, str(script), self.server.host, str(self.server.port)]
        command += [self.server.master_user, str(self.base / "master.secret")]
        command += [
            str(self.base / "bare-users.txt"),
            BOUNDARY.isoformat(),
            STOCKHOLM.key,
            str(CONNECTIONS),
        ]
        seconds, cpu, busy, peak = self._timed(command, "the minimal client")
        moved = int((self.base / "output.txt").read_text().split()[-1])
        return RunFigures(seconds, cpu, busy, peak, 0.0, 0, moved, 0, 0)

    def _timed(self, command: list[str], what: str) -> tuple[float, float, float, float]:
        """Runs *command*; returns its wall and CPU seconds, the machine's busy CPU
        seconds meanwhile and its peak memory in MB."""
        out = self.base / "output.txt"
        with out.open("wb") as sink:
            busy = _machine_busy_seconds()
            start = time.perf_counter()
            child = subprocess.Popen(
                command, stdout=sink, stderr=sink, cwd=self.base, env=_env(self.child_src)
            )
            # wait4: this child's own peak memory, not the largest of all children.
            _, status, usage = os.wait4(child.pid, 0)
            seconds = time.perf_counter() - start
            busy = _machine_busy_seconds() - busy
        if os.waitstatus_to_exitcode(status) != 0:
            print(out.read_text(errors="replace")[-3000:], file=sys.stderr)
            raise SystemExit(f"{what} failed")
        return seconds, usage.ru_utime + usage.ru_stime, busy, usage.ru_maxrss / 1024


def _machine_busy_seconds() -> float:
    """CPU time all cores spent busy since boot (Linux /proc/stat: all but idle and iowait)."""
    with open("/proc/stat", encoding="ascii") as stat:
        ticks = [int(n) for n in stat.readline().split()[1:]]
    busy = sum(ticks[:8]) - ticks[3] - ticks[4]  # the first 8: guest time is inside user
    return busy / os.sysconf("SC_CLK_TCK")


def _env(source: str | None) -> dict[str, str]:
    """The environment for the child: the inboxwarden of *source* (a ``src`` directory),
    else the one this process imported."""
    source = source or str(Path(inboxwarden.__file__).resolve().parents[1])
    return {**os.environ, "PYTHONPATH": os.pathsep.join([source, os.environ.get("PYTHONPATH", "")])}


def show(title: str, figures: RunFigures, mailboxes: int) -> None:
    rate = mailboxes / figures.seconds * 60
    print(
        f"{title:13} {figures.seconds:7.1f} s (CPU {figures.cpu_seconds:5.1f} s, "
        f"machine {figures.machine_cpu_seconds:5.1f} s)  "
        f"{rate:7,.0f} mailboxes/min  "
        f"peak {figures.peak_mb:4.0f} MB  {figures.commands:5.1f} IMAP commands/mailbox  "
        f"moved {figures.moved:,} deleted {figures.deleted:,}  "
        f"unchanged {figures.unchanged:,}  failed {figures.failed}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mailboxes", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=200, help="per mailbox")
    parser.add_argument("--profile", metavar="FILE", help="py-spy profile of the first run")
    parser.add_argument("--profile-second", metavar="FILE", help="… of the second run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directories")
    parser.add_argument(
        "--child-src", metavar="DIR", help="time the inboxwarden of another checkout's src/"
    )
    parser.add_argument(
        "--reuse-processes",
        action="store_true",
        help="Dovecot's login and imap processes serve many connections (production-like)",
    )
    parser.add_argument(
        "--server-dir", metavar="DIR", help="where the server's files go (default: $TMPDIR)"
    )
    args = parser.parse_args()
    ensure_dovecot_installed()
    # Bytecode, as an installed copy has it (pip compiles on install): a checkout run
    # under PYTHONDONTWRITEBYTECODE would compile every module again at each start.
    source = args.child_src or str(Path(inboxwarden.__file__).resolve().parents[1])
    compileall.compile_dir(Path(source) / "inboxwarden", quiet=1)
    base = Path(tempfile.mkdtemp(prefix="iw-bench-service-"))
    # Reachable by dovecot's unprivileged account.
    server_dir = Path(tempfile.mkdtemp(prefix="iw-bench-srv-", dir=args.server_dir))
    try:
        with LocalDovecot(
            server_dir,
            master_password=secrets.token_urlsafe(12),
            reuse_processes=args.reuse_processes,
        ) as server:
            bench = Bench(server, base, args.mailboxes, args.messages)
            bench.child_src = args.child_src
            start = time.perf_counter()
            bench.seed()
            bench.configure()
            print(
                f"{args.mailboxes:,} mailboxes of {args.messages} messages seeded and indexed "
                f"in {time.perf_counter() - start:.0f} s",
                flush=True,
            )
            first = bench.run(args.profile)
            show("first run", first, args.mailboxes)
            bare = bench.run_bare()
            print(
                f"{'minimal':13} {bare.seconds:7.1f} s (CPU {bare.cpu_seconds:5.1f} s, "
                f"machine {bare.machine_cpu_seconds:5.1f} s)  "
                f"{args.mailboxes / bare.seconds * 60:7,.0f} mailboxes/min  "
                f"peak {bare.peak_mb:4.0f} MB  moved {bare.moved:,}",
                flush=True,
            )
            if bare.moved != first.moved + first.deleted:
                raise SystemExit(
                    f"the minimal client moved {bare.moved:,} messages, inboxwarden "
                    f"{first.moved + first.deleted:,}: they did not do the same job"
                )
            second = bench.run(args.profile_second)
            show("second run", second, args.mailboxes)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
            shutil.rmtree(server_dir, ignore_errors=True)
    rate = args.mailboxes / first.seconds * 60
    speedup = first.seconds / second.seconds
    peak = max(first.peak_mb, second.peak_mb)
    print(
        f"\nfirst run {rate:,.0f} mailboxes/min (goal ≥ {GOAL_RATE:,}), "
        f"peak memory {peak:.0f} MB (goal < {GOAL_MB}), "
        f"unchanged second run {speedup:.1f}× faster (goal ≥ {GOAL_SPEEDUP:.0f}×); "
        f"the first run took {first.seconds / bare.seconds:.2f}× the minimal client's time "
        f"({args.mailboxes / bare.seconds * 60:,.0f} mailboxes/min) and "
        f"{first.cpu_seconds / bare.cpu_seconds:.2f}× its CPU"
    )


if __name__ == "__main__":
    main()
