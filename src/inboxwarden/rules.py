"""The rule schema: what an administrator writes under ``[[rules]]`` (docs/behaviour.md §3).

This module only describes and validates rules; :mod:`inboxwarden.matching` decides
whether a message matches one. Validation happens at load time so that a mistake in a
rule stops the service before it touches a mailbox.
"""

from __future__ import annotations

import re
import string
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ByteSize,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
    model_validator,
)

from inboxwarden.detectors.kinds import Kind


class Action(StrEnum):
    """What a rule does to an overdue message."""

    MOVE = "move"
    DELETE = "delete"
    KEEP = "keep"
    REPORT = "report"


#: Fields a ``target`` template may use; each is filled per message (docs/behaviour.md §3).
TEMPLATE_FIELDS = frozenset({"year", "month", "from_domain", "from_address", "rule"})

_DURATION = re.compile(r"^\s*(\d+)\s*(h|d|w)\s*$", re.IGNORECASE)
_DURATION_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def _as_list(value: Any) -> Any:
    """Accept a single string where a list is meant: ``from = "a@b"`` reads as ``["a@b"]``."""
    return [value] if isinstance(value, str) else value


def _parse_duration(value: Any) -> Any:
    if isinstance(value, str) and (m := _DURATION.match(value)):
        return int(m.group(1)) * _DURATION_UNITS[m.group(2).lower()]
    return value


def _compile(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {value!r}: {exc}") from exc
    return value


StrList = Annotated[list[str], BeforeValidator(_as_list)]
Duration = Annotated[timedelta, BeforeValidator(_parse_duration)]
Regex = Annotated[re.Pattern[str], BeforeValidator(_compile)]


class Match(BaseModel):
    """The conditions of a rule; all given conditions must hold, a list means "any of"."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    from_: StrList | None = Field(default=None, alias="from")
    to: StrList | None = None
    cc: StrList | None = None
    from_domain: StrList | None = None
    to_domain: StrList | None = None
    subject: Regex | None = None
    header: dict[str, Regex] | None = None
    list_id: str | None = None
    has_attachment: StrictBool | None = None
    larger_than: ByteSize | None = None
    smaller_than: ByteSize | None = None
    older_than: Duration | None = None
    personal_data: bool | list[Kind] | None = None
    mailbox_group: StrList | None = None
    # true or false only: a lax "yes" or 1 could flip a rule that deletes mail.
    flagged: StrictBool | None = None
    """The employee flagged it (``\\Flagged`` that inboxwarden did not set itself)."""
    seen: StrictBool | None = None
    """The employee has read it (``\\Seen``)."""

    @field_validator("from_domain", "to_domain")
    @classmethod
    def _lower_domains(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [d.strip().lower().lstrip(".") for d in value]

    @field_validator("header")
    @classmethod
    def _lower_header_names(cls, value: dict[str, re.Pattern[str]] | None) -> Any:
        return None if value is None else {k.strip().lower(): v for k, v in value.items()}

    def header_names(self) -> frozenset[str]:
        """Header fields this block reads; the scan fetches exactly these and no more."""
        names: set[str] = set()
        if self.from_ is not None or self.from_domain is not None:
            names.add("from")
        if self.to is not None or self.to_domain is not None:
            names.update(("to", "cc"))
        if self.cc is not None:
            names.add("cc")
        if self.subject is not None:
            names.add("subject")
        if self.list_id is not None:
            names.add("list-id")
        if self.header:
            names.update(self.header)
        if self.personal_data is not None:
            # The detectors read the subject and leave the participants' own addresses out.
            names.update(("subject", "from", "to", "cc"))
        return frozenset(names)


class Rule(BaseModel):
    """One entry of ``[[rules]]``: a name, conditions, an action and its legal basis."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    match: Match = Match()
    action: Action
    target: str | None = None
    basis: str | None = None
    retention: str | None = None
    purge: bool = False

    @field_validator("target")
    @classmethod
    def _check_template(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.strip("/ "):
            raise ValueError("target must name a folder")
        try:
            fields = {f for _, f, _, _ in string.Formatter().parse(value) if f is not None}
        except ValueError as exc:
            raise ValueError(f"malformed template {value!r}: {exc}") from exc
        unknown = fields - TEMPLATE_FIELDS
        if unknown:
            allowed = ", ".join(sorted(f"{{{f}}}" for f in TEMPLATE_FIELDS))
            raise ValueError(
                f"unknown template field {{{sorted(unknown)[0]}}} (allowed: {allowed})"
            )
        return value

    @model_validator(mode="after")
    def _check_action(self) -> Rule:
        if self.action is Action.MOVE and not self.target:
            raise ValueError("field 'target': a move rule needs a target folder")
        if self.action is not Action.MOVE and self.target is not None:
            raise ValueError(f"field 'target': only a move rule has a target, not {self.action}")
        if self.action in (Action.MOVE, Action.KEEP) and not (self.basis and self.basis.strip()):
            raise ValueError(
                f"field 'basis': a {self.action} rule keeps mail and must name its legal basis"
            )
        if self.purge and self.action is not Action.DELETE:
            raise ValueError("field 'purge': only a delete rule can purge")
        return self

    @property
    def keeps_mail(self) -> bool:
        """True for the actions the register (docs/behaviour.md §9) must account for."""
        return self.action in (Action.MOVE, Action.KEEP)


class DefaultRule(BaseModel):
    """The rule that applies when no other matches; the shipped default only reports."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "default"
    action: Literal[Action.REPORT, Action.DELETE, Action.KEEP] = Action.REPORT
    basis: str | None = None
    purge: bool = False

    @model_validator(mode="after")
    def _check_basis(self) -> DefaultRule:
        if self.action is Action.KEEP and not self.basis:
            raise ValueError("field 'basis': a keep rule must name its legal basis")
        return self

    def as_rule(self) -> Rule:
        """The default rule as an ordinary rule that matches everything."""
        return Rule(name=self.name, action=self.action, basis=self.basis, purge=self.purge)
