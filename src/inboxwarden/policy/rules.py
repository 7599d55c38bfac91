"""The rule schema: what an administrator writes under ``[[rules]]`` (docs/behaviour.md §3).

This module only describes and validates rules; :mod:`inboxwarden.policy.matching` decides
whether a message matches one. Validation happens at load time so that a mistake in a
rule stops the service before it touches a mailbox.
"""

from __future__ import annotations

import re
import unicodedata
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
from inboxwarden.policy.target_template import TargetTemplate, parse_target

__all__ = [
    "TARGET_WILDCARDS",
    "Action",
    "DefaultRule",
    "Duration",
    "Match",
    "Regex",
    "Rule",
    "StrList",
    "target_problem",
]


class Action(StrEnum):
    """What a rule does to an overdue message."""

    MOVE = "move"
    DELETE = "delete"
    KEEP = "keep"
    REPORT = "report"


#: Characters no target may contain: the IMAP LIST wildcards (RFC 3501 §6.3.8), which
#: a server would take literally in CREATE and every client then misreads.
TARGET_WILDCARDS = frozenset("*%")

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
    personal_data_in_folder_names: bool = False
    """Consent to folder names that carry personal data (see `folder_names_are_personal`)."""

    @field_validator("target")
    @classmethod
    def _check_template(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parse_target(value)  # the placeholders (target_template.FIELDS) and the syntax
        problem = target_problem(value)
        if problem is not None:
            raise ValueError(problem)
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
        template = self.template
        if template is not None and "rule" in template.fields:
            problem = target_problem(template.text.replace("{rule}", self.name))
            if problem is not None:
                raise ValueError(f"field 'target': with this rule's name, {problem}")
        if self.folder_names_are_personal and not self.personal_data_in_folder_names:
            raise ValueError(f"field 'target': {self._personal_reason()}")
        return self

    @property
    def keeps_mail(self) -> bool:
        """True for the actions the register (docs/behaviour.md §9) must account for."""
        return self.action in (Action.MOVE, Action.KEEP)

    @property
    def template(self) -> TargetTemplate | None:
        """The parsed `target` (parsed once, when the rule was loaded), or None."""
        return None if self.target is None else parse_target(self.target)

    @property
    def folder_names_are_personal(self) -> bool:
        """True when the folder names this rule makes may carry personal data.

        ``{from_address}`` names a correspondent. ``{from_domain}`` counts too unless
        ``match.from_domain`` lists the domains: otherwise any sender chooses the name,
        and a one-person company's or a family's domain names a person. What inboxwarden
        records about such a folder is its HMAC (`planning.recorded_target`), not its name.
        """
        template = self.template
        return template is not None and template.names_a_person(bool(self.match.from_domain))

    def _personal_reason(self) -> str:
        if self.template is not None and "from_address" in self.template.fields:
            what = "{from_address} puts each correspondent's address into a folder name"
        else:
            what = (
                "{from_domain} without match.from_domain lets any sender choose a folder "
                "name, and a domain can name a person (list the domains in match.from_domain)"
            )
        return (
            f"{what}; set personal_data_in_folder_names = true on this rule to allow it "
            "(inboxwarden then records an HMAC of such a folder's name, never the name)"
        )


def target_problem(target: str) -> str | None:
    """What is wrong with a target folder template, or ``None``.

    The levels are what ``/`` separates (docs/behaviour.md §3): none may be empty, ``.`` or ``..``
    (a path trick, or a name some servers refuse), the name may hold no IMAP wildcard
    and no control character, and it is never the INBOX itself, whose mail is what the
    rule takes away.
    """
    if any(unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") for char in target):
        return "a folder name cannot contain control characters (line breaks, NUL, tabs)"
    wildcards = sorted(TARGET_WILDCARDS.intersection(target))
    if wildcards:
        return (
            f"{' and '.join(wildcards)} are IMAP wildcards (RFC 3501 §6.3.8) and cannot be "
            "part of a folder name"
        )
    levels = [level.strip() for level in target.split("/")]
    if [level.casefold() for level in levels if level] == ["inbox"]:
        return "the target cannot be the INBOX itself"
    if "" in levels:
        return "a folder level is empty ('//', or '/' at the start or end)"
    if any(level in (".", "..") for level in levels):
        return "a folder level cannot be '.' or '..'"
    return None


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
