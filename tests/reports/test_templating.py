"""The templates: the override directory wins, HTML is escaped, mistakes fail loudly."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from inboxwarden.demo.samples import STOCKHOLM, sample_digest
from inboxwarden.errors import ConfigError
from inboxwarden.reports.digest_job import render_digest
from inboxwarden.reports.templating import Formatter, Templates
from inboxwarden.reports.weeks import IsoWeek

SV = Formatter("sv", ZoneInfo("Europe/Stockholm"))
EN = Formatter("en", ZoneInfo("Europe/Stockholm"))


def test_dates_are_written_in_the_organisations_zone_and_language():
    utc_evening = datetime(2026, 11, 8, 23, 30, tzinfo=ZoneInfo("UTC"))  # Monday 00:30 in Stockholm
    assert SV.date(utc_evening) == "2026-11-09"
    assert SV.longdate(utc_evening) == "måndag 9 november 2026"
    assert EN.longdate(utc_evening) == "Monday 9 November 2026"
    assert SV.daymonth(date(2026, 3, 2)) == "2 mars"
    assert SV.time(utc_evening) == "00:30"


def test_numbers_sizes_and_shares_follow_each_languages_conventions():
    assert SV.number(1234567) == "1\u00a0234\u00a0567"
    assert EN.number(1234567) == "1,234,567"
    assert SV.size(1_400_000) == "1,4\u00a0MB"
    assert EN.size(1_400_000) == "1.4\u00a0MB"
    assert SV.size(812) == "812\u00a0B"
    assert SV.size(12_400) == "12\u00a0kB"
    assert SV.percent(0.666) == "67\u00a0%"
    assert EN.percent(0.666) == "67%"
    assert SV.percent(None) == "–"
    assert (SV.change(3), SV.change(-2), SV.change(0), SV.change(None)) == (
        "+3",
        "\u22122",
        "±0",
        "–",
    )
    assert (SV.week(IsoWeek(2026, 48)), EN.week(IsoWeek(2026, 48))) == ("v.\u00a048", "W48")


def test_a_week_is_written_as_a_span_of_days():
    assert SV.span(date(2026, 11, 9), date(2026, 11, 15)) == "9–15 november 2026"
    assert EN.span(date(2026, 11, 30), date(2026, 12, 6)) == "30 November – 6 December 2026"
    assert SV.span(date(2026, 12, 28), date(2027, 1, 3)) == "28 december 2026 – 3 januari 2027"


def test_a_template_in_the_configured_directory_wins_over_the_shipped_one(tmp_path):
    (tmp_path / "digest.sv.subject.j2").write_text("Egen rubrik: {{ digest.total }} st")
    rendered = render_digest(sample_digest("sv"), Templates(tmp_path), STOCKHOLM)
    assert rendered.subject == "Egen rubrik: 12 st"
    # The parts not overridden still come from the package.
    assert "Så behåller du ett meddelande" in rendered.html


def test_html_is_escaped_and_text_is_not(tmp_path):
    (tmp_path / "t.sv.subject.j2").write_text("{{ value }}")
    (tmp_path / "t.sv.txt.j2").write_text("{{ value }}")
    (tmp_path / "t.sv.html.j2").write_text("<p>{{ value }}</p>")
    rendered = Templates(tmp_path).render("t", "sv", value="<script>alert(1)</script> & Co")
    assert rendered.html == "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co</p>"
    assert rendered.text == "<script>alert(1)</script> & Co"


def test_an_unknown_variable_in_an_override_is_a_configuration_error(tmp_path):
    (tmp_path / "digest.sv.subject.j2").write_text("{{ digest.totl }}")
    with pytest.raises(ConfigError, match=r"template digest\.sv\.subject\.j2"):
        render_digest(sample_digest("sv"), Templates(tmp_path), STOCKHOLM)


def test_a_syntax_error_names_the_template_and_line(tmp_path):
    (tmp_path / "digest.sv.txt.j2").write_text("ok\n{% if %}\n")
    with pytest.raises(ConfigError, match=r"digest\.sv\.txt\.j2:2"):
        render_digest(sample_digest("sv"), Templates(tmp_path), STOCKHOLM)


def test_a_configured_directory_that_does_not_exist_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"digest\.templates_dir"):
        Templates(tmp_path / "missing")
