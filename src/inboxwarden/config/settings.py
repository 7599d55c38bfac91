"""The whole configuration: the sections, the rules, and where their values come from."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from inboxwarden.config.sections import (
    AuditSettings,
    CycleSettings,
    DigestSettings,
    DirectorySettings,
    FanoutSettings,
    FlagSettings,
    ImapSettings,
    ModeSettings,
    OAuthSettings,
    Organisation,
    ReportSettings,
    ScheduleSettings,
    ServiceSettings,
    SmtpSettings,
    StateSettings,
)
from inboxwarden.policy.cycle import Cycle
from inboxwarden.policy.rules import DefaultRule, Rule

__all__ = ["Settings", "reading_file"]

_config_data: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "inboxwarden_config_data", default=None
)


class Settings(BaseSettings):
    """Everything inboxwarden is configured with."""

    model_config = SettingsConfigDict(
        env_prefix="INBOXWARDEN_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    organisation: Organisation = Organisation()
    cycle: CycleSettings = CycleSettings()
    mode: ModeSettings = ModeSettings()
    imap: ImapSettings = ImapSettings()
    oauth: OAuthSettings = OAuthSettings()
    flag: FlagSettings = FlagSettings()
    directory: DirectorySettings = DirectorySettings()
    state: StateSettings = StateSettings()
    audit: AuditSettings = AuditSettings()
    domain_groups: dict[str, list[str]] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)
    default_rule: DefaultRule = DefaultRule()
    fanout: FanoutSettings = FanoutSettings()
    digest: DigestSettings = DigestSettings()
    report: ReportSettings = ReportSettings()
    smtp: SmtpSettings = SmtpSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    service: ServiceSettings = ServiceSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment overrides the file, as docs/behaviour.md §12 promises administrators.
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        data = _config_data.get()
        if data is not None:
            # The file as load_settings read and checked it: read once, never re-opened.
            sources.append(InitSettingsSource(settings_cls, init_kwargs=data))
        return tuple(sources)

    @property
    def cycle_calendar(self) -> Cycle:
        """The cycle as the pure calendar object the policy code works with."""
        return Cycle(
            anchor_day=self.cycle.anchor_day,
            timezone=self.organisation.tz,
            grace_business_days=self.cycle.grace_business_days,
            holidays=self.cycle.holidays,
            min_age_days=self.cycle.min_age_days,
        )

    @property
    def all_rules(self) -> tuple[Rule, ...]:
        """The configured rules followed by the default rule, in the order they are tried."""
        return (*self.rules, self.default_rule.as_rule())


@contextmanager
def reading_file(raw: dict[str, Any]) -> Iterator[None]:
    token = _config_data.set(raw)
    try:
        yield
    finally:
        _config_data.reset(token)
