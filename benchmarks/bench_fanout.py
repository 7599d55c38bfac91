"""Benchmark: the CC fan-out scan of a 20,000-message Sent folder against Dovecot.

Most sent mail goes to one or two people; about 5% is copied widely, and a third of
those carry personal data. The scan should fetch bodies only for those candidates:
this prints the bytes fetched against the folder's size, and the wall time.
Usage: ``python benchmarks/bench_fanout.py [--messages 20000]``.
"""

from __future__ import annotations

import argparse
import random
import secrets
import shutil
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from inboxwarden.config import load_settings
from inboxwarden.demo.localserver import (
    LocalDovecot,
    ensure_dovecot_installed,
    write_maildir_messages,
)
from inboxwarden.directory.entries import load_directory
from inboxwarden.fanout.job import run_fanout
from inboxwarden.mailbox.runner import MailboxRunner
from inboxwarden.state import StateStore

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
CONFIG = """
[organisation]
domains = ["exempel.se"]
[imap]
host = "127.0.0.1"
port = {port}
security = "plain"
auth = "master"
master_user = "{master}"
password_file = "master.secret"
[directory]
path = "employees.csv"
[state]
url = "sqlite:///{state}"
[audit]
hmac_key_file = "audit.key"
[fanout]
window_days = 7
folders = ["\\\\Sent"]
"""
PROSE = (
    "Hej!\n\nTack för mötet i går. Här kommer en sammanfattning av det vi kom fram till, "
    "med de punkter som återstår och vem som ansvarar för vad. Återkom gärna om något "
    "saknas eller om datumen inte passar.\n\n"
)


def message(rng: random.Random, i: int, when: datetime) -> bytes:
    wide = rng.random() < 0.05
    recipients = [f"kollega{rng.randint(1, 300)}@exempel.se" for _ in range(rng.randint(1, 2))]
    cc = [f"kund{rng.randint(1, 300)}@kund.se" for _ in range(rng.randint(4, 12))] if wide else []
    body = PROSE * rng.randint(2, 12)
    if wide and rng.random() < 0.33:
        body += "Kundens personnummer: 811218-9876\n"
    headers = [
        "From: Me <me@exempel.se>",
        f"To: {', '.join(recipients)}",
        *([f"Cc: {', '.join(cc)}"] if cc else []),
        f"Subject: Uppföljning {i}",
        f"Message-ID: <sent-{i}@exempel.se>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
    ]
    if rng.random() < 0.2:  # an attachment the scan must not download
        blob = secrets.token_hex(40_000)
        headers[-2:] = ['Content-Type: multipart/mixed; boundary="b"']
        body = (
            f"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
            f'--b\r\nContent-Type: application/pdf; name="offert.pdf"\r\n'
            f"Content-Transfer-Encoding: base64\r\n\r\n{blob}\r\n--b--\r\n"
        )
    return ("\r\n".join(headers) + "\r\n\r\n" + body).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    args = parser.parse_args()
    ensure_dovecot_installed()
    rng = random.Random(20_000)
    work = Path(tempfile.mkdtemp(prefix="iw-bench-fanout-"))
    server_dir = Path(tempfile.mkdtemp(prefix="iw-bench-fanout-srv-"))
    try:
        with LocalDovecot(server_dir) as server:
            user = "me@exempel.se"
            server.add_user(user, "pw")
            span = timedelta(days=6)
            mail = [
                (
                    message(rng, i, NOW - span * (1 - i / args.messages)),
                    NOW - span * (1 - i / args.messages),
                )
                for i in range(args.messages)
            ]
            write_maildir_messages(server, user, "Sent", mail)
            (work / "master.secret").write_text(server.master_password)
            (work / "audit.key").write_text(secrets.token_hex(16))
            (work / "employees.csv").write_text(f"email\n{user}\n")
            config = work / "inboxwarden.toml"
            config.write_text(
                CONFIG.format(port=server.port, master=server.master_user, state=work / "s.db")
            )
            settings = load_settings(config)
            runner = MailboxRunner.create(
                settings,
                load_directory(settings.directory.path),
                StateStore.open(settings.state.url),
            )
            start = time.perf_counter()
            [outcome] = run_fanout(runner, NOW)
            elapsed = time.perf_counter() - start
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(server_dir, ignore_errors=True)
    [folder] = outcome.folders
    print(f"Sent folder: {folder.messages:,} messages, {folder.folder_bytes / 1e6:.1f} MB")
    print(f"candidates (over the thresholds): {folder.candidates:,}")
    print(f"findings: {len(folder.findings):,}")
    print(
        f"bytes fetched: {folder.fetched_bytes / 1e6:.2f} MB "
        f"({folder.fetched_bytes / folder.folder_bytes:.1%} of the folder)"
    )
    print(f"wall time: {elapsed:.2f} s")


if __name__ == "__main__":
    main()
