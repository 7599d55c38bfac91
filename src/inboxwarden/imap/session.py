"""One logged-in IMAP connection: with :mod:`.connect`, which opens it, the only place
that talks to imapclient.

Everything that crosses this module's wall is plain, typed data (ints, strs,
:class:`MessageInfo`); imapclient's untyped values and exceptions stay inside. Two rules
from docs/behaviour.md §5 are enforced here because every caller goes through it: reading uses
``BODY.PEEK`` (never ``\\Seen``), and there is no way to send a bare ``EXPUNGE`` or a
``CLOSE`` (both would expunge the user's own ``\\Deleted`` messages).

What it needs beyond imapclient's public API goes through
:mod:`inboxwarden.imap.client_internals`, which keeps those private names in one place.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Self

import structlog
from imapclient.response_parser import parse_fetch_response

from inboxwarden.errors import ConnectionLost, FolderError, MissingCapability, ServerError
from inboxwarden.imap import client_internals, connect, stream, uidset
from inboxwarden.imap.answers import as_text, copyuid_mapping, messages_of
from inboxwarden.imap.connect import Credentials, Endpoint
from inboxwarden.imap.errors import translated
from inboxwarden.imap.folders import FolderEntry, find_special
from inboxwarden.imap.server_facts import FlagState, FolderState, Namespace, Resync
from inboxwarden.imap.structure import BodyPart, leaves
from inboxwarden.policy.message import OWN_MESSAGE_HEADER, MessageInfo

__all__ = ["REFUSAL_CODES", "ImapSession", "SentMove"]

log = structlog.get_logger(__name__)

_ESEARCH_ALL = re.compile(rb"\bALL\s+([0-9:,]+)", re.IGNORECASE)
_RESPONSE_CODE = re.compile(r"^\[([A-Za-z-]+)")
#: Response codes (RFC 5530) that say a folder name or target cannot be used at all.
REFUSAL_CODES = frozenset({"CANNOT", "NOPERM", "LIMIT", "OVERQUOTA"})


@dataclass(frozen=True, slots=True)
class SentMove:
    """A ``UID MOVE`` sent and not yet answered (see :meth:`ImapSession.send_move`)."""

    tag: bytes
    text: str
    folder: str


class ImapSession:
    """A logged-in connection to one mailbox."""

    def __init__(
        self,
        client: Any,
        capabilities: frozenset[str],
        server_id: Mapping[str, str] | None = None,
    ) -> None:
        self._client = client
        self.capabilities = capabilities
        #: What the server said about itself in ``ID`` (RFC 2971): lower-case field names.
        self.server_id: Mapping[str, str] = server_id or {}
        self._folders: list[FolderEntry] | None = None
        self._namespace: Namespace | None = None
        #: Characters probed for ``[CANNOT]`` in folder names, and the answer: a fact of
        #: the server, not of the mailbox, so the engine shares one dict per run.
        self.probed: dict[str, bool] = {}
        self.selected: FolderState | None = None
        #: QRESYNC (RFC 7162 §3.2) is enabled; CONDSTORE with it, or alone (tracks_changes).
        self.qresync = False
        self.tracks_changes = False
        self.commands = 0
        #: Longest UID set in one command; the rest of the line is short and fixed.
        self.max_set_chars = uidset.MAX_SET_CHARS
        #: Messages per FETCH / MOVE command; the engine sets what the server allows.
        self.batch_size = 5000

    # --- connecting ---------------------------------------------------------------

    @classmethod
    def open(cls, endpoint: Endpoint, credentials: Credentials) -> ImapSession:
        """Connect, secure and log in; raises :class:`MailboxError` subclasses only."""
        link = connect.logged_in(endpoint, credentials)
        session = cls(link.client, link.capabilities, link.server_id)
        session.commands += link.commands
        session.qresync = "QRESYNC" in link.capabilities
        session.tracks_changes = link.tracks_changes
        return session

    def close(self) -> None:
        """Log out; never CLOSE the folder, which would expunge ``\\Deleted`` messages."""
        with translated():
            try:
                self._client.logout()
            except Exception:
                connect.shutdown(self._client)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with contextlib.suppress(ConnectionLost):
            self.close()

    def has(self, capability: str) -> bool:
        """True when the server advertised *capability* after login."""
        return capability.upper() in self.capabilities

    # --- folders ------------------------------------------------------------------

    def folders(self) -> list[FolderEntry]:
        """Every folder with its attributes and hierarchy separator, listed once."""
        if self._folders is None:
            with translated():
                listing = self._client.list_folders()
            self.commands += 1
            self._folders = [
                FolderEntry(
                    name=str(name),
                    flags=frozenset(f.decode("ascii", "replace") for f in flags),
                    separator=(sep.decode() if isinstance(sep, bytes) else sep) or "/",
                )
                for flags, sep, name in listing
            ]
        return self._folders

    def namespace(self) -> Namespace:
        """The personal namespace's prefix and separator: from ``NAMESPACE`` (RFC 2342)
        where offered, else the separator of ``LIST "" ""`` (RFC 3501 §6.3.8), no prefix."""
        if self._namespace is None:
            prefix, separator = "", None
            if self.has("NAMESPACE"):
                with translated():
                    personal = self._client.namespace().personal
                self.commands += 1
                if personal:
                    prefix, separator = str(personal[0][0]), personal[0][1]
            if not separator:
                with translated():
                    root = self._client.list_folders("", "")
                self.commands += 1
                separator = root[0][1] if root else None
            if isinstance(separator, bytes):
                separator = separator.decode()
            self._namespace = Namespace(prefix, separator or "/")
        return self._namespace

    @property
    def separator(self) -> str:
        """The hierarchy separator of the personal namespace (RFC 2342, RFC 3501 §6.3.8)."""
        return self.namespace().separator

    def special_folder(self, use: str) -> str | None:
        """The folder with SPECIAL-USE attribute *use* (RFC 6154), or a localised fallback."""
        return find_special(self.folders(), use)

    def exists(self, name: str) -> bool:
        """True when LIST showed *name*."""
        return any(entry.name == name for entry in self.folders())

    def refusal(self, name: str) -> str | None:
        """The response code with which the server would refuse *name* as a target, or None.

        Learnt without changing anything: ``STATUS`` of the name, whose ``NO [CANNOT]``
        (RFC 5530) says the name itself is not allowed; and, where the server has ACL
        (RFC 4314), ``MYRIGHTS``: an existing folder needs ``i`` (insert), a new one
        ``k`` on its parent (on the INBOX for a top-level folder, as Dovecot does).
        Only response codes are read, never the server's English text.
        """
        if not self.exists(name):
            kind, code, _ = self._simple("STATUS", name, "(UIDNEXT)")
            client_internals.drop_untagged(self._client, "STATUS")
            if kind != "OK" and code in REFUSAL_CODES:
                return code
        if not self.has("ACL"):
            return None
        folder, needed = (name, "i") if self.exists(name) else (self._parent(name), "k")
        rights = self._rights(folder)
        # Rights the server would not tell are no refusal: CREATE or MOVE will say.
        return "NOPERM" if rights is not None and needed not in rights else None

    def refused_characters(self, characters: Iterable[str]) -> frozenset[str]:
        """Those of *characters* the server refuses inside a folder name (``[CANNOT]``),
        each probed once with ``STATUS`` of a name that nobody uses."""
        prefix, separator = self.namespace()
        refused: set[str] = set()
        for char in sorted(set(characters) - {separator}):
            probe = self.probed.get(char)
            if probe is None:
                kind, code, _ = self._simple("STATUS", f"{prefix}iw-probe{char}x", "(UIDNEXT)")
                client_internals.drop_untagged(self._client, "STATUS")
                probe = kind != "OK" and code == "CANNOT"
                self.probed[char] = probe
            if probe:
                refused.add(char)
        return frozenset(refused)

    def ensure_folder(self, name: str, *, special_use: str | None = None) -> None:
        """Create *name* (and its parents, RFC 3501 §6.3.3) when missing, and subscribe;
        with *special_use* (``\\Trash``) as ``CREATE … (USE (…))`` where the server has
        CREATE-SPECIAL-USE (RFC 6154 §3). A folder that exists but refuses insertion
        (ACL without ``i``) is refused here, before any message is sent to it.

        Raises :class:`FolderError` naming the server's response code and reason (the
        folder's name left out: it may hold an address).
        """
        if self.exists(name):
            if self.has("ACL") and "i" not in (self._rights(name) or "i"):
                raise FolderError("the server does not let us file into a target folder [NOPERM]")
            return
        args: tuple[str, ...] = ()
        if special_use and self.has("CREATE-SPECIAL-USE"):
            args = (f"(USE ({special_use}))",)
        kind, code, text = self._simple("CREATE", name, *args)
        if kind == "OK" and self._folders is not None:
            # Known now without listing again (one LIST per new folder otherwise).
            flags = frozenset({special_use}) if special_use and args else frozenset()
            self._folders.append(FolderEntry(name, flags, self.separator))
        else:
            self._folders = None
        if kind != "OK" and not self.exists(name):  # another client may have created it
            # The response code is the reason; the text only where there is none (it
            # varies, and may quote the name, which may hold an address).
            said = f"[{code}]" if code else text.replace(name, "<folder>")[:120]
            raise FolderError(f"the server refused to create a target folder: {said}")
        kind, _, _ = self._simple("SUBSCRIBE", name)
        if kind != "OK":
            log.warning("subscribe_failed")

    def ensure_trash(self) -> str:
        """The trash folder, created (``\\Trash`` special-use where possible) if missing."""
        found = self.special_folder("\\Trash")
        if found is not None:
            return found
        prefix, _ = self.namespace()
        name = f"{prefix}Trash"
        self.ensure_folder(name, special_use="\\Trash")
        return name

    def _simple(self, command: str, folder: str, *args: str) -> tuple[str, str | None, str]:
        """Send *command* on *folder*: the answer's kind, response code and text."""
        with translated():
            kind, data = client_internals.simple_command(self._client, command, folder, *args)
        self.commands += 1
        text = as_text(data[-1]) if data else ""
        match = _RESPONSE_CODE.match(text)
        return kind, (match.group(1).upper() if match else None), text

    def _rights(self, folder: str) -> str | None:
        """``MYRIGHTS`` (RFC 4314 §3.5): the rights letters this login has on *folder*,
        or None when the server does not say."""
        kind, _, _ = self._simple("MYRIGHTS", folder)
        answers = client_internals.take_untagged(self._client, "MYRIGHTS")
        if kind != "OK" or not answers:
            return None
        return as_text(answers[-1]).rsplit(" ", 1)[-1]

    def _parent(self, name: str) -> str:
        """The folder right above *name* (asked even when it does not exist yet, as
        Dovecot's ACL does); the INBOX for a top-level name."""
        prefix, separator = self.namespace()
        head, sep, _ = name.rpartition(separator)
        if sep and head and head + separator != prefix:
            return head
        return "INBOX"

    def select(self, folder: str, *, readonly: bool) -> FolderState:
        """SELECT (or EXAMINE when *readonly*) *folder* and return its state."""
        with translated():
            try:
                info = self._client.select_folder(folder, readonly=readonly)
            except Exception as exc:
                if isinstance(exc, OSError):
                    raise
                raise FolderError(f"cannot select a folder: {str(exc)[:120]}") from exc
        self.commands += 1
        self.selected = self._folder_state(folder, info)
        return self.selected

    def _folder_state(self, folder: str, info: Mapping[bytes, Any]) -> FolderState:
        permanent = {f.decode("ascii", "replace") for f in info.get(b"PERMANENTFLAGS", ())}
        modseq = info.get(b"HIGHESTMODSEQ") if self.tracks_changes else None
        return FolderState(
            name=folder,
            uidvalidity=int(info.get(b"UIDVALIDITY", 0)),
            uidnext=int(info.get(b"UIDNEXT", 0)),
            exists=int(info.get(b"EXISTS", 0)),
            keywords_allowed="\\*" in permanent,
            highestmodseq=None if modseq is None else int(modseq),
        )

    def resync(self, folder: str, *, uidvalidity: int, modseq: int, readonly: bool) -> Resync:
        """SELECT (or EXAMINE) *folder* again with ``QRESYNC (uidvalidity modseq)``:
        the server answers, in one consistent snapshot, the HIGHESTMODSEQ now, what was
        expunged and the flags of what changed since *modseq* (RFC 7162 §3.2.5).
        Only where QRESYNC is enabled; another UIDVALIDITY shows in ``folder``."""
        if not self.qresync:
            raise MissingCapability("QRESYNC")
        client = self._client
        answers = ("EXISTS", "UIDVALIDITY", "UIDNEXT", "HIGHESTMODSEQ", "PERMANENTFLAGS")
        client_internals.drop_untagged(client, *answers, "VANISHED", "FETCH")
        with translated():
            kind, data = client_internals.simple_command(
                client,
                "EXAMINE" if readonly else "SELECT",
                folder,
                f"(QRESYNC ({uidvalidity} {modseq}))",
            )
        self.commands += 1
        if kind != "OK":
            self.selected = None
            raise FolderError(f"cannot select a folder: {_reason(data)[:120]}")
        vanished: list[tuple[int, int]] = []
        for line in client_internals.take_untagged(client, "VANISHED"):
            vanished += _runs(as_text(line).replace("(EARLIER)", "").strip())
        changed: dict[int, frozenset[str]] = {}
        fetched = client_internals.take_untagged(client, "FETCH")
        if fetched:
            for uid, values in parse_fetch_response(fetched, False, True).items():
                changed[int(uid)] = frozenset(as_text(f) for f in values.get(b"FLAGS", ()))
        # What SELECT answers, in the shape imapclient's select_folder gives it.
        info: dict[bytes, Any] = {}
        for name in answers:
            lines = client_internals.take_untagged(client, name)
            if not lines:
                continue
            text = as_text(lines[-1]).strip()
            if name == "PERMANENTFLAGS":
                info[name.encode()] = tuple(text.strip("()").encode().split())
            elif text.isdigit():
                info[name.encode()] = int(text)
        self.selected = self._folder_state(folder, info)
        return Resync(self.selected, tuple(vanished), changed)

    def unselect(self) -> None:
        """Leave the selected folder without expunging anything: ``UNSELECT`` (RFC 3691)
        where offered, else an ``EXAMINE`` that cannot succeed, since a failed SELECT or
        EXAMINE leaves no folder selected (RFC 3501 §6.3.1). Never ``CLOSE``."""
        if self.has("UNSELECT"):
            with translated():
                self._client.unselect_folder()
            self.commands += 1
        else:
            self._simple("EXAMINE", f"{self.namespace().prefix}iw-nothing-here {os.getpid()}")
        self.selected = None

    def status(self, folder: str) -> tuple[int, int]:
        """UIDVALIDITY and UIDNEXT of a folder that is not selected (RFC 3501 §6.3.10)."""
        with translated():
            info = self._client.folder_status(folder, [b"UIDVALIDITY", b"UIDNEXT"])
        self.commands += 1
        return int(info[b"UIDVALIDITY"]), int(info[b"UIDNEXT"])

    # --- reading ------------------------------------------------------------------

    def search(self, criteria: Sequence[str | bytes]) -> list[int]:
        """UIDs matching *criteria*; with ESEARCH (RFC 4731) the answer comes as ranges.

        A plain SEARCH answer passes imaplib's 1,000,000-byte line limit at roughly
        150,000 UIDs; ESEARCH folds runs, so it stays short however large the INBOX is.
        """
        args = [c.encode() if isinstance(c, str) else c for c in criteria]
        with translated():
            if self.has("ESEARCH"):
                lines = client_internals.raw_untagged(
                    self._client, b"SEARCH", [b"RETURN", b"(ALL)", *args], "ESEARCH"
                )
                self.commands += 1
                found: list[int] = []
                for line in lines:
                    if isinstance(line, bytes) and (m := _ESEARCH_ALL.search(line)):
                        found.extend(uidset.parse(m.group(1).decode("ascii")))
                return found
            result = self._client.search(args)
        self.commands += 1
        return [int(uid) for uid in result]

    def fetch_messages(
        self,
        uids: Sequence[int],
        *,
        header_fields: Sequence[str],
        bodystructure: bool = False,
        batch_size: int = 5000,
    ) -> Iterator[MessageInfo | int]:
        """Fetch what the rules need for *uids*, one FETCH per batch.

        Yields a :class:`MessageInfo` per message, or the bare UID of a message whose
        answer could not be understood, so the caller can skip and count it.
        """
        always = {"MESSAGE-ID", OWN_MESSAGE_HEADER.upper()}
        fields = " ".join(sorted({f.upper() for f in header_fields} | always))
        items = f"(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS ({fields})]"
        items += " BODYSTRUCTURE)" if bodystructure else ")"
        imap = client_internals.imaplib_of(self._client)
        remaining = set(uids)
        in_flight: tuple[bytes, list[int]] | None = None
        for text, covered in uidset.chunks(uids, size=batch_size, max_chars=self.max_set_chars):
            with translated():
                tag = stream.send(imap, f"UID FETCH {text} {items}".encode())
            self.commands += 1
            if in_flight is not None:
                yield from self._answer(*in_flight, remaining, fast=not bodystructure)
            in_flight = (tag, covered)
        if in_flight is not None:
            yield from self._answer(*in_flight, remaining, fast=not bodystructure)

    def _answer(
        self, tag: bytes, covered: list[int], remaining: set[int], *, fast: bool
    ) -> Iterator[MessageInfo | int]:
        yield from messages_of(self._received(tag), remaining, covered, fast=fast)

    def _received(self, tag: bytes) -> Iterator[stream.RawElement]:
        """*tag*'s FETCH data as it arrives; every error of the socket as ours."""
        answer = stream.receive_each(client_internals.imaplib_of(self._client), tag)
        try:
            # One context for the whole answer: entering one per message cost a tenth of
            # the scan. What the consumer raises never comes in here.
            with translated():
                yield from answer
        except ValueError as exc:  # a read on a socket file closed under us
            raise ConnectionLost("connection closed during FETCH") from exc

    def fetch_raw(self, uids: Sequence[int], item: str = "BODY.PEEK[]") -> dict[int, bytes]:
        """Whole messages (or one *item*) for a few UIDs: for digests and tests, not scans."""
        out: dict[int, bytes] = {}
        for text, _ in uidset.chunks(uids, size=200):
            with translated():
                response = self._client.fetch(uidset.parse(text), [item])
            self.commands += 1
            for uid, data in response.items():
                for key, value in data.items():
                    if key.startswith(b"BODY[") and isinstance(value, bytes):
                        out[int(uid)] = value
        return out

    def fetch_structures(self, uids: Sequence[int]) -> dict[int, list[BodyPart]]:
        """The MIME leaves of each message (BODYSTRUCTURE), one FETCH per 500 messages."""
        out: dict[int, list[BodyPart]] = {}
        for text, _ in uidset.chunks(uids, size=500, max_chars=self.max_set_chars):
            with translated():
                response = self._client.fetch(uidset.parse(text), ["BODYSTRUCTURE"])
            self.commands += 1
            for uid, data in response.items():
                structure = data.get(b"BODYSTRUCTURE")
                if structure is not None:
                    out[int(uid)] = leaves(structure)
        return out

    def fetch_sections(
        self, uids: Sequence[int], sections: Sequence[str], *, limit: int, size: int = 200
    ) -> dict[tuple[int, str], bytes]:
        """The first *limit* bytes of *sections* of *uids*, with each part's MIME header.

        ``HEADER`` stands for the message header (the MIME header of a message that is
        not multipart); any other section is fetched with its ``.MIME`` header. Keys are
        (uid, item) where item is the section or ``<section>.MIME``. At most *size*
        messages go in one command, and the items are split over several commands so
        that no command line is longer than the session's line budget: a message with
        3,000 text parts once made a 180 kB line that the server refused.
        """
        items: list[str] = []
        for section in sections:
            if section == "HEADER":
                items.append("BODY.PEEK[HEADER]")
            else:
                items += [f"BODY.PEEK[{section}.MIME]", f"BODY.PEEK[{section}]<0.{limit}>"]
        half = max(1, self.max_set_chars // 2)  # the UID set and the items share the line
        # imapclient writes the UIDs one by one: a 32-bit UID and its comma take 11 chars.
        per_command = max(1, min(size, half // 11))
        out: dict[tuple[int, str], bytes] = {}
        for text, _ in uidset.chunks(uids, size=per_command, max_chars=half):
            for group in _item_groups(items, half):
                with translated():
                    response = self._client.fetch(uidset.parse(text), group)
                self.commands += 1
                for uid, data in response.items():
                    for key, value in data.items():
                        name = as_text(key)
                        if name.startswith("BODY[") and isinstance(value, bytes):
                            item = name[5:].split("]", 1)[0]
                            out[(int(uid), item)] = value
        return out

    # --- writing ------------------------------------------------------------------

    def store(self, uids: Sequence[int], flags: Sequence[str], *, add: bool) -> None:
        """Add or remove *flags* on *uids*, silently, one STORE per batch (RFC 3501 §6.4.6)."""
        for text, _ in uidset.chunks(uids, size=10_000, max_chars=self.max_set_chars):
            with translated():
                if add:
                    self._client.add_flags(text, list(flags), silent=True)
                else:
                    self._client.remove_flags(text, list(flags), silent=True)
            self.commands += 1

    def flag_states(self, uids: Sequence[int]) -> dict[int, FlagState]:
        """The flags, and the MODSEQ under CONDSTORE (RFC 7162 §3.1.4), of those *uids*
        that are still in the selected folder; one FETCH per batch, none for no UIDs."""
        items = ["FLAGS", "MODSEQ"] if self.has("CONDSTORE") else ["FLAGS"]
        out: dict[int, FlagState] = {}
        for text, _ in uidset.chunks(uids, size=10_000, max_chars=self.max_set_chars):
            for uid, data in self._fetch_set(text, items).items():
                modseq = data.get(b"MODSEQ")
                out[int(uid)] = FlagState(
                    frozenset(as_text(f) for f in data.get(b"FLAGS", ())),
                    int(modseq[0]) if modseq else None,
                )
        return out

    def changed_since(self, modseq: int) -> dict[int, tuple[frozenset[str], datetime]]:
        """The flags and INTERNALDATE of every message in the selected folder that was
        added or changed since *modseq*: ``UID FETCH 1:* (…) (CHANGEDSINCE …)``
        (RFC 7162 §3.1.4). Expunged messages do not show; EXISTS tells of those."""
        with translated():
            kind, data = client_internals.uid_fetch(
                self._client, "1:*", f"(UID FLAGS INTERNALDATE) (CHANGEDSINCE {modseq})"
            )
            if kind != "OK":
                raise ServerError(f"FETCH refused: {_reason(data)}")
            response = parse_fetch_response(data, False, True) if data != [None] else {}
        self.commands += 1
        out: dict[int, tuple[frozenset[str], datetime]] = {}
        for uid, values in response.items():
            when = values.get(b"INTERNALDATE")
            if not isinstance(when, datetime):
                raise ServerError("FETCH CHANGEDSINCE: an answer without INTERNALDATE")
            out[int(uid)] = (frozenset(as_text(f) for f in values.get(b"FLAGS", ())), when)
        return out

    def _fetch_set(self, text: str, items: Sequence[str]) -> dict[int, dict[bytes, Any]]:
        """UID FETCH over a folded UID set; imapclient's ``fetch`` would spell out every UID."""
        wanted = set(uidset.parse(text))
        with translated():
            kind, data = client_internals.uid_fetch(self._client, text, "(" + " ".join(items) + ")")
            if kind != "OK":
                raise ServerError(f"FETCH refused: {_reason(data)}")
            response = parse_fetch_response(data, False, True)
        self.commands += 1
        return {int(uid): values for uid, values in response.items() if int(uid) in wanted}

    @property
    def stable_identity(self) -> str | None:
        """The FETCH item naming a message the same in every folder, where there is one:
        ``EMAILID`` (RFC 8474 OBJECTID) or Gmail's ``X-GM-MSGID``; a COPY keeps it."""
        if self.has("OBJECTID"):
            return "EMAILID"
        if self.has("X-GM-EXT-1"):
            return "X-GM-MSGID"
        return None

    def stable_ids(self, uids: Sequence[int]) -> dict[int, str]:
        """The stable identity of each of *uids* still here; empty without one."""
        item = self.stable_identity
        if item is None:
            return {}
        out: dict[int, str] = {}
        for text, _ in uidset.chunks(uids, size=10_000, max_chars=self.max_set_chars):
            for uid, data in self._fetch_set(text, [item]).items():
                value = data.get(item.encode())
                if isinstance(value, tuple) and value:
                    value = value[0]  # EMAILID comes parenthesised: (M6d99ac3275bb4e)
                if value is not None:
                    out[uid] = as_text(value)
        return out

    def sync(self) -> None:
        """NOOP (RFC 3501 §6.1.2): let the server announce what other sessions changed."""
        with translated():
            self._client.noop()
        self.commands += 1
        client_internals.drop_untagged(
            self._client, "EXPUNGE", "VANISHED", "FETCH", "EXISTS", "RECENT"
        )

    def present(self, uids: Sequence[int]) -> list[int]:
        """Those of *uids* still in the selected folder (``UID SEARCH UID``)."""
        found: list[int] = []
        for text, _ in uidset.chunks(uids, size=100_000, max_chars=self.max_set_chars):
            found += self.search(["UID", text])
        return sorted(set(found) & set(uids))

    def set_flags(self, uids: Sequence[int], flags: Sequence[str]) -> None:
        """Replace the flags of *uids* with exactly *flags* (``FLAGS.SILENT``)."""
        settable = [f for f in flags if f.lower() != "\\recent"]
        for text, _ in uidset.chunks(uids, size=10_000, max_chars=self.max_set_chars):
            with translated():
                self._client.set_flags(text, settable, silent=True)
            self.commands += 1

    def add_flags_unless_changed(
        self, uids: Sequence[int], flags: Sequence[str], modseq: int
    ) -> list[int]:
        """Add *flags* only where nothing changed since *modseq*; returns the UIDs the
        server refused because they did change (``UNCHANGEDSINCE``, RFC 7162 §3.1.3)."""
        client = self._client
        modified: list[int] = []
        for text, _ in uidset.chunks(uids, size=10_000, max_chars=self.max_set_chars):
            client_internals.drop_untagged(client, "MODIFIED")
            with translated():
                kind, data = client_internals.uid_command(
                    client, "STORE", text, f"(UNCHANGEDSINCE {modseq})", "+FLAGS.SILENT",
                    "(" + " ".join(flags) + ")",
                )  # fmt: skip
            self.commands += 1
            if kind != "OK":
                raise ServerError(f"conditional STORE refused: {_reason(data)}")
            for code in client_internals.take_untagged(client, "MODIFIED"):
                modified += uidset.parse(as_text(code))
            # Under CONDSTORE the server may report the new MODSEQs even for .SILENT.
            client_internals.drop_untagged(client, "FETCH")
        return sorted(set(modified))

    def move(self, uids: Sequence[int], folder: str) -> dict[int, int]:
        """UID MOVE (RFC 6851) and return the COPYUID mapping source → destination."""
        if not self.has("MOVE"):
            raise MissingCapability("MOVE")
        mapping: dict[int, int] = {}
        for text, _ in uidset.chunks(uids, size=len(uids) or 1, max_chars=self.max_set_chars):
            mapping.update(self.receive_move(self._send_move(text, folder)))
        return mapping

    def send_move(self, uids: Sequence[int], folder: str) -> SentMove:
        """Send one ``UID MOVE`` of *uids* and return at once, without its answer.

        The caller may do its own work while the server moves; the next command on this
        session must be :meth:`receive_move`. *uids* must fit one command line
        (:attr:`max_set_chars`), as :func:`uidset.chunks` cuts them.
        """
        if not self.has("MOVE"):
            raise MissingCapability("MOVE")
        text = uidset.to_text(uids)
        if not uids or len(text) > self.max_set_chars:
            raise ValueError("send_move takes one non-empty command's worth of UIDs")
        return self._send_move(text, folder)

    def _send_move(self, text: str, folder: str) -> SentMove:
        name = client_internals.folder_argument(self._client, folder)
        line = b"UID MOVE " + text.encode("ascii") + b" " + name
        with translated():
            tag = stream.send(client_internals.imaplib_of(self._client), line)
        self.commands += 1
        return SentMove(tag, text, folder)

    def receive_move(self, sent: SentMove) -> dict[int, int]:
        """The answer to a :meth:`send_move`: the COPYUID mapping source → destination.

        RFC 5530 EXPUNGEISSUED (the user expunged some of these meanwhile): catch up with
        NOOP and move the ones still here.
        """
        codes: dict[str, list[bytes]] = {}
        imap = client_internals.imaplib_of(self._client)
        try:
            with translated():
                stream.receive_codes(imap, sent.tag, "MOVE", codes)
        except ServerError as exc:
            if "EXPUNGEISSUED" not in str(exc).upper():
                raise
            with translated():
                self._client.noop()
                remaining = [int(u) for u in self._client.search(["UID", sent.text])]
            self.commands += 2
            if remaining:
                again = self._send_move(uidset.to_text(remaining), sent.folder)
                with translated():
                    stream.receive_codes(imap, again.tag, "MOVE", codes)
        mapping: dict[int, int] = {}
        for code in codes.get("COPYUID", []):
            mapping.update(copyuid_mapping(code))
        return mapping

    def copy(self, uids: Sequence[int], folder: str) -> dict[int, int]:
        """UID COPY and return the COPYUID mapping (RFC 4315 §3)."""
        client = self._client
        mapping: dict[int, int] = {}
        for text, _ in uidset.chunks(uids, size=len(uids) or 1, max_chars=self.max_set_chars):
            client_internals.drop_untagged(client, "COPYUID")
            try:
                self._send_copy(text, folder)
            except ServerError as exc:
                # RFC 5530 EXPUNGEISSUED: another session (the user) expunged some of
                # these meanwhile. Catch up with NOOP and copy the ones still here.
                if "EXPUNGEISSUED" not in str(exc).upper():
                    raise
                with translated():
                    self._client.noop()
                    remaining = [int(u) for u in self._client.search(["UID", text])]
                self.commands += 2
                if remaining:
                    self._send_copy(uidset.to_text(remaining), folder)
            # Dovecot sends COPYUID tagged for COPY; imaplib files it under the code's name.
            for code in client_internals.take_untagged(client, "COPYUID"):
                mapping.update(copyuid_mapping(code))
            client_internals.drop_untagged(client, "EXPUNGE", "VANISHED")
        return mapping

    def _send_copy(self, text: str, folder: str) -> None:
        with translated():
            self._client.copy(text, folder)
        self.commands += 1

    def expunge(self, uids: Sequence[int]) -> None:
        """UID EXPUNGE exactly *uids* (RFC 4315 §2.1); a bare EXPUNGE is never sent."""
        if not self.has("UIDPLUS"):
            raise MissingCapability("UIDPLUS")
        for text, _ in uidset.chunks(uids, size=10_000, max_chars=self.max_set_chars):
            with translated():
                self._client.uid_expunge(text)
            self.commands += 1
        client_internals.drop_untagged(self._client, "EXPUNGE")

    def append(self, folder: str, message: bytes, flags: Sequence[str], when: datetime) -> None:
        """APPEND *message* with an internal date (RFC 3501 §6.3.11)."""
        with translated():
            self._client.append(folder, message, list(flags), when)
        self.commands += 1

    def raw_client(self) -> Any:
        """The imapclient object, for tests that must look beneath the wall."""
        return self._client


def _runs(text: str) -> list[tuple[int, int]]:
    """A sequence-set (``1:5,9``) as inclusive runs, without listing every UID in them."""
    runs: list[tuple[int, int]] = []
    for part in text.split(","):
        first, _, last = part.strip().partition(":")
        if first.isdigit() and (not last or last.isdigit()):
            a, b = int(first), int(last or first)
            runs.append((min(a, b), max(a, b)))
    return runs


def _reason(data: Any) -> str:
    return " ".join(as_text(d) for d in data or ())[:200]


def _item_groups(items: list[str], max_chars: int) -> list[list[str]]:
    """FETCH items in groups whose joined text stays within *max_chars* (at least one each)."""
    groups: list[list[str]] = []
    length = max_chars + 1
    for item in items:
        if length + 1 + len(item) > max_chars:
            groups.append([])
            length = -1
        groups[-1].append(item)
        length += 1 + len(item)
    return groups
