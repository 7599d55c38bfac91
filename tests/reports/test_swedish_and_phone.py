"""Swedish output without English leaks, and a report that reads on a 390 px phone.

What a picture shows is checked here through what decides it: the chart's font sizes
against the width a phone gives it, and the HTML that lets the column heads wrap.
(`scripts/render_screenshots.py` renders the same samples in Chromium to look at.)
"""

from __future__ import annotations

import html
import re

import pytest
from matplotlib.text import Text

from inboxwarden.config import load_settings
from inboxwarden.demo.samples import STOCKHOLM, sample_digest, sample_report
from inboxwarden.reports.chart import WIDTH_PX, chart_figure
from inboxwarden.reports.digest_job import render_digest
from inboxwarden.reports.register import render_markdown
from inboxwarden.reports.templating import Templates
from inboxwarden.reports.weekly_job import render_report
from tests.kit.engine import write_config

#: The mail's column on a 390 px phone: the layout's 10 px margins, 1 px borders and
#: 20 px padding on each side (templates/_layout.html.j2).
PHONE_COLUMN_PX = 390 - 2 * (10 + 1 + 20)
SOFT_HYPHEN = "\u00ad"


def visible(markup: str) -> str:
    return html.unescape(re.sub(r"<style.*?</style>|<[^>]+>", " ", markup, flags=re.S))


@pytest.fixture(name="digest_sv")
def _digest_sv():
    return render_digest(sample_digest("sv"), Templates(), STOCKHOLM)


def test_the_swedish_digest_names_neither_trash_nor_the_default_rule_in_english(digest_sv):
    for text in (digest_sv.text, visible(digest_sv.html)):
        assert "Trash" not in text
        assert "regel default" not in text and not re.search(r"\bdefault\b", text)
        assert "standardregeln" in text
        assert "papperskorgen" in text


def test_the_english_digest_names_the_default_rule_in_words():
    rendered = render_digest(sample_digest("en"), Templates(), STOCKHOLM)
    for text in (rendered.text, visible(rendered.html)):
        assert "the default rule" in text
        assert "rule default" not in text


def test_a_move_still_shows_its_folder(digest_sv):
    """Only deletes hide the server's folder name; a move names where the mail goes."""
    assert "→ Bokföring/2026" in digest_sv.text or "Bokföring/2026" in visible(digest_sv.html)


@pytest.mark.parametrize(("language", "title", "action"), [("sv", "# Register över", "flytta")])
def test_register_speaks_the_organisations_language(tmp_path, dovecot, language, title, action):
    config = write_config(tmp_path, dovecot, ["a@exempel.se"])
    settings = load_settings(config)
    assert settings.organisation.language == language
    text = render_markdown(settings)
    assert text.startswith(title)
    assert f"| invoices | {action} |" in text
    for english in ("Record of processing", "Legal basis", "any message", "| move |"):
        assert english not in text


def test_register_in_english_when_the_organisation_says_so(tmp_path, dovecot):
    config = write_config(tmp_path, dovecot, ["a@exempel.se"])
    config.write_text(
        config.read_text().replace("[organisation]\n", '[organisation]\nlanguage = "en"\n')
    )
    text = render_markdown(load_settings(config))
    assert text.startswith("# Record of processing")
    assert "| invoices | move |" in text


def test_every_chart_text_is_at_least_11_px_on_a_phone():
    """The PNG shrinks with the phone's column; what was 9 pt at 600 px read as ~6 px."""
    figure = chart_figure(
        [f"v. {n}" for n in range(39, 47)], [None, 3, 0, 12, 5, 8, 0, 2], no_data="ingen körning"
    )
    texts = [t for t in figure.findobj(Text) if t.get_text().strip() and t.get_visible()]
    assert len(texts) >= 8 + 7  # the week labels and the values (one week has no data)
    shrink = min(1.0, PHONE_COLUMN_PX / WIDTH_PX)
    smallest = min(t.get_fontsize() * 96 / 72 * shrink for t in texts)
    assert smallest >= 11, smallest


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_report_shows_the_chart_at_the_size_it_was_drawn_for(language):
    page = render_report(sample_report(language), Templates(), STOCKHOLM, "cid:chart").html
    [img] = re.findall(r"<img [^>]*>", page)
    assert f'width="{WIDTH_PX}"' in img and f"max-width:{WIDTH_PX}px" in img


def test_the_swedish_column_heads_can_wrap_apart_on_a_phone():
    """Förfallna and Försenade break at a soft hyphen instead of running together."""
    page = render_report(sample_report("sv"), Templates(), STOCKHOLM, "cid:chart").html
    heads = re.findall(r"<th [^>]*style=\"([^\"]*)\"[^>]*>([^<]*)</th>", page)
    words = {html.unescape(text) for _style, text in heads}
    assert {"För\u00adfallna", "För\u00adsenade"} <= words
    for word in words:
        if len(word.replace(SOFT_HYPHEN, "")) > 9:  # too wide for a sixth of 328 px
            assert SOFT_HYPHEN in word, word
    for style, _text in heads:
        left = re.search(r"padding:\S+ \S+ \S+ (\d+)px", style)
        assert left is not None and int(left.group(1)) >= 4, style
