"""The directory ``[directory] source`` names, loaded: the file, or LDAP (docs/behaviour.md §8).

The one place that chooses between the sources, so the command line, the daemon and
the tests build the directory the same way. ldap3 is imported only when LDAP is used.
"""

from __future__ import annotations

from dataclasses import dataclass

from inboxwarden.config import Settings
from inboxwarden.directory.entries import Directory
from inboxwarden.directory.files import load_directory
from inboxwarden.directory.mapping import EntryProblem

__all__ = ["LoadedDirectory", "load_configured_directory"]


@dataclass(frozen=True, slots=True)
class LoadedDirectory:
    """The directory, and the entries that were skipped or kept incomplete (LDAP only).

    The problems name entries by DN, which holds a name: ``check`` shows them to the
    administrator; nothing logs them.
    """

    directory: Directory
    problems: tuple[EntryProblem, ...] = ()


def load_configured_directory(
    settings: Settings, *, allow_test_domains: bool = False
) -> LoadedDirectory:
    """Load the directory from the configured source, or raise `ConfigError`."""
    if settings.directory.source == "ldap":
        from inboxwarden.directory.ldap import LdapDirectorySource

        source = LdapDirectorySource.from_settings(
            settings.directory, allow_test_domains=allow_test_domains
        )
        loaded = source.fetch()
        return LoadedDirectory(loaded.directory, loaded.problems)
    return LoadedDirectory(
        load_directory(settings.directory.path, allow_test_domains=allow_test_domains)
    )
