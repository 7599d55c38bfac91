"""The HTML parts pass what e-mail clients demand: inline styles, tables, nothing remote."""

from __future__ import annotations

import base64
from html.parser import HTMLParser

import pytest

from inboxwarden.demo.samples import POLICY_URL, STOCKHOLM, sample_digest, sample_report
from inboxwarden.reports.chart import WIDTH_PX
from inboxwarden.reports.digest_job import render_digest
from inboxwarden.reports.templating import Templates
from inboxwarden.reports.weekly_job import chart_png, render_report

# Elements that mail clients drop or that fetch something: never in our HTML.
FORBIDDEN = {
    "script",
    "link",
    "iframe",
    "object",
    "embed",
    "form",
    "input",
    "video",
    "audio",
    "svg",
    "style",
}
LAYOUT = {"td", "th"}


class Census(HTMLParser):
    """Collects what the sanity rules look at."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def of(self, name):
        return [attrs for tag, attrs in self.tags if tag == name]


def census(html: str) -> Census:
    parser = Census()
    parser.feed(html)
    parser.close()
    return parser


def pages():
    templates = Templates()
    for language in ("sv", "en"):
        digest = render_digest(sample_digest(language), templates, STOCKHOLM)
        yield f"digest-{language}", digest.html
        report = sample_report(language)
        yield (
            f"report-{language}",
            render_report(report, templates, STOCKHOLM, "cid:chart@exempel.se").html,
        )


PAGES = dict(pages())


@pytest.fixture(name="page", params=sorted(PAGES))
def _page(request):
    return request.param, PAGES[request.param]


def test_nothing_is_fetched_from_elsewhere_and_nothing_runs(page):
    name, html = page
    found = census(html)
    assert not {tag for tag, _ in found.tags} & FORBIDDEN
    for tag, attrs in found.tags:
        assert not any(key.startswith("on") for key in attrs), (name, tag)
        assert "url(" not in (attrs.get("style") or ""), (name, tag)
        if "src" in attrs:
            assert (attrs["src"] or "").startswith("cid:"), (name, tag)
        if "href" in attrs:
            assert attrs["href"] == POLICY_URL, (name, tag)


def test_layout_is_tables_with_inline_styles(page):
    name, html = page
    found = census(html)
    assert found.of("table"), name
    for tag, attrs in found.tags:
        # A class needs a stylesheet, which many clients strip: everything is inline.
        assert "class" not in attrs, (name, tag)
        if tag in LAYOUT:
            assert attrs.get("style") or attrs.get("align"), (name, tag)
        if tag == "table":
            assert attrs.get("role") == "presentation", name
            assert attrs.get("cellpadding") == "0" and attrs.get("border") == "0", name
    body = found.of("body")
    assert body and "background-color" in (body[0].get("style") or "")


def test_the_document_declares_its_language_charset_and_a_phone_viewport(page):
    name, html = page
    found = census(html)
    [root] = found.of("html")
    assert root["lang"] == name.rsplit("-", 1)[1]
    metas = found.of("meta")
    assert {"charset": "utf-8"} in metas
    assert any(m.get("name") == "viewport" for m in metas)


def test_the_chart_has_alt_text_with_the_numbers():
    found = census(PAGES["report-sv"])
    [image] = found.of("img")
    assert image["src"] == "cid:chart@exempel.se"
    assert image["width"] == str(WIDTH_PX)
    report = sample_report("sv")
    alt = image["alt"] or ""
    assert alt.startswith("Försenade meddelanden i teamet per vecka:")
    assert all(str(p.overdue) in alt for p in report.trend if p.overdue is not None)


def test_the_standalone_report_page_embeds_its_chart():
    report = sample_report("sv")
    png = chart_png(report, STOCKHOLM)
    html = render_report(
        report, Templates(), STOCKHOLM, "data:image/png;base64," + base64.b64encode(png).decode()
    ).html
    [image] = census(html).of("img")
    assert base64.b64decode(image["src"].split(",", 1)[1]) == png


def test_the_swedish_digest_says_what_happens_how_to_keep_and_where_the_policy_is():
    text = " ".join(census(PAGES["digest-sv"]).text)
    assert "12 meddelanden i inkorgen behöver sorteras" in text
    assert "före måndag 9 november 2026" in text
    assert "Om du inte gör något" in text
    assert "Så behåller du ett meddelande" in text
    assert "Läs företagets integritetspolicy" in text
    assert "Faktura 10234 för 770923-****" in text
    assert "770923-1232" not in PAGES["digest-sv"]
    assert "Bokföring/2026" in text


def test_the_english_texts_are_english():
    digest = " ".join(census(PAGES["digest-en"]).text)
    report = " ".join(census(PAGES["report-en"]).text)
    assert "How to keep a message" in digest and "Så behåller" not in digest
    assert "with nothing overdue" in report and "försenade" not in report


def test_even_a_huge_digest_stays_below_what_gmail_shows_unclipped():
    """Gmail cuts messages past ~102 kB; the digest lists the oldest and counts the rest."""
    from datetime import datetime, timedelta

    from inboxwarden.policy.cycle import Cycle
    from inboxwarden.reports.digest import build_digest
    from tests.reports.digestkit import decision

    start = datetime(2026, 8, 1, tzinfo=STOCKHOLM)
    decisions = [
        decision(
            n,
            start + timedelta(hours=n),
            rule,
            action=action,
            subject="Ett mycket långt ämne om avtal, offerter och leveranser " * 3,
            sender='"Någon med ett långt namn på ett bolag" <en.lang.adress@ett-kundbolag.example>',
            overdue=n % 2 == 0,
        )
        for n in range(1, 2501)
        for rule, action in [
            (
                ("newsletters", "delete"),
                ("newsletters", "purge"),
                ("invoices", "move"),
                ("default", "report"),
                ("newsletters", "hold"),
            )[n % 5]
        ]
    ]
    digest = build_digest(
        decisions,
        mailbox="anna@exempel.se",
        language="sv",
        mode="enforce",
        window=Cycle(timezone=STOCKHOLM).window(datetime(2026, 11, 2, 7, tzinfo=STOCKHOLM)),
        organisation="Exempel AB",
        policy_url=POLICY_URL,
    )
    rendered = render_digest(digest, Templates(), STOCKHOLM)
    assert digest.total == 2500 and len(digest.groups) == 5
    assert len(rendered.html.encode()) < 95_000
    assert "… och 488 till i samma grupp" in rendered.html
