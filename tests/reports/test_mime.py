"""The messages' MIME structure and headers, parsed back the way a mail client reads them."""

from __future__ import annotations

import email
import email.policy
import email.utils
from datetime import datetime
from zoneinfo import ZoneInfo

from inboxwarden.reports.mime import (
    InlineImage,
    build_message,
    message_bytes,
    message_id,
    new_content_id,
)
from inboxwarden.reports.templating import Rendered

NOW = datetime(2026, 11, 2, 7, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
RENDERED = Rendered("Inkorgen: 3 meddelanden att sortera", "Hej åäö\n", "<p>Hej åäö</p>\n")


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_a_message_is_text_and_html_alternatives_with_the_automatic_headers():
    message = build_message(
        RENDERED,
        sender="InboxWarden <inboxwarden@exempel.se>",
        to="anna@exempel.se",
        now=NOW,
        language="sv",
        headers={"X-InboxWarden-Digest": "digest; id=1"},
    )
    raw = message_bytes(message)
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    parsed = parse(raw)
    assert parsed.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert parsed.get_body(("plain",)).get_content() == "Hej åäö\r\n"
    assert parsed.get_body(("html",)).get_content() == "<p>Hej åäö</p>\r\n"
    assert parsed["Subject"] == "Inkorgen: 3 meddelanden att sortera"
    assert parsed["From"] == "InboxWarden <inboxwarden@exempel.se>"
    assert parsed["To"] == "anna@exempel.se"
    assert email.utils.parsedate_to_datetime(parsed["Date"]) == NOW
    assert parsed["Date"].endswith("+0100")
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["X-Auto-Response-Suppress"] == "All"
    assert parsed["Content-Language"] == "sv"
    assert parsed["X-InboxWarden-Digest"] == "digest; id=1"
    assert message_id(message).endswith("@exempel.se")
    other = build_message(
        RENDERED, sender="inboxwarden@exempel.se", to="b@exempel.se", now=NOW, language="sv"
    )
    assert message_id(other) != message_id(message)


def test_an_inline_image_is_related_to_the_html_part_by_content_id():
    cid = new_content_id("InboxWarden <inboxwarden@exempel.se>", "chart")
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    message = build_message(
        Rendered("s", "t\n", f'<img src="cid:{cid}" alt="chart">\n'),
        sender="InboxWarden <inboxwarden@exempel.se>",
        to="maria@exempel.se",
        now=NOW,
        language="sv",
        images=[InlineImage(cid, png)],
    )
    parsed = parse(message_bytes(message))
    plain, related = parsed.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html, image = related.iter_parts()
    assert html.get_content_type() == "text/html"
    assert image.get_content_type() == "image/png"
    assert image["Content-ID"] == f"<{cid}>"
    assert image.get_content_disposition() == "inline"
    assert image.get_content() == png
    assert f"cid:{cid}" in html.get_content()
