"""Benchmark: `inboxwarden run --once` (enforce) on a 50,000-message INBOX.

Seeds three identical mailboxes in a private Dovecot by writing maildir files (the
arrival date is the file's mtime), then times, in the same run:

- ``inboxwarden run --once`` in enforce mode with five rules, as a subprocess;
- ``doveadm move`` doing the equivalent server-side move (no IMAP at all);
- a minimal client: one ``UID SEARCH`` and one ``UID MOVE`` over imapclient.

Prints wall times, the ratios the issue asks for, inboxwarden's peak memory (max RSS of
the child) and the number of IMAP commands it sent. Usage:
``python benchmarks/bench_enforce.py [--messages 50000] [--repeat 1]``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from imapclient import IMAPClient

from inboxwarden.demo_data import SAMPLES, _render
from inboxwarden.imap import uidset
from inboxwarden.localserver import LocalDovecot, ensure_dovecot_installed, write_maildir_messages

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 11, 12, 3, 0, tzinfo=STOCKHOLM)  # enforcement date 2026-11-09 has passed
START = NOW - timedelta(days=89)
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
batch_size = {batch_size}
max_line_length = {max_line}
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


def messages(count: int) -> list[tuple[bytes, datetime]]:
    """*count* messages spread evenly over three months, in arrival order."""
    rng = random.Random(50_000)
    weights = [s.weight for s in SAMPLES]
    span = (NOW - START).total_seconds()
    out = []
    for i in range(count):
        when = START + timedelta(seconds=span * i / count)
        out.append((_render(rng.choices(SAMPLES, weights)[0], rng, when, "bench@exempel.se"), when))
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


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--batch-size", type=int, default=5000, help="imap.batch_size")
    parser.add_argument(
        "--max-line-length",
        type=int,
        default=8192,
        help="imap.max_line_length for inboxwarden (Dovecot accepts 65536)",
    )
    parser.add_argument("--profile", metavar="FILE", help="record a py-spy flame graph into FILE")
    args = parser.parse_args()
    ensure_dovecot_installed()
    base = Path(tempfile.mkdtemp(prefix="iw-bench-"))
    server_dir = Path(tempfile.mkdtemp(prefix="iw-bench-srv-"))  # reachable by the dovecot user
    users = {name: f"{name}@exempel.se" for name in ("warden", "doveadm", "minimal", "floor")}
    try:
        with LocalDovecot(server_dir, master_password=secrets.token_urlsafe(12)) as server:
            print(f"seeding 3 × {args.messages:,} messages …", flush=True)
            mail = messages(args.messages)
            for address in users.values():
                server.add_user(address, "pw")
                write_maildir_messages(server, address, "INBOX", mail)
            overdue = sum(1 for _, when in mail if when < BOUNDARY)
            size_mb = sum(len(m) for m, _ in mail) / 1e6
            print(f"INBOX: {args.messages:,} messages, {size_mb:.0f} MB, {overdue:,} overdue")

            work = base / "warden"
            work.mkdir()
            (work / "master.secret").write_text(server.master_password)
            (work / "audit.key").write_text(secrets.token_hex(16))
            (work / "employees.csv").write_text(f"email\n{users['warden']}\n")
            state = work / "state.db"
            config = work / "inboxwarden.toml"
            config.write_text(
                CONFIG.format(
                    port=server.port,
                    master=server.master_user,
                    state=state,
                    max_line=args.max_line_length,
                    batch_size=args.batch_size,
                )
            )
            spy = [
                "py-spy",
                "record",
                "--subprocesses",
                "-r",
                "200",
                "-f",
                "raw",
                "-o",
                args.profile,
                "--",
            ]
            command = [*(spy if args.profile else []), sys.executable, "-m", "inboxwarden"]
            command += ["--config", str(config)]
            command += ["--log-level", "WARNING", "run", "--once", "--now", NOW.isoformat()]
            result: subprocess.CompletedProcess[str] | None = None

            def run_warden() -> None:
                nonlocal result
                result = subprocess.run(command, capture_output=True, text=True, check=False)

            t_warden = timed(run_warden)
            peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            assert result is not None
            if result.returncode != 0:
                print(result.stdout, result.stderr, file=sys.stderr)
                raise SystemExit("inboxwarden run failed")
            with sqlite3.connect(state) as db:
                (counts,) = db.execute("SELECT counts FROM mailbox_runs").fetchone()
            figures = json.loads(counts)

            cutoff = BOUNDARY.strftime("%Y-%m-%d")
            server.doveadm("mailbox", "create", "-u", users["doveadm"], "Archive")
            t_doveadm = timed(
                lambda: server.doveadm(
                    "move", "-u", users["doveadm"], "Archive", "mailbox", "INBOX", "before", cutoff
                )
            )

            def minimal_client() -> None:
                with IMAPClient(server.host, port=server.port, ssl=False) as client:
                    client.login(server.master_login(users["minimal"]), server.master_password)
                    client.select_folder("INBOX")
                    uids = client.search(["BEFORE", BOUNDARY.date()])
                    client.create_folder("Archive")
                    for text, _ in uidset.chunks(uids, size=len(uids) or 1):
                        client.move(text, "Archive")

            t_minimal = timed(minimal_client)

            def same_moves() -> None:
                # The server's share of inboxwarden's work: the same UIDs to the same
                # folders, told in advance instead of read from the headers.
                with IMAPClient(server.host, port=server.port, ssl=False) as client:
                    client.login(server.master_login(users["floor"]), server.master_password)
                    client.select_folder("INBOX")
                    by_target: dict[str, list[int]] = {}
                    for uid, (raw, when) in enumerate(mail, start=1):
                        if when < BOUNDARY:
                            by_target.setdefault(target_of(raw, when), []).append(uid)
                    for target, uids in by_target.items():
                        client.create_folder(target)
                        for text, _ in uidset.chunks(uids, size=5000, max_chars=60_000):
                            client.move(text, target)

            t_floor = timed(same_moves)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
            shutil.rmtree(server_dir, ignore_errors=True)

    moved = figures["moved"] + figures["deleted"]
    print()
    print(f"{'':34}{'seconds':>9}")
    print(f"{'inboxwarden run --once (enforce)':34}{t_warden:9.2f}   moved {moved:,}")
    print(f"{'doveadm move (server-side)':34}{t_doveadm:9.2f}")
    print(f"{'minimal client (SEARCH + MOVE)':34}{t_minimal:9.2f}")
    print(f"{'same moves, UIDs known in advance':34}{t_floor:9.2f}")
    print()
    print(f"inboxwarden / doveadm         {t_warden / t_doveadm:5.2f}×   (goal ≤ 3×)")
    print(f"inboxwarden / minimal client  {t_warden / t_minimal:5.2f}×   (goal ≤ 2×)")
    print(f"peak memory (max RSS)         {peak_mb:5.0f} MB (goal < 150 MB)")
    print(
        f"IMAP commands                 {figures['imap_commands']:5d}   "
        f"(batch size {args.batch_size:,}, max_line_length {args.max_line_length})"
    )
    phases = ", ".join(
        f"{k.removesuffix('_ms')} {v / 1000:.2f} s" for k, v in figures.items() if k.endswith("_ms")
    )
    print(f"inboxwarden phases            {phases}")


if __name__ == "__main__":
    main()
