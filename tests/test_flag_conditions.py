"""``match.flagged`` and ``match.seen`` through real runs against the test Dovecot.

The employee's own flags decide: a message they flagged is exempted, an unread one filed
apart. inboxwarden's own ``\\Flagged`` (``flag.also_flagged``, set in notify mode) must
not count as the employee's, or every due message would end up exempt.
"""

from __future__ import annotations

import pytest

from inboxwarden.config import load_settings
from inboxwarden.errors import ConfigError
from tests.kit.census import census
from tests.kit.engine import ENFORCING, GRACE, OLD, run, write_config
from tests.kit.seeding import make_message, seed
from tests.kit.servers import new_user

pytestmark = pytest.mark.imap

RULES = """
[[rules]]
name = "employee-flagged"
match.flagged = true
action = "keep"
basis = "Medarbetarens eget val"

[[rules]]
name = "unread-newsletters"
match.list_id = "*"
match.seen = false
action = "move"
target = "Oläst"
basis = "Berättigat intresse – GDPR art. 6.1 f"

[[rules]]
name = "newsletters"
match.list_id = "*"
action = "delete"
"""


def newsletter(name: str) -> tuple[bytes, object]:
    raw = make_message(
        subject=f"Nyheter {name}",
        from_="Nyheter <news@branschnytt.se>",
        to="me@exempel.se",
        list_id="<v.branschnytt.se>",
        message_id=f"<{name}@test>",
    )
    return raw, OLD


def test_flagged_and_seen_decide_where_mail_goes_and_our_own_flag_does_not_count(dovecot, tmp_path):
    email = new_user(dovecot)
    seed(dovecot, email, "INBOX", [newsletter("starred")], flags=["\\Flagged"])
    seed(dovecot, email, "INBOX", [newsletter("read")], flags=["\\Seen"])
    seed(dovecot, email, "INBOX", [newsletter("unread")])
    config = write_config(tmp_path, dovecot, [email], mode="notify", rules=RULES)

    # Notify: inboxwarden flags what is due (its own \Flagged, as flag.also_flagged says).
    notified = run(config, GRACE)
    assert notified.outcomes[0].applied.flagged == 2  # read and unread; "starred" is kept

    config.write_text(config.read_text().replace('default = "notify"', 'default = "enforce"'))
    summary = run(config, ENFORCING)
    assert summary.outcomes[0].status == "ok", summary.outcomes[0].error
    where = {mid: folder for (folder, mid), n in census(dovecot, email).items() if n}
    assert where == {"<starred@test>": "INBOX", "<unread@test>": "Oläst", "<read@test>": "Trash"}


def test_a_flag_condition_that_is_not_true_or_false_names_the_rule_and_field(dovecot, tmp_path):
    rules = '[[rules]]\nname = "exempt"\nmatch.flagged = "yes"\naction = "keep"\nbasis = "x"\n'
    config = write_config(tmp_path, dovecot, ["a@exempel.se"], rules=rules)
    with pytest.raises(ConfigError, match=r"rule 'exempt' \(rules\[0\]\), field 'match\.flagged'"):
        load_settings(config)
