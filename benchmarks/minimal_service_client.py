"""The service benchmark's yardstick: the same job as inboxwarden, done by a bare client.

For each mailbox, over imapclient and with the same number of connections: log in as
the master user, ``UID SEARCH BEFORE`` the day after the boundary, read the List-Id and
INTERNALDATE of what that finds, keep what arrived before the boundary to the second
(``BEFORE`` compares dates only, in the server's time zone), then per target
``CREATE``, ``SUBSCRIBE`` and one ``UID MOVE`` (mailing lists to Trash, the rest into
``Arkiv/<year>-<month>`` of its arrival in the organisation's time zone). No state, no
journal, no proof of the copies, no audit, no retries, no rule language: what a plain
imapclient program doing this job costs on the same machine, so that inboxwarden's
figure can be read against it.

Run by ``bench_service.py`` as a subprocess, so that its CPU time and peak memory are
its own: ``python minimal_service_client.py HOST PORT MASTER PASSWORD_FILE USERS_FILE
BOUNDARY TIMEZONE CONNECTIONS`` (BOUNDARY in ISO 8601 with its offset, TIMEZONE an IANA
name; USERS_FILE one address a line).
"""

from __future__ import annotations

import contextlib
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

FIELDS = b"BODY[HEADER.FIELDS (LIST-ID)]"


def enforce(
    host: str, port: int, login: str, password: str, boundary: datetime, zone: ZoneInfo
) -> int:
    """Moves what is due in one INBOX; returns how many messages moved."""
    with IMAPClient(host, port=port, ssl=False) as client:
        client.normalise_times = False  # INTERNALDATE with its offset
        client.login(login, password)
        client.select_folder("INBOX")
        # The day after the boundary's date, in any time zone the server may use.
        uids = client.search(["BEFORE", date.fromordinal(boundary.date().toordinal() + 1)])
        if not uids:
            return 0
        answer = client.fetch(uids, ["INTERNALDATE", "BODY.PEEK[HEADER.FIELDS (LIST-ID)]"])
        by_target: dict[str, list[int]] = {}
        for uid, item in answer.items():
            when = item[b"INTERNALDATE"]
            if when >= boundary:
                continue
            if b"list-id:" in item[FIELDS].lower():
                target = "Trash"
            else:
                local = when.astimezone(zone)
                target = f"Arkiv/{local.year}-{local.month:02d}"
            by_target.setdefault(target, []).append(uid)
        for target, moving in by_target.items():
            if target != "Trash":
                with contextlib.suppress(IMAPClientError):  # it exists already
                    client.create_folder(target)
                client.subscribe_folder(target)
            client.move(moving, target)
        return sum(len(moving) for moving in by_target.values())


def main() -> None:
    host, port, master, password_file, users_file, boundary, zone, connections = sys.argv[1:9]
    password = Path(password_file).read_text().strip()
    users = Path(users_file).read_text().split()
    when, local = datetime.fromisoformat(boundary), ZoneInfo(zone)

    def one(address: str) -> int:
        return enforce(host, int(port), f"{address}*{master}", password, when, local)

    with ThreadPoolExecutor(max_workers=int(connections)) as pool:
        moved = sum(pool.map(one, users))
    print(moved)


if __name__ == "__main__":
    main()
