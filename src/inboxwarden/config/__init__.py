"""The configuration: one TOML file, ``INBOXWARDEN_…`` environment overrides, secret files.

This is the only package that reads the configuration file and the environment
(docs/behaviour.md §12): :mod:`.sections` checks each section's fields, :mod:`.settings`
assembles them, :mod:`.loading` reads the file and turns every problem into a
:class:`~inboxwarden.errors.ConfigError` that names the file, the rule and the field, so
an administrator can fix it in one go; :mod:`.secrets` reads secret files when needed.
"""

from inboxwarden.config.loading import DEFAULT_CONFIG_PATH, find_config_path, load_settings
from inboxwarden.config.secrets import password_file_for, read_secret, state_url
from inboxwarden.config.sections import (
    AuditSettings,
    CycleSettings,
    DigestSettings,
    DirectorySettings,
    FanoutSettings,
    FlagSettings,
    ImapSettings,
    LdapAttributes,
    ModeSettings,
    OAuthSettings,
    Organisation,
    ReportSettings,
    ScheduleSettings,
    ServiceSettings,
    SmtpSettings,
    StateSettings,
)
from inboxwarden.config.settings import Settings

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "AuditSettings",
    "CycleSettings",
    "DigestSettings",
    "DirectorySettings",
    "FanoutSettings",
    "FlagSettings",
    "ImapSettings",
    "LdapAttributes",
    "ModeSettings",
    "OAuthSettings",
    "Organisation",
    "ReportSettings",
    "ScheduleSettings",
    "ServiceSettings",
    "Settings",
    "SmtpSettings",
    "StateSettings",
    "find_config_path",
    "load_settings",
    "password_file_for",
    "read_secret",
    "state_url",
]
