"""``run --once`` starts fast: the command line loads no library only other commands use.

Each of these costs tens of milliseconds and megabytes at every start (several times
that on a busy machine); the commands that need them import them where they run.
"""

from __future__ import annotations

import json
import subprocess
import sys

#: Libraries of other commands (digest, report, serve, demo, register, fan-out, LDAP,
#: OAuth) and of the migration of an older database.
NOT_AT_START = (
    "alembic", "mako", "jinja2", "matplotlib", "phonenumbers", "stdnum", "ldap3", "msal",
    "google.auth", "apscheduler", "prometheus_client", "aiosmtpd", "holidays.countries",
    "inboxwarden.reports", "inboxwarden.demo", "inboxwarden.fanout", "inboxwarden.service",
)  # fmt: skip


def test_importing_the_command_line_loads_none_of_the_other_commands_libraries() -> None:
    code = "import json, sys, inboxwarden.cli; print(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
    )
    wrong = [m for m in loaded if any(m == n or m.startswith(n + ".") for n in NOT_AT_START)]
    assert wrong == []
