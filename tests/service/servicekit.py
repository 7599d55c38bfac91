"""Helpers for the ``serve`` tests: a configuration with schedules seconds apart, the
process started and stopped by signals, its endpoints, and what the state recorded."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

from tests.kit.engine import STOCKHOLM

#: Never within a test: the job is there, but does not fire.
NEVER = "0 0 1 1 *"


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def schedule(*, scan: str = NEVER, fanout: str = NEVER, report: str = NEVER) -> str:
    """A ``[schedule]`` section; the retention job never fires in a test."""
    return (
        f'[schedule]\nscan = "{scan}"\nfanout = "{fanout}"\nreport = "{report}"\n'
        f'retention = "{NEVER}"\n'
    )


def service(port: int) -> str:
    """A ``[service]`` section listening on loopback *port*."""
    return f'[service]\nlisten = "127.0.0.1:{port}"\n'


def cycle_around_today(today: date | None = None) -> tuple[str, datetime]:
    """A ``[cycle]`` whose boundary is today (or the 28th) with a long grace, and a time
    before that boundary: mail arriving then is due, and the digest is due, whatever day
    the test runs on."""
    today = today or datetime.now(STOCKHOLM).date()
    anchor = min(today.day, 28)
    boundary = datetime(today.year, today.month, anchor, tzinfo=STOCKHOLM)
    section = f"[cycle]\nanchor_day = {anchor}\ngrace_business_days = 10\n"
    return section, boundary - timedelta(days=3)


def add_sections(config: Path, *sections: str) -> None:
    """Put *sections* before the rules of a tests.kit.engine configuration."""
    text = config.read_text(encoding="utf-8")
    head, sep, rules = text.partition("[[rules]]")
    config.write_text(head + "\n".join(sections) + "\n" + sep + rules, encoding="utf-8")


class Serve:
    """``inboxwarden serve`` as a subprocess, its log in a file."""

    def __init__(self, config: Path, port: int | None, log: Path) -> None:
        self.config, self.port, self.log = config, port, log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "inboxwarden", "--config", str(config), "serve"],
                stdout=out,
                stderr=out,
                env={
                    k: v for k, v in os.environ.items() if not k.upper().startswith("INBOXWARDEN_")
                },
            )

    def get(self, path: str) -> tuple[int, str]:
        """GET *path* from the health endpoint: (status, body); (0, "") when not answering."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except OSError:
            return 0, ""

    def signal(self, signum: int = signal.SIGTERM) -> None:
        self.process.send_signal(signum)

    def stop(self, timeout: float = 30) -> tuple[int, float]:
        """SIGTERM, then wait: (exit status, seconds it took)."""
        start = time.monotonic()
        self.signal()
        code = self.process.wait(timeout=timeout)
        return code, time.monotonic() - start

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def wait_for(condition: Callable[[], object], timeout: float = 60, what: str = "") -> None:
    """Poll *condition* until it is true, or fail after *timeout* seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what or condition}")


def finished_runs(db: Path, kind: str = "run") -> int:
    """How many runs of *kind* the state says have finished."""
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        try:
            row = conn.execute(
                "SELECT count(*) FROM runs WHERE kind = ? AND finished_at IS NOT NULL", (kind,)
            ).fetchone()
        except sqlite3.OperationalError:
            return 0
    return int(row[0])
