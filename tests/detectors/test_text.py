"""MIME to text: the e-mail corpus, charsets, transfer encodings, HTML, caps and broken input."""

from __future__ import annotations

import email.policy
import json
import re
import time
from email.message import EmailMessage
from email.mime.text import MIMEText
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inboxwarden.detectors import Kind, Part, extract_text, scan_message
from inboxwarden.detectors.html_text import html_to_text

UUENCODED_IN_BODY = {
    "zbateson-mail-mime-parser/m0018.eml": "a uuencoded attachment inside text/plain stays "
    "part of the scanned body; zbateson's expected text strips it",
}


def _manifest(corpus: Path) -> list[dict[str, object]]:
    messages: list[dict[str, object]] = json.loads(
        (corpus / "emails" / "manifest.json").read_text(encoding="utf-8")
    )["messages"]
    return messages


def test_every_corpus_message_is_scanned_without_raising(corpus: Path) -> None:
    files = sorted((corpus / "emails").rglob("*.eml"))
    assert len(files) == 246
    for path in files:
        raw = path.read_bytes()
        result = scan_message(raw)
        extraction = extract_text(raw)
        texts = {(s.part, s.index): s.text for s in extraction.segments}
        assert result.bytes_scanned == extraction.bytes_read, path
        for finding in result.findings:
            assert 0 <= finding.start < finding.end <= len(texts[finding.part, finding.index])


def test_subjects_decode_as_the_upstream_projects_expect(corpus: Path) -> None:
    checked = 0
    for entry in _manifest(corpus):
        expected = entry.get("expected", {})
        assert isinstance(expected, dict)
        if "subject" not in expected:
            continue
        extraction = extract_text((corpus / "emails" / str(entry["file"])).read_bytes())
        subjects = [s.text for s in extraction.segments if s.part is Part.SUBJECT]
        assert subjects[:1] == [" ".join(str(expected["subject"]).split())], entry["file"]
        checked += 1
    assert checked == 81


def test_bodies_decode_to_the_expected_text(corpus: Path) -> None:
    checked = 0
    for entry in _manifest(corpus):
        expected = entry.get("expected", {})
        assert isinstance(expected, dict)
        for key in ("text_body_equals_file", "html_body_text_equals_file"):
            if key not in expected:
                continue
            want_file = corpus / "emails" / "zbateson-mail-mime-parser" / str(expected[key])
            want = "".join(want_file.read_text(encoding="latin-1").split())
            extraction = extract_text((corpus / "emails" / str(entry["file"])).read_bytes())
            bodies = ["".join(s.text.split()) for s in extraction.segments if s.part is Part.BODY]
            if entry["file"] in UUENCODED_IN_BODY:
                assert any(body.startswith(want) for body in bodies)
            else:
                assert want in bodies, (entry["file"], key)
            checked += 1
    assert checked == 68


def test_an_unknown_charset_is_read_anyway_and_counted_as_an_error(corpus: Path) -> None:
    raw = (corpus / "emails" / "zbateson-mail-mime-parser" / "invalid-charset.eml").read_bytes()
    extraction = extract_text(raw)
    assert extraction.errors == 1
    assert "Tortoise" in extraction.segments[-1].text


def _message(
    body: str, *, subtype: str = "plain", charset: str = "utf-8", cte: str = "8bit"
) -> bytes:
    head = (
        "From: a@exempel.se\r\nTo: b@exempel.se\r\nSubject: Hej\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/{subtype}; charset={charset}\r\n"
        f"Content-Transfer-Encoding: {cte}\r\n\r\n"
    )
    return head.encode("ascii") + body.encode("utf-8") + b"\r\n"


@pytest.mark.parametrize(
    ("charset", "cte", "payload"),
    [
        ("utf-8", "quoted-printable", "Personnr 880320=2D0016 fr=C3=A5n Malm=C3=B6"),
        ("utf-8", "base64", "UGVyc29ubnIgODgwMzIwLTAwMTYgZnLDpW4gTWFsbcO2"),
        ("x-unknown-charset", "8bit", "Personnr 880320-0016 från Malmö"),
        ("us-ascii", "8bit", "Personnr 880320-0016 från Malmö"),
    ],
)
def test_transfer_encodings_and_charsets_are_decoded(charset: str, cte: str, payload: str) -> None:
    extraction = extract_text(_message(payload, charset=charset, cte=cte))
    body = next(s.text for s in extraction.segments if s.part is Part.BODY)
    assert body.strip() == "Personnr 880320-0016 från Malmö"
    assert extraction.errors == (charset == "x-unknown-charset")


def test_html_is_reduced_to_visible_text_with_entities_decoded() -> None:
    html = (
        "<html><head><title>x 070-1740605</title><style>p{} 0701740606</style></head>"
        "<body><p>Ring&nbsp;070&nbsp;174&nbsp;06&nbsp;05</p><script>var a='0701740607'</script>"
        "<table><tr><td>880320</td><td>0016</td></tr></table>pnr 880320&#8209;0016"
        "<br>mejl <a href='mailto:x@exempel.se'>anna&#64;exempel.se</a></body></html>"
    )
    text = html_to_text(html)
    assert "070 174 06 05" in text and "880320\u20110016" in text and "anna@exempel.se" in text
    assert "0701740606" not in text and "0701740607" not in text and "070-1740605" not in text
    assert re.search(r"880320\s+0016", text)  # neighbouring cells stay apart
    result = scan_message(_message(html, subtype="html"))
    assert sorted(f.kind for f in result.findings) == sorted(
        [Kind.PHONE, Kind.PERSONNUMMER, Kind.EMAIL_ADDRESS]
    )


def test_unclosed_head_does_not_hide_the_body() -> None:
    assert "880320-0016" in html_to_text("<html><head><title>t<body>pnr 880320-0016")


def test_subject_text_parts_attachment_names_and_attached_messages_are_all_scanned() -> None:
    inner = EmailMessage()
    inner["Subject"] = "Inre ämne 0701740605"
    inner.set_content("Inre text 19880320-0016")
    outer = EmailMessage()
    outer["Subject"] = "=?utf-8?q?L=C3=B6n_880320-0016?="
    outer.set_content("Se bilagor. Kort 4111 1111 1111 1111.")
    outer.add_alternative("<p>IBAN SE45 5000 0000 0583 9825 7466</p>", subtype="html")
    outer.add_attachment(b"%PDF", "application", "pdf", filename="lönespec 730288-9931.pdf")
    outer.add_attachment("kontakt: bo@exempel.se", filename="notes.txt")
    outer.add_attachment(inner)
    result = scan_message(outer.as_bytes())
    got = sorted((f.part, f.index, f.kind) for f in result.findings)
    assert got == sorted(
        [
            (Part.SUBJECT, 0, Kind.PERSONNUMMER),
            (Part.BODY, 0, Kind.PAYMENT_CARD),
            (Part.BODY, 1, Kind.IBAN),
            (Part.ATTACHMENT_NAME, 0, Kind.SAMORDNINGSNUMMER),
            (Part.ATTACHMENT, 0, Kind.EMAIL_ADDRESS),
            (Part.SUBJECT, 1, Kind.PHONE),
            (Part.BODY, 2, Kind.PERSONNUMMER),
        ]
    )
    assert result.errors == 0 and not result.truncated


def test_a_parsed_message_and_its_bytes_give_the_same_findings() -> None:
    msg = email.message_from_bytes(
        _message("Ring 070-174 06 05, pnr 880320-0016"), policy=email.policy.default
    )
    assert isinstance(msg, EmailMessage)
    assert scan_message(msg).findings == scan_message(msg.as_bytes()).findings
    legacy = MIMEText("Ring 070-174 06 05", "plain", "utf-8")
    assert [f.kind for f in scan_message(legacy).findings] == [Kind.PHONE]


def test_participants_are_not_findings_anywhere_in_the_message() -> None:
    raw = _message("Från anna@exempel.se till Bo@Exempel.se och cc@annan.se")
    result = scan_message(raw, exclude_addresses=["Anna@exempel.se", "bo@exempel.se"])
    assert [f.kind for f in result.findings] == [Kind.EMAIL_ADDRESS]


def test_text_past_the_cap_is_not_scanned_and_the_scan_says_so() -> None:
    body = "x" * 5000 + " 880320-0016"
    result = scan_message(_message(body), max_bytes=1000)
    assert result.truncated and result.findings == () and result.bytes_scanned <= 1000
    assert scan_message(_message(body)).kinds == {Kind.PERSONNUMMER}


def test_a_huge_attachment_is_not_decoded_and_a_huge_text_part_stops_at_the_cap() -> None:
    msg = EmailMessage()
    msg["Subject"] = "Stor"
    msg.set_content("pnr 880320-0016")
    msg.add_attachment(b"\0" * 30_000_000, "application", "octet-stream", filename="big.bin")
    msg.add_attachment(("ord " * 5_000_000).encode(), "text", "plain", filename="big.txt")
    raw = msg.as_bytes()
    assert len(raw) > 60_000_000
    started = time.process_time()
    result = scan_message(raw)
    elapsed = time.process_time() - started
    assert result.truncated and result.kinds == {Kind.PERSONNUMMER}
    assert result.bytes_scanned <= 1_000_000
    assert elapsed < 3  # ~0.5 s: 20 MB of raw MIME parsed, 1 MB of text scanned
    small = scan_message(raw, max_raw_bytes=2_000_000, max_bytes=10_000)
    assert small.truncated and small.kinds == {Kind.PERSONNUMMER}


@pytest.mark.parametrize("cte", ["base64", "quoted-printable", "8bit"])
def test_an_oversized_text_part_is_decoded_only_up_to_the_cap(cte: str) -> None:
    body = "pnr 880320-0016 här\n" + "ett ord till\n" * 400_000 + "sist 730288-9931\n"
    msg = EmailMessage()
    msg.set_content(body, cte=cte)
    result = scan_message(msg.as_bytes(), max_bytes=50_000)
    assert result.truncated and result.bytes_scanned <= 50_000
    assert result.kinds == {Kind.PERSONNUMMER}  # the samordningsnummer at the end is past the cap


def test_a_long_subject_is_cut_to_the_budget() -> None:
    raw = b"Subject: " + b"x" * 200 + b" 880320-0016\r\n\r\nbody\r\n"
    result = scan_message(raw, max_bytes=100)
    assert result.truncated and result.findings == () and result.bytes_scanned == 100


def test_broken_encoded_words_are_kept_as_written_and_the_rest_decoded() -> None:
    raw = b"Subject: =?utf-8?b?A?= =?utf-8?q?pnr_880320-0016?=\r\n\r\n\r\n"
    subjects = [s.text for s in extract_text(raw).segments if s.part is Part.SUBJECT]
    assert subjects == ["=?utf-8?b?A?= pnr 880320-0016"]
    assert scan_message(raw).kinds == {Kind.PERSONNUMMER}


class _Exploding(EmailMessage):
    """A message whose accessors fail the way parser bugs do."""

    def __init__(self, broken: str) -> None:
        super().__init__()
        self.broken = broken

    def get_payload(self, i=None, decode=False):
        if self.broken == "payload":
            raise IndexError("simulated parser bug")
        return super().get_payload(i, decode)

    def get_filename(self, failobj=None):
        if self.broken == "part":
            raise ValueError("simulated parser bug")
        return super().get_filename(failobj)

    def get(self, name, failobj=None):
        if self.broken == "subject" and name.lower() == "subject":
            raise IndexError("simulated header parser bug")
        return super().get(name, failobj)


@pytest.mark.parametrize("broken", ["payload", "part", "subject"])
def test_accessor_failures_are_counted_and_the_rest_still_scanned(broken: str) -> None:
    msg = _Exploding(broken)
    msg["Subject"] = "Ämne 880320-0016"
    msg.set_content("Ring 070-174 06 05")
    result = scan_message(msg)
    assert result.errors == 1
    # A failed subject is read again from the raw header; a failed part is lost, and
    # counted as unread.
    lost = broken in ("part", "payload")
    assert result.kinds == ({Kind.PERSONNUMMER} if lost else {Kind.PERSONNUMMER, Kind.PHONE})
    assert result.complete is not lost


def test_a_validator_failure_is_counted_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(text: str, excluded: frozenset[str], budget: object = None) -> list[object]:
        raise RuntimeError("simulated validator bug")

    monkeypatch.setattr("inboxwarden.detectors.message_scan.find_spans", explode)
    result = scan_message(_message("Ring 070-174 06 05"))
    assert result.findings == () and result.errors == 2  # subject and body


def test_html_that_breaks_the_parser_is_stripped_crudely(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(self: object, data: str) -> None:
        raise AssertionError("simulated html.parser failure")

    monkeypatch.setattr("html.parser.HTMLParser.feed", explode)
    assert " ".join(html_to_text("<p>pnr&nbsp;880320-0016</p>").split()) == "pnr 880320-0016"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    result = scan_message(data)
    assert result.errors >= 0


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=4000), st.sampled_from([0, 1, 2]))
def test_truncated_and_garbled_corpus_style_messages_never_raise(cut: int, mode: int) -> None:
    msg = EmailMessage()
    msg["Subject"] = "=?utf-8?b?SGVq?= =?bogus?q?x?= =?utf-8?b?!!!?="
    msg.set_content("Ring 070-174 06 05")
    msg.add_alternative("<p>pnr&nbsp;880320-0016</p>", subtype="html")
    msg.add_attachment(b"data" * 200, "application", "pdf", filename="a.pdf")
    raw = msg.as_bytes()
    if mode == 1:
        raw = raw.replace(b"Content-Type: ", b"Content-Type: ;;\xff", 1)
    elif mode == 2:
        raw = raw.replace(b"boundary=", b"boundary=\xff", 1)
    result = scan_message(raw[:cut])
    assert not result.truncated
