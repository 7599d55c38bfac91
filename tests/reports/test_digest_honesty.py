"""The digest tells the employee only what will happen, and says when it could not
replace the older one: against the real test Dovecot, in the layouts of the wild."""

from __future__ import annotations

from datetime import datetime

import pytest

from inboxwarden.demo.localserver import capability_without
from inboxwarden.reports import send_digests
from inboxwarden.reports.digest_job import digest_table
from tests.kit.engine import GRACE, OLD, STOCKHOLM, runner_for
from tests.kit.seeding import make_message, seed
from tests.kit.servers import new_user, special_server
from tests.reports.mailkit import configure, digests_in

pytestmark = pytest.mark.imap

REMINDER = datetime(2026, 11, 6, 8, 0, tzinfo=STOCKHOLM)


def _mail(email: str) -> list[tuple[bytes, datetime]]:
    return [
        (make_message(subject="Ärende 4471", from_="Lena <lena@kund.se>", to=email), OLD),
        (make_message(subject="Faktura 12", from_="Fortnox <faktura@fortnox.se>", to=email), OLD),
    ]


def _rows(email: str, mode: str = "enforce") -> str:
    return f"email,language,legal_hold,mode\n{email},en,,{mode}\n"


def test_a_folder_the_server_refuses_is_not_announced_as_a_move(tmp_path):
    """Customer mail cannot be filed (ACL without 'i'): the digest lists it as the
    employee's to handle, never as "will be moved to Kunder/kund_se"."""
    acl = "* anyone lrwstipekxa\nKunder/kund_se -anyone i\n"
    with special_server(separator="/", layout="maildir++", acl=acl) as server:
        anna = new_user(server)
        seed(server, anna, "Kunder/kund_se", [])
        seed(server, anna, "INBOX", _mail(anna))
        runner = runner_for(configure(tmp_path, server, _rows(anna)))
        try:
            [outcome] = send_digests(runner, runner.window(GRACE))
        finally:
            runner.state.close()
        [digest] = digests_in(server, anna)
    text = digest.part("plain")
    assert outcome.status == "sent" and outcome.due == 2
    assert "Bokföring/2026" in text  # the invoice's move is possible and announced
    assert "Ärende 4471" in text  # the customer mail is still listed …
    assert "Kunder" not in text  # … but not as a move to a folder that refuses it


def test_the_digest_is_appended_with_no_folder_open_read_only(tmp_path):
    """APPEND comes after UNSELECT: a server may refuse it to an INBOX open read-only."""
    with special_server(trace=True) as server:
        anna = new_user(server)
        seed(server, anna, "INBOX", _mail(anna))
        runner = runner_for(configure(tmp_path, server, _rows(anna, "notify")))
        try:
            [outcome] = send_digests(runner, runner.window(GRACE))
        finally:
            runner.state.close()
        sent = [line.decode(errors="replace") for line in server.rawlog(anna)]
    assert outcome.status == "sent"
    session = [s for s in sent if " APPEND " in s][-1]  # the first ones are the seeding
    verbs = [line.split(" ")[1].upper() for line in session.splitlines() if " " in line]
    before_append = verbs[: verbs.index("APPEND")]
    opened = max(i for i, v in enumerate(before_append) if v in ("SELECT", "EXAMINE"))
    assert "UNSELECT" in before_append[opened:]


def test_without_uidplus_or_move_an_old_digest_left_behind_is_reported(tmp_path):
    """No UID EXPUNGE and no MOVE: the old digest cannot go, and the output says so
    instead of a plain "sent"."""
    with special_server(imap_capability=capability_without("UIDPLUS", "MOVE")) as server:
        anna = new_user(server)
        seed(server, anna, "INBOX", _mail(anna))
        runner = runner_for(configure(tmp_path, server, _rows(anna, "notify")))
        try:
            send_digests(runner, runner.window(GRACE))
            [second] = send_digests(runner, runner.window(REMINDER))
        finally:
            runner.state.close()
        found = digests_in(server, anna)
    assert len(found) == 2
    assert (second.status, second.replaced, second.left) == ("sent", 0, 1)
    assert "1 older digest(s) NOT removed: the server has neither UIDPLUS nor MOVE" in (
        digest_table([second])
    )
