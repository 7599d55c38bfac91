"""The texts of the digest and the report: Jinja2 templates, Swedish and English shipped.

Each message is three templates, ``{name}.{language}.subject.j2``, ``….txt.j2`` and
``….html.j2``, so an administrator can reword one language without touching the
others (docs/behaviour.md §7). A file of the same name in ``digest.templates_dir`` wins over the
package's own: the loader tries that directory first.

HTML templates are autoescaped, because the digest shows subjects and sender names
that strangers wrote. Text templates are not: escaping would only garble them. An
undefined variable is an error, not an empty string, so a typo in an override fails
loudly in ``inboxwarden digest`` instead of sending a message with holes in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date as Day
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    TemplateError,
    select_autoescape,
)

from inboxwarden.errors import ConfigError

Language = Literal["sv", "en"]

_MONTHS = {
    "sv": (
        *("januari", "februari", "mars", "april", "maj", "juni"),
        *("juli", "augusti", "september", "oktober", "november", "december"),
    ),
    "en": (
        *("January", "February", "March", "April", "May", "June"),
        *("July", "August", "September", "October", "November", "December"),
    ),
}
_WEEKDAYS = {
    "sv": ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_NBSP = "\u00a0"
_MINUS = "\u2212"


@dataclass(frozen=True, slots=True)
class Formatter:
    """Dates, sizes and numbers the way each language writes them, in the company's zone.

    Templates call it as ``fmt``: ``{{ fmt.longdate(digest.enforcement_date) }}``. It
    needs no locale installed on the server, which a container image rarely has.
    """

    language: Language
    tz: ZoneInfo

    def _local(self, value: datetime | Day) -> datetime | Day:
        return value.astimezone(self.tz) if isinstance(value, datetime) else value

    def date(self, value: datetime | Day) -> str:
        """``2026-10-12``: ISO dates read the same in both languages and sort in tables."""
        return f"{self._local(value):%Y-%m-%d}"

    def time(self, value: datetime) -> str:
        """``09:14``, the 24-hour clock both audiences use."""
        return f"{value.astimezone(self.tz):%H:%M}"

    def longdate(self, value: datetime | Day) -> str:
        """``måndag 9 november 2026`` / ``Monday 9 November 2026``."""
        local = self._local(value)
        weekday = _WEEKDAYS[self.language][local.weekday()]
        month = _MONTHS[self.language][local.month - 1]
        return f"{weekday} {local.day} {month} {local.year}"

    def daymonth(self, value: datetime | Day) -> str:
        """``9 november`` / ``9 November``: for headlines, where the year is obvious."""
        local = self._local(value)
        return f"{local.day} {_MONTHS[self.language][local.month - 1]}"

    def span(self, first: datetime | Day, last: datetime | Day) -> str:
        """``9–15 november 2026``, ``30 november – 6 december 2026``: a week, as people say it."""
        a, b = self._local(first), self._local(last)
        months = _MONTHS[self.language]
        if (a.year, a.month) == (b.year, b.month):
            return f"{a.day}–{b.day} {months[b.month - 1]} {b.year}"
        head = f"{a.day} {months[a.month - 1]}" + (f" {a.year}" if a.year != b.year else "")
        return f"{head} – {b.day} {months[b.month - 1]} {b.year}"

    def number(self, value: int) -> str:
        """``1 234`` (Swedish, non-breaking space) / ``1,234``."""
        text = f"{value:,}"
        return text.replace(",", _NBSP) if self.language == "sv" else text

    def size(self, value: int) -> str:
        """A message size: ``812 B``, ``12 kB``, ``1,4 MB`` (decimal comma in Swedish)."""
        if value < 1000:
            text = f"{value} B"
        elif value < 1_000_000:
            text = f"{round(value / 1000)} kB"
        else:
            text = f"{value / 1_000_000:.1f} MB"
        if self.language == "sv":
            text = text.replace(".", ",")
        return text.replace(" ", _NBSP)

    def percent(self, share: float | None) -> str:
        """``87 %`` / ``87%``; an en dash when there is nothing to measure."""
        if share is None:
            return "–"
        value = round(share * 100)
        return f"{value}{_NBSP}%" if self.language == "sv" else f"{value}%"

    def change(self, delta: int | None) -> str:
        """A change against last week: ``+3``, ``−2`` (a real minus sign) or ``±0``."""
        if delta is None:
            return "–"
        if delta == 0:
            return "±0"
        return f"+{delta}" if delta > 0 else f"{_MINUS}{-delta}"

    def week(self, week: object) -> str:
        """``v. 48`` / ``W48`` for an `IsoWeek` (anything with a ``week`` number)."""
        number = int(getattr(week, "week", 0))
        return f"v.{_NBSP}{number}" if self.language == "sv" else f"W{number}"


@dataclass(frozen=True, slots=True)
class Rendered:
    """One message's texts: a one-line subject, the plain-text part and the HTML part."""

    subject: str
    text: str
    html: str


class Templates:
    """The template environment: the configured directory first, then the package's."""

    def __init__(self, override_dir: Path | None = None) -> None:
        """Build the loader chain; a configured directory that does not exist is an error.

        Silently falling back to the shipped texts would hide a typo in the path until
        someone wonders why their wording never appears.
        """
        loaders: list[Any] = []
        if override_dir is not None:
            if not override_dir.is_dir():
                raise ConfigError(
                    f"field 'digest.templates_dir': {override_dir} is not a directory"
                )
            loaders.append(FileSystemLoader(str(override_dir)))
        loaders.append(PackageLoader("inboxwarden", "templates"))
        self.env = Environment(
            loader=ChoiceLoader(loaders),
            autoescape=select_autoescape(("html", "html.j2"), default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def render(self, name: str, language: Language, **context: Any) -> Rendered:
        """Render message *name* (``digest``, ``report``) in *language* with *context*.

        A broken template is a configuration problem: it names the template and the
        line, and is raised as :class:`ConfigError`.
        """
        subject = self._one(f"{name}.{language}.subject.j2", context)
        return Rendered(
            subject=" ".join(subject.split()),
            text=self._one(f"{name}.{language}.txt.j2", context),
            html=self._one(f"{name}.{language}.html.j2", context),
        )

    def _one(self, template: str, context: dict[str, Any]) -> str:
        try:
            return self.env.get_template(template).render(**context)
        except TemplateError as exc:
            line = getattr(exc, "lineno", None)
            where = f"{template}:{line}" if line else template
            raise ConfigError(f"template {where}: {exc.message or type(exc).__name__}") from exc
