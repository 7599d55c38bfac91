"""The texts of the digest and the report: Jinja2 templates, Swedish and English shipped.

Each message is three templates, ``{name}.{language}.subject.j2``, ``….txt.j2`` and
``….html.j2``, so an administrator can reword one language without touching the
others (docs/behaviour.md §7). A file of the same name in ``digest.templates_dir`` wins over the
package's own: the loader tries that directory first.

HTML templates are autoescaped, because the digest shows subjects and sender names
that strangers wrote. Text templates are not: escaping would only garble them. An
undefined variable is an error, not an empty string, so a typo in an override fails
loudly in ``inboxwarden digest`` instead of sending a message with holes in it.

Whoever can write to ``digest.templates_dir`` must not get the service's powers
(a master key to every mailbox), so templates render in Jinja2's immutable sandbox:
no ``__globals__``, no ``os``, no changing the objects passed in. A template that
fails, in any way, is a :class:`ConfigError` naming the template and its line, whose
text quotes the template at most, never the data it was rendering (a subject).
:func:`check_templates` renders every template against the samples, which is how
``inboxwarden check`` finds a broken override before a digest is due.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from datetime import date as Day
from datetime import datetime
from pathlib import Path
from typing import Any, get_args
from zoneinfo import ZoneInfo

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    TemplateError,
    TemplateSyntaxError,
    UndefinedError,
    select_autoescape,
)
from jinja2.exceptions import SecurityError
from jinja2.loaders import split_template_path
from jinja2.sandbox import ImmutableSandboxedEnvironment

from inboxwarden.errors import ConfigError, quoted
from inboxwarden.policy.people import Language

__all__ = ["Formatter", "Rendered", "Templates"]

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


class _ContainedLoader(FileSystemLoader):
    """Loads from one directory and refuses a file whose real path leaves it.

    A symbolic link ``digest.sv.txt.j2 -> /run/secrets/imap`` would otherwise mail a
    secret to every employee. Checked before the file is read.
    """

    def __init__(self, directory: Path) -> None:
        super().__init__(str(directory))
        self.root = directory.resolve()

    def get_source(self, environment: Environment, template: str) -> tuple[str, str, Any]:
        candidate = self.root.joinpath(*split_template_path(template))
        if candidate.is_file() and not candidate.resolve().is_relative_to(self.root):
            raise SecurityError(f"{template} leads outside digest.templates_dir")
        return super().get_source(environment, template)


class _Undefined(StrictUndefined):
    """`StrictUndefined` whose error message is the looked-up name alone.

    Jinja's own message quotes the key, and a key can be data (``groups[item.subject]``);
    `Templates` shows the name only if the template's source contains it.
    """

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        if self._undefined_hint:
            return str(self._undefined_hint)
        return _UNDEFINED_MARK + str(self._undefined_name)


_UNDEFINED_MARK = "\x00undefined:"


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
            loaders.append(_ContainedLoader(override_dir))
        loaders.append(PackageLoader("inboxwarden", "templates"))
        self.env = ImmutableSandboxedEnvironment(
            loader=ChoiceLoader(loaders),
            autoescape=select_autoescape(("html", "html.j2"), default=False),
            undefined=_Undefined,
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
        except Exception as exc:  # however a template fails, the template is at fault
            raise ConfigError(self._describe(template, exc)) from None

    def _describe(self, template: str, exc: Exception) -> str:
        """``template digest.sv.txt.j2:3: …``, quoting the template at most, never data."""
        name, line = _where(template, exc)
        where = f"{name}:{line}" if line else name
        if isinstance(exc, TemplateSyntaxError):
            problem = f"syntax error: {_cut(exc.message)}"
        elif isinstance(exc, UndefinedError):
            problem = self._undefined(name, exc.message or "")
        elif isinstance(exc, SecurityError):
            problem = f"refused by the sandbox: {_cut(exc.message)}"
        elif isinstance(exc, TemplateError):
            problem = f"{type(exc).__name__}: {_cut(exc.message)}"
        else:
            # Python's own messages quote values ("invalid literal for int(): 'Faktura…'").
            problem = f"{type(exc).__name__} while rendering (the message is not shown)"
        return f"template {where}: {problem}"

    def _undefined(self, name: str, message: str) -> str:
        if not message.startswith(_UNDEFINED_MARK):
            return f"undefined: {_cut(message)}"
        looked_up = message.removeprefix(_UNDEFINED_MARK)
        if looked_up and looked_up in self._source(name):
            return f"{quoted(looked_up, 40)} is undefined (a placeholder that does not exist?)"
        return "a value looked up from the data is undefined (not shown)"

    def _source(self, name: str) -> str:
        try:
            source, _, _ = self.env.loader.get_source(self.env, name)  # type: ignore[union-attr]
        except TemplateError:
            return ""
        return source

    def check(self, tz: ZoneInfo) -> int:
        """Render every message in every language against the samples; the count rendered.

        Raises :class:`ConfigError` for the first template that fails.
        """
        # Imported here: the samples and the jobs themselves import this module.
        from inboxwarden.demo.samples import sample_digest, sample_report
        from inboxwarden.reports.digest_job import render_digest
        from inboxwarden.reports.weekly_job import render_report

        count = 0
        for language in _LANGUAGES:
            render_digest(sample_digest(language), self, tz)
            render_report(sample_report(language), self, tz, "data:image/png;base64,")
            count += 2 * 3  # subject, text and HTML of each
        return count


_LANGUAGES: tuple[Language, ...] = get_args(Language)


def _cut(text: str | None, limit: int = 160) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _where(template: str, exc: Exception) -> tuple[str, int | None]:
    """The template and line at fault: Jinja rewrites tracebacks to point into templates."""
    if isinstance(exc, TemplateSyntaxError):
        return (exc.name or template), exc.lineno
    found: tuple[str, int | None] = (template, None)
    for frame, line in traceback.walk_tb(exc.__traceback__):
        filename = frame.f_code.co_filename
        if filename.endswith(".j2"):
            found = (Path(filename).name, line)
    return found
