"""Message references: an HMAC that tells messages apart and never shows its key."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta, timezone

from inboxwarden.policy.message import MessageInfo
from inboxwarden.policy.references import Referencer

ARRIVED = datetime(2026, 10, 12, 10, 0, tzinfo=UTC)


def message(message_id: str | None, arrived: datetime = ARRIVED, size: int = 1000) -> MessageInfo:
    headers = {"message-id": f"<{message_id}>"} if message_id else {}
    return MessageInfo(uid=1, internaldate=arrived, size=size, flags=frozenset(), headers=headers)


def test_two_messages_with_one_message_id_get_different_references():
    """A resend or a list copy shares the Message-ID but not arrival time or size."""
    ref = Referencer(b"k" * 32).ref
    assert ref(message("a@x")) != ref(message("a@x", arrived=ARRIVED + timedelta(seconds=1)))
    assert ref(message("a@x")) != ref(message("a@x", size=1001))
    assert ref(message(None)) != ref(message(None, size=1001))


def test_the_reference_is_the_same_in_every_folder_and_time_zone():
    """A move keeps Message-ID, INTERNALDATE and size; the zone a server reports in does not matter."""
    ref = Referencer(b"k" * 32).ref
    elsewhere = ARRIVED.astimezone(timezone(timedelta(hours=2)))  # as a server in CEST says it
    assert ref(message("<a@x>")) == ref(message("a@x", arrived=elsewhere))


def test_the_key_never_shows_in_a_repr():
    assert "secret-key" not in repr(Referencer(b"secret-key"))


def test_the_engine_shows_no_secret_in_its_repr(dovecot, tmp_path):
    """repr() of the engine (as a traceback or a debugger prints it) hides every secret."""
    from tests.kit.engine import runner_for, write_config
    from tests.kit.servers import new_user

    config = write_config(tmp_path, dovecot, [new_user(dovecot)])
    runner = runner_for(config)
    try:
        shown = repr(runner)
    finally:
        runner.state.close()
    assert (tmp_path / "audit.key").read_text() not in shown
    assert dovecot.master_password not in shown


def test_the_reference_is_the_documented_hmac_whatever_the_speed_up():
    """A DPO recomputes HMAC-SHA256(key, "Message-ID|UTC second|size")[:24] by hand, and
    references in an older trail must still match: the fast path changes no reference."""
    key = b"k" * 32
    ref = Referencer(key).ref
    cases = [
        ("a@x", datetime(2026, 10, 12, 10, 0, 5, 999_999, tzinfo=UTC), 1000),
        ("b@y", datetime(2026, 3, 29, 2, 30, tzinfo=timezone(timedelta(hours=2))), 7),
        ("c@z", datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC), 12),  # strftime writes "999"
    ]
    for message_id, arrived, size in cases:
        moment = arrived.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        text = f"{message_id}|{moment}|{size}".encode()
        expected = hmac.new(key, text, hashlib.sha256).hexdigest()[:24]
        assert ref(message(message_id, arrived=arrived, size=size)) == expected
