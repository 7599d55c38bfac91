"""Process and port plumbing for the local server: free ports, readiness, shutdown."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from inboxwarden.errors import LocalServerError

__all__ = [
    "LOOPBACK",
    "STOP_TIMEOUT",
    "free_ports",
    "greets",
    "group_alive",
    "read_from",
    "short_tmp",
    "signal_group",
    "tail",
    "terminate",
]

LOOPBACK = "127.0.0.1"

STOP_TIMEOUT = 5.0  # seconds; a clean stop takes about 1 s (Dovecot waits that long itself)


def short_tmp() -> str:
    """Returns a temporary directory with a short path, for Dovecot's Unix sockets."""
    default = tempfile.gettempdir()
    return default if len(default) <= 20 else "/tmp"  # noqa: S108 - only sockets go there


def free_ports(count: int) -> list[int]:
    """Returns *count* distinct loopback ports that were free a moment ago."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((LOOPBACK, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def greets(port: int, instance_name: str) -> bool:
    """Tells whether this instance answers on *port* with its OK greeting."""
    try:
        with socket.create_connection((LOOPBACK, port), timeout=0.25) as sock:
            greeting = b""
            while not greeting.endswith(b"\r\n"):
                chunk = sock.recv(512)
                if not chunk:
                    return False
                greeting += chunk
            # Saying goodbye lets the login process end now rather than linger until
            # shutdown, where Dovecot would wait for it.
            sock.sendall(b"a LOGOUT\r\n")
            return greeting.startswith(b"* OK") and instance_name.encode() in greeting
    except OSError:
        return False


def terminate(process: subprocess.Popen[bytes], *, at_once: bool = False) -> None:
    """Stops the Dovecot master and then whatever is left of its process group.

    *at_once* kills without the orderly shutdown, for a server that never got going.
    """
    group = process.pid  # the master leads its own session and process group
    if at_once:
        signal_group(group, signal.SIGKILL)
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            signal_group(group, signal.SIGKILL)
            process.wait()
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not group_alive(group):
            return
        signal_group(group, sig)
        deadline = time.monotonic() + 2
        while group_alive(group) and time.monotonic() < deadline:
            time.sleep(0.01)
    if group_alive(group):
        raise LocalServerError(f"processes of Dovecot's process group {group} would not die")


def signal_group(group: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, sig)


def group_alive(group: int) -> bool:
    """Tells whether a process other than a zombie is left in process group *group*.

    Zombies are skipped: after the master exits its children are reaped by whoever is
    PID 1, which in a container may never do it.
    """
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as file:
                fields = file.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != b"Z":
            return True
    return False


def read_from(path: Path, offset: int) -> str:
    try:
        with path.open("rb") as file:
            file.seek(offset)
            return file.read().decode(errors="replace")
    except OSError:
        return ""


def tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return f"\nLast lines of {path}:\n" + "\n".join(text)
