"""The transfer journal: every command that makes mail leave a folder, written down
before it is sent and closed once its outcome is known (docs/behaviour.md §5.2).

A crash or a cut connection between the two leaves the entry open; the next run's
recovery (:mod:`inboxwarden.mailbox.recovery`) reads it back with `open_transfers` and
finds out on the server what happened. Closing an entry writes the audit events of the
messages that left in the same transaction (docs/behaviour.md §5.10), so it extends
:class:`~inboxwarden.state.trail.AuditTrail`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cached_property

from inboxwarden.errors import StateError
from inboxwarden.state import queries as q
from inboxwarden.state.records import AuditEvent, Transfer
from inboxwarden.state.trail import AuditTrail

__all__ = ["TransferJournal"]


class TransferJournal(AuditTrail):
    """The journal of transfers in flight; needs ``self._engine``."""

    def begin_transfer(
        self,
        run_id: str,
        mailbox: str,
        folder: str,
        uidvalidity: int,
        *,
        target: str,
        target_status: tuple[int, int],
        command: str,
        action: str,
        rule: str | None,
        uids: Sequence[int],
        refs: Sequence[str],
    ) -> int:
        """Journal one transfer command before it is sent (docs/behaviour.md §5.2); its id."""
        row = {
            "mailbox": mailbox,
            "folder": folder,
            "uidvalidity": uidvalidity,
            "target": target,
            "target_uidvalidity": target_status[0],
            "target_uidnext": target_status[1],
            "uids": ",".join(map(str, uids)),
            "refs": ",".join(refs),
            "command": command,
            "phase": "sent",
            "action": action,
            "rule": rule,
            "run_id": run_id,
            "created_at": datetime.now(UTC),
        }
        with self._engine.begin() as conn:
            key = conn.execute(q.ADD_TRANSFER, row).inserted_primary_key
        if key is None:
            raise StateError("transfer journal insert returned no id")
        return int(key[0])

    def record_copyuid(self, transfer_id: int, mapping: Mapping[int, int]) -> None:
        """Write down the server's COPYUID before the next command (phase ``copied``)."""
        text = ",".join(f"{src}:{dst}" for src, dst in sorted(mapping.items()))
        change = {"key_id": transfer_id, "mapping": text, "phase": "copied"}
        with self._engine.begin() as conn:
            conn.execute(q.CHANGE_TRANSFER, change)

    def set_transfer_phase(self, transfer_id: int, phase: str) -> None:
        """Move a journalled transfer on to *phase* (``expunging`` before ``\\Deleted``)."""
        with self._engine.begin() as conn:
            conn.execute(q.CHANGE_TRANSFER, {"key_id": transfer_id, "phase": phase})

    def complete_transfer(
        self,
        transfer_id: int,
        run_id: str,
        mailbox: str,
        folder: str,
        uidvalidity: int,
        events: Iterable[AuditEvent],
        left: Iterable[int],
    ) -> int:
        """Close a transfer: its audit events, the flag records of the UIDs that *left*,
        and the journal row go in one transaction, so a crash leaves all or none of them
        (docs/behaviour.md §5.10: exactly one event per message that left). Returns the
        events written.
        """
        rows = self._event_rows(run_id, mailbox, events)
        gone = [(mailbox, folder, uidvalidity, uid) for uid in sorted(set(left))]
        with self._engine.begin() as conn:
            self._insert_events(conn, rows)
            if gone:
                # By primary key in the driver's executemany: SQLAlchemy compiling an IN
                # list per 500 UIDs cost more than the deletes themselves.
                conn.exec_driver_sql(self._flag_delete, gone)
            conn.execute(q.DROP_TRANSFER, {"id": transfer_id})
        return len(rows)

    @cached_property
    def _flag_delete(self) -> str:
        m = self._marks(4)
        return (
            f"DELETE FROM flags WHERE mailbox = {m[0]} AND folder = {m[1]} "  # noqa: S608 - fixed names
            f"AND uidvalidity = {m[2]} AND uid = {m[3]}"
        )

    def end_transfer(self, transfer_id: int) -> None:
        """Forget a transfer that needs nothing more (resolved, or its folder renumbered)."""
        with self._engine.begin() as conn:
            conn.execute(q.DROP_TRANSFER, {"id": transfer_id})

    def open_transfers(self, mailbox: str, folder: str) -> list[Transfer]:
        """Transfers a crash or a cut connection left unfinished in *folder*, oldest first."""
        with self._engine.connect() as conn:
            rows = conn.execute(q.OPEN_TRANSFERS, {"mailbox": mailbox, "folder": folder}).all()
        return [
            Transfer(
                id=r.id,
                folder=r.folder,
                uidvalidity=r.uidvalidity,
                target=r.target,
                target_uidvalidity=r.target_uidvalidity,
                target_uidnext=r.target_uidnext,
                uids=tuple(int(u) for u in r.uids.split(",") if u),
                command=r.command,
                phase=r.phase,
                action=r.action,
                rule=r.rule,
                refs=tuple(x for x in r.refs.split(",") if x),
                mapping={
                    int(a): int(b)
                    for a, _, b in (pair.partition(":") for pair in (r.mapping or "").split(","))
                    if a and b
                },
            )
            for r in rows
        ]
