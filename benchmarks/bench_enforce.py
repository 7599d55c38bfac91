"""Benchmark: `inboxwarden run --once` (enforce) against the server's own move, side by side.

For each INBOX size (20,000, 50,000 and 100,000 messages by default) the same mail is
seeded into a fresh mailbox per contestant in a private Dovecot (maildir files hard-linked
from one template: the arrival date is the file's mtime, and Dovecot indexes each mailbox
before the clock starts), then timed, in turn:

- ``inboxwarden run --once`` in enforce mode with five rules, on the **default**
  configuration (no ``batch_size`` / ``max_line_length``: the limits are learned from
  the server), as a subprocess, against a state database that already exists;
- the same with the hand tuning the README used to ask for (``batch_size = 20000``,
  ``max_line_length = 65536``), beside it;
- ``doveadm move`` doing the equivalent server-side move (no IMAP at all);
- a minimal client: one ``UID SEARCH`` and ``UID MOVE`` to one folder, over imapclient;
- the very moves inboxwarden makes (same UIDs, same folders), UIDs known in advance.

The runs are interleaved (round 1 of every contestant, then round 2, each round in a
rotated order), so a load change on the machine hits all of them alike. Prints per size
the times of every round, their medians, the ratios (median of the per-round ratios),
inboxwarden's peak memory (the child's own ``VmHWM``, see :func:`wait_with_peak`) and
its IMAP commands, then a summary. inboxwarden's modules are byte-compiled first, as
installing it does, so that no run pays for compiling them.
Usage: ``python benchmarks/bench_enforce.py [--messages 20000,50000,100000] [--repeat 3]``;
``--profile FILE`` records a py-spy profile of one default-configuration run instead.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import json
import os
import random
import re
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime, make_msgid
from pathlib import Path
from zoneinfo import ZoneInfo

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

import inboxwarden
from inboxwarden.demo.localserver import (
    LocalDovecot,
    ensure_dovecot_installed,
    write_maildir_messages,
)
from inboxwarden.demo.mail import SAMPLES, _render
from inboxwarden.imap import uidset
from inboxwarden.state import StateStore

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 11, 12, 3, 0, tzinfo=STOCKHOLM)  # enforcement date 2026-11-09 has passed
START = NOW - timedelta(days=89)
BOUNDARY = datetime(2026, 11, 1, tzinfo=STOCKHOLM)
TUNED = "batch_size = 20000\nmax_line_length = 65536"

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
{limits}
[directory]
path = "employees.csv"
[state]
url = "sqlite:///{state}"
[audit]
hmac_key_file = "audit.key"
[domain_groups]
customers = ["kund.se", "client.example"]
[[rules]]
name = "invoices"
match.from_domain = ["fortnox.se"]
action = "move"
target = "Bokföring/{{year}}"
basis = "Bokföringslagen (1999:1078) 7 kap."
[[rules]]
name = "newsletters"
match.list_id = "*"
action = "delete"
[[rules]]
name = "customers"
match.from_domain = ["@customers"]
action = "move"
target = "Kunder/{{from_domain}}"
basis = "Avtal – GDPR art. 6.1 b"
[[rules]]
name = "hr"
match.from = ["hr@exempel.se"]
action = "move"
target = "HR/{{year}}"
basis = "Anställningsavtal"
[[rules]]
name = "colleagues"
match.from_domain = ["exempel.se"]
action = "move"
target = "Internt/{{year}}-{{month}}"
basis = "Berättigat intresse – GDPR art. 6.1 f"
"""

#: Rendered messages per sample kind; the rest reuse one with a new Date and Message-ID
#: (rendering through the email package takes milliseconds a message).
POOL = 40
_DATE = re.compile(rb"^Date: [^\n]*\n", re.MULTILINE)
_MESSAGE_ID = re.compile(rb"^Message-ID: [^\n]*\n", re.MULTILINE)


def messages(count: int) -> list[tuple[bytes, datetime]]:
    """*count* messages spread evenly over three months, in arrival order."""
    rng = random.Random(50_000)
    weights = [s.weight for s in SAMPLES]
    span = (NOW - START).total_seconds()
    pools: dict[int, list[bytes]] = {}
    out = []
    for i in range(count):
        when = START + timedelta(seconds=span * i / count)
        kind = rng.choices(range(len(SAMPLES)), weights)[0]
        pool = pools.setdefault(kind, [])
        if len(pool) < POOL:
            pool.append(_render(SAMPLES[kind], rng, when, "bench@exempel.se"))
            raw = pool[-1]
        else:
            domain = SAMPLES[kind].sender.rpartition("@")[2].rstrip(">")
            raw = _DATE.sub(f"Date: {format_datetime(when)}\n".encode(), rng.choice(pool), 1)
            raw = _MESSAGE_ID.sub(f"Message-ID: {make_msgid(domain=domain)}\n".encode(), raw, 1)
        out.append((raw, when))
    return out


def target_of(raw: bytes, when: datetime) -> str:
    """The folder the benchmark's five rules file a message into."""
    found = re.search(rb"^From: (.*)$", raw, re.MULTILINE)
    sender = found.group(1).decode() if found else ""
    if re.search(rb"^List-Id: ", raw, re.MULTILINE):
        return "Trash"
    if "fortnox.se" in sender:
        return f"Bokföring/{when.year}"
    for domain in ("kund.se", "client.example"):
        if domain in sender:
            return f"Kunder/{domain}"
    if "hr@exempel.se" in sender:
        return f"HR/{when.year}"
    local = when.astimezone(STOCKHOLM)
    return f"Internt/{local.year}-{local.month:02d}"


def wait_with_peak(pid: int) -> tuple[int, int]:
    """Wait for child *pid*; its wait status and its own peak resident memory in KiB.

    Not ``ru_maxrss``: Linux carries the high-water mark of the memory a process had
    before ``exec`` over into it, and a child spawned from this benchmark starts as a
    copy of it (with every seeded message: ~190 MB at 100,000). ``VmHWM`` in
    ``/proc/<pid>/status`` is the high-water mark of the running program's own memory;
    it only grows, so the last reading before the exit is the peak, give or take what
    the last few milliseconds added.
    """
    peak = 0
    status_file = f"/proc/{pid}/status"
    while True:
        done, status, _ = os.wait4(pid, os.WNOHANG)
        if done:
            return status, peak
        with contextlib.suppress(OSError), open(status_file, encoding="ascii") as lines:
            for line in lines:
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        time.sleep(0.005)


@dataclass
class Figures:
    """One contestant's rounds at one size."""

    seconds: list[float] = field(default_factory=list)
    peak_mb: list[float] = field(default_factory=list)
    commands: list[int] = field(default_factory=list)
    phases: list[dict[str, float]] = field(default_factory=list)
    moved: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


class Bench:
    """One private Dovecot, a template INBOX per size, and a fresh mailbox per round."""

    def __init__(self, server: LocalDovecot, base: Path, profile: str | None) -> None:
        self.server = server
        self.base = base
        self.profile = profile
        self.mail: list[tuple[bytes, datetime]] = []
        self.template: Path | None = None
        self.users = 0

    def seed_template(self, count: int) -> None:
        """Write *count* messages once; every contestant's INBOX links to these files."""
        self.mail = messages(count)
        address = f"template{count}@exempel.se"
        self.server.add_user(address, "pw")
        write_maildir_messages(self.server, address, "INBOX", self.mail, sync=False)
        self.template = self.server.mailbox_path(address, "INBOX") / "cur"

    def fresh_user(self, name: str) -> str:
        """A new mailbox holding the template INBOX, indexed by Dovecot before any timing."""
        assert self.template is not None
        self.users += 1
        address = f"{name}{self.users}@exempel.se"
        self.server.add_user(address, "pw")
        cur = self.server.mailbox_path(address, "INBOX", create=True) / "cur"
        for entry in os.scandir(self.template):
            os.link(entry.path, cur / entry.name)
        self.server.doveadm("mailbox", "status", "-u", address, "messages", "INBOX")
        return address

    def drop_user(self, address: str) -> None:
        shutil.rmtree(self.server.maildir(address), ignore_errors=True)

    # --- contestants ----------------------------------------------------------------

    def warden(self, limits: str) -> Callable[[Figures], None]:
        def contestant(figures: Figures) -> None:
            address = self.fresh_user("warden")
            work = self.base / address
            work.mkdir()
            (work / "master.secret").write_text(self.server.master_password)
            (work / "audit.key").write_text(secrets.token_hex(16))
            (work / "employees.csv").write_text(f"email\n{address}\n")
            state = work / "state.db"
            config = work / "inboxwarden.toml"
            config.write_text(
                CONFIG.format(
                    port=self.server.port,
                    master=self.server.master_user,
                    state=state,
                    limits=limits,
                )
            )
            StateStore.open(f"sqlite:///{state}").close()  # an administrator's DB exists
            command = [sys.executable, "-m", "inboxwarden", "--config", str(config)]
            command += ["--log-level", "WARNING", "run", "--once", "--now", NOW.isoformat()]
            if self.profile:
                spy = ["py-spy", "record", "--subprocesses", "-r", "200", "-f", "raw"]
                command = [*spy, "-o", self.profile, "--", *command]
            out = work / "output.txt"
            with out.open("wb") as sink:
                start = time.perf_counter()
                child = subprocess.Popen(command, stdout=sink, stderr=sink)
                status, peak_kb = wait_with_peak(child.pid)
                seconds = time.perf_counter() - start
                child.returncode = os.waitstatus_to_exitcode(status)
            if child.returncode != 0:
                print(out.read_text(errors="replace"), file=sys.stderr)
                raise SystemExit("inboxwarden run failed")
            with sqlite3.connect(state) as db:
                (counts,) = db.execute("SELECT counts FROM mailbox_runs").fetchone()
            result = json.loads(counts)
            figures.seconds.append(seconds)
            figures.peak_mb.append(peak_kb / 1024)
            figures.commands.append(result["imap_commands"])
            figures.phases.append(
                {k.removesuffix("_ms"): v / 1000 for k, v in result.items() if k.endswith("_ms")}
            )
            figures.moved = result["moved"] + result["deleted"]
            self.drop_user(address)

        return contestant

    def doveadm(self, figures: Figures) -> None:
        address = self.fresh_user("doveadm")
        cutoff = BOUNDARY.strftime("%Y-%m-%d")
        self.server.doveadm("mailbox", "create", "-u", address, "Archive")
        start = time.perf_counter()
        self.server.doveadm("move", "-u", address, "Archive", "mailbox", "INBOX", "before", cutoff)
        figures.seconds.append(time.perf_counter() - start)
        self.drop_user(address)

    def minimal(self, figures: Figures) -> None:
        address = self.fresh_user("minimal")
        start = time.perf_counter()
        with IMAPClient(self.server.host, port=self.server.port, ssl=False) as client:
            client.login(self.server.master_login(address), self.server.master_password)
            client.select_folder("INBOX")
            uids = client.search(["BEFORE", BOUNDARY.date()])
            client.create_folder("Archive")
            for text, _ in uidset.chunks(uids, size=len(uids) or 1):
                client.move(text, "Archive")
        figures.seconds.append(time.perf_counter() - start)
        self.drop_user(address)

    def same_moves(self, figures: Figures) -> None:
        # The server's share of inboxwarden's work: the same UIDs to the same folders,
        # told in advance instead of read from the headers.
        address = self.fresh_user("floor")
        by_target: dict[str, list[int]] = {}
        for uid, (raw, when) in enumerate(self.mail, start=1):
            if when < BOUNDARY:
                by_target.setdefault(target_of(raw, when), []).append(uid)
        start = time.perf_counter()
        with IMAPClient(self.server.host, port=self.server.port, ssl=False) as client:
            client.login(self.server.master_login(address), self.server.master_password)
            client.select_folder("INBOX")
            for target, uids in by_target.items():
                with contextlib.suppress(IMAPClientError):  # Trash exists already
                    client.create_folder(target)
                for text, _ in uidset.chunks(uids, size=20_000, max_chars=65_000):
                    client.move(text, target)
        figures.seconds.append(time.perf_counter() - start)
        self.drop_user(address)


CONTESTANTS = ("default", "tuned", "doveadm", "minimal", "floor")
TITLES = {
    "default": "inboxwarden, default configuration",
    "tuned": "inboxwarden, tuned (20000 / 65536)",
    "doveadm": "doveadm move (server-side)",
    "minimal": "minimal client (SEARCH + MOVE)",
    "floor": "same moves, UIDs known in advance",
}


def bench_size(bench: Bench, count: int, repeat: int) -> dict[str, Figures]:
    print(f"\n== {count:,} messages: seeding …", flush=True)
    bench.seed_template(count)
    overdue = sum(1 for _, when in bench.mail if when < BOUNDARY)
    size_mb = sum(len(m) for m, _ in bench.mail) / 1e6
    print(f"INBOX: {count:,} messages, {size_mb:.0f} MB, {overdue:,} overdue", flush=True)
    run: dict[str, Callable[[Figures], None]] = {
        "default": bench.warden(""),
        "tuned": bench.warden(TUNED),
        "doveadm": bench.doveadm,
        "minimal": bench.minimal,
        "floor": bench.same_moves,
    }
    figures = {name: Figures() for name in CONTESTANTS}
    for round_ in range(repeat):
        order = CONTESTANTS[round_ % len(CONTESTANTS) :] + CONTESTANTS[: round_ % len(CONTESTANTS)]
        for name in order:
            run[name](figures[name])
        print(f"round {round_ + 1}/{repeat} done", flush=True)
    report(count, figures, repeat)
    return figures


def ratio(a: Figures, b: Figures) -> float:
    """The median of the per-round ratios: each round's pair ran side by side."""
    return statistics.median(x / y for x, y in zip(a.seconds, b.seconds, strict=True))


def report(count: int, figures: dict[str, Figures], repeat: int) -> None:
    default, tuned = figures["default"], figures["tuned"]
    print(f"\n{count:,} messages, {default.moved:,} moved; {repeat} interleaved rounds")
    head = "".join(f"{f'round {i + 1}':>9}" for i in range(repeat))
    print(f"{'':38}{head}{'median':>9}")
    for name in CONTESTANTS:
        f = figures[name]
        cells = "".join(f"{s:9.2f}" for s in f.seconds)
        print(f"{TITLES[name]:38}{cells}{f.median:9.2f}")
    doveadm, minimal, floor = figures["doveadm"], figures["minimal"], figures["floor"]
    for name, f in (("default", default), ("tuned", tuned)):
        apply = Figures(seconds=[p.get("apply", 0.0) for p in f.phases])
        print(
            f"{name:8} / doveadm {ratio(f, doveadm):5.2f}× (goal ≤ 3×)   "
            f"/ minimal {ratio(f, minimal):5.2f}× (goal ≤ 2×)   "
            f"apply / same moves {ratio(apply, floor):5.2f}× (goal ≤ 1.2×)"
        )
        phases = {k: statistics.median(p[k] for p in f.phases) for k in f.phases[0]}
        print(
            f"{'':8}   peak memory {max(f.peak_mb):4.0f} MB (goal < 150 MB), "
            f"IMAP commands {statistics.median(f.commands):.0f}, phases "
            + ", ".join(f"{k} {v:.2f}" for k, v in phases.items() if v >= 0.01)
        )


def summary(results: dict[int, dict[str, Figures]]) -> None:
    print("\nSummary (medians; ratios are medians of per-round ratios)")
    print(
        f"{'messages':>9} {'moved':>7} {'default':>8} {'tuned':>7} {'doveadm':>8} "
        f"{'minimal':>8} {'known':>7} {'÷doveadm':>9} {'÷minimal':>9} {'apply÷known':>12} "
        f"{'peak MB':>8} {'cmds':>5}"
    )
    for count, f in results.items():
        d = f["default"]
        apply = Figures(seconds=[p.get("apply", 0.0) for p in d.phases])
        print(
            f"{count:9,} {d.moved:7,} {d.median:8.2f} {f['tuned'].median:7.2f} "
            f"{f['doveadm'].median:8.2f} {f['minimal'].median:8.2f} {f['floor'].median:7.2f} "
            f"{ratio(d, f['doveadm']):8.2f}× {ratio(d, f['minimal']):8.2f}× "
            f"{ratio(apply, f['floor']):11.2f}× {max(d.peak_mb):8.0f} "
            f"{statistics.median(d.commands):5.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", default="20000,50000,100000", help="INBOX sizes")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds per size")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--profile", metavar="FILE", help="one default-configuration run under py-spy"
    )
    args = parser.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.messages.split(",")]
    ensure_dovecot_installed()
    # Bytecode, as an installed copy has it (pip compiles on install): a checkout run
    # under PYTHONDONTWRITEBYTECODE would compile every module again at each start.
    compileall.compile_dir(Path(inboxwarden.__file__).parent, quiet=1)
    base = Path(tempfile.mkdtemp(prefix="iw-bench-"))
    server_dir = Path(tempfile.mkdtemp(prefix="iw-bench-srv-"))  # reachable by the dovecot user
    results: dict[int, dict[str, Figures]] = {}
    try:
        with LocalDovecot(server_dir, master_password=secrets.token_urlsafe(12)) as server:
            bench = Bench(server, base, args.profile)
            if args.profile:
                bench.seed_template(sizes[0])
                figures = Figures()
                bench.warden("")(figures)
                print(f"{sizes[0]:,} messages: {figures.seconds[0]:.2f} s, {figures.phases[0]}")
                print(f"profile written to {args.profile}")
                return
            for count in sizes:
                results[count] = bench_size(bench, count, args.repeat)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
            shutil.rmtree(server_dir, ignore_errors=True)
    summary(results)


if __name__ == "__main__":
    main()
