"""The statements the store runs for every mailbox, built once with named parameters.

Building a statement with ``insert(...).values(...)`` or ``select(...).where(col == x)``
costs SQLAlchemy more than SQLite takes to run it: each call coerces every value into a
new bound parameter and computes a fresh cache key. Built once, a statement keeps its
cache key and compiled form, and a run of 1,000 mailboxes stops paying that price tens
of thousands of times. Values come at execution, as a parameter dict.

In an UPDATE the SET values come under the column's own name, so the parameters of its
WHERE clause are named ``key_<column>`` (SQLAlchemy reserves the column names there).
"""

from __future__ import annotations

from sqlalchemy import BindParameter, bindparam, delete, insert, select, update

from inboxwarden.state.schema import (
    digests_sent,
    flags,
    folders,
    leases,
    mailbox_runs,
    scan_marks,
    transfers,
)

__all__ = [
    "ADD_DIGEST",
    "ADD_FLAGS",
    "ADD_FOLDER",
    "ADD_LEASE",
    "ADD_MAILBOX_RUN",
    "ADD_SCAN_MARK",
    "ADD_TRANSFER",
    "CHANGE_FLAGS",
    "CHANGE_LEASE",
    "CHANGE_TRANSFER",
    "CHANGE_UIDVALIDITY",
    "CLAIM_LEASE",
    "DROP_FLAGS",
    "DROP_OTHER_UIDVALIDITY_FLAGS",
    "DROP_OTHER_UIDVALIDITY_TRANSFERS",
    "DROP_SCAN_MARK",
    "DROP_TRANSFER",
    "FLAG_RECORDS",
    "KNOWN_UIDVALIDITY",
    "LAST_DIGEST",
    "LEASE",
    "OPEN_TRANSFERS",
    "SCAN_MARK",
]

_mailbox: BindParameter[str] = bindparam("mailbox")
_folder: BindParameter[str] = bindparam("folder")

# --- folders and flags -----------------------------------------------------------------

KNOWN_UIDVALIDITY = select(folders.c.uidvalidity).where(
    folders.c.mailbox == _mailbox, folders.c.folder == _folder
)
ADD_FOLDER = insert(folders)
CHANGE_UIDVALIDITY = update(folders).where(
    folders.c.mailbox == bindparam("key_mailbox"), folders.c.folder == bindparam("key_folder")
)
DROP_OTHER_UIDVALIDITY_FLAGS = delete(flags).where(
    flags.c.mailbox == _mailbox,
    flags.c.folder == _folder,
    flags.c.uidvalidity != bindparam("uidvalidity"),
)
DROP_OTHER_UIDVALIDITY_TRANSFERS = delete(transfers).where(
    transfers.c.mailbox == _mailbox,
    transfers.c.folder == _folder,
    transfers.c.uidvalidity != bindparam("uidvalidity"),
)

FLAG_RECORDS = select(flags.c.uid, flags.c.keyword, flags.c.flagged).where(
    flags.c.mailbox == _mailbox,
    flags.c.folder == _folder,
    flags.c.uidvalidity == bindparam("uidvalidity"),
)
ADD_FLAGS = insert(flags)
CHANGE_FLAGS = update(flags).where(
    flags.c.mailbox == bindparam("key_mailbox"),
    flags.c.folder == bindparam("key_folder"),
    flags.c.uidvalidity == bindparam("key_uidvalidity"),
    flags.c.uid == bindparam("key_uid"),
)
#: ``uids`` is a list: SQLAlchemy expands it into as many markers at execution.
DROP_FLAGS = delete(flags).where(
    flags.c.mailbox == _mailbox,
    flags.c.folder == _folder,
    flags.c.uidvalidity == bindparam("uidvalidity"),
    flags.c.uid.in_(bindparam("uids", expanding=True)),
)

# --- incremental scans ---------------------------------------------------------------

SCAN_MARK = select(scan_marks).where(
    scan_marks.c.mailbox == _mailbox, scan_marks.c.folder == _folder
)
DROP_SCAN_MARK = delete(scan_marks).where(
    scan_marks.c.mailbox == _mailbox, scan_marks.c.folder == _folder
)
ADD_SCAN_MARK = insert(scan_marks)

# --- transfers in flight ---------------------------------------------------------------

ADD_TRANSFER = insert(transfers)
CHANGE_TRANSFER = update(transfers).where(transfers.c.id == bindparam("key_id"))
DROP_TRANSFER = delete(transfers).where(transfers.c.id == bindparam("id"))
OPEN_TRANSFERS = (
    select(transfers)
    .where(transfers.c.mailbox == _mailbox, transfers.c.folder == _folder)
    .order_by(transfers.c.id)
)

# --- leases, runs and digests ------------------------------------------------------------

LEASE = select(leases.c.holder, leases.c.expires_at).where(leases.c.mailbox == _mailbox)
#: Take the lease if this holder has it already or its holder's time ran out.
CLAIM_LEASE = update(leases).where(
    leases.c.mailbox == bindparam("key_mailbox"),
    (leases.c.holder == bindparam("key_holder")) | (leases.c.expires_at < bindparam("now")),
)
#: Change the lease only while *key_holder* holds it (release, take over).
CHANGE_LEASE = update(leases).where(
    leases.c.mailbox == bindparam("key_mailbox"), leases.c.holder == bindparam("key_holder")
)
ADD_LEASE = insert(leases)

ADD_MAILBOX_RUN = insert(mailbox_runs)

ADD_DIGEST = insert(digests_sent)
LAST_DIGEST = (
    select(digests_sent.c.sent_at)
    .where(digests_sent.c.mailbox == _mailbox)
    .order_by(digests_sent.c.sent_at.desc())
    .limit(1)
)
