"""The directory in a CSV or YAML file (``directory.path``), read and checked.

The columns are ``email,login,manager,team,language,mode,legal_hold,excluded,groups``;
only ``email`` is required. :mod:`.records` turns each row into an Employee and says
where one is wrong.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import yaml

from inboxwarden.directory.entries import Directory
from inboxwarden.directory.records import FIELDS, RecordLocation, build_directory
from inboxwarden.errors import ConfigError, quoted
from inboxwarden.files import UnreadableFile, line_of, read_regular_file

__all__ = [
    "MAX_DIRECTORY_BYTES",
    "FileDirectorySource",
    "load_directory",
    "parse_csv",
    "parse_yaml",
]

#: A directory of ten thousand employees is about a megabyte.
MAX_DIRECTORY_BYTES = 50_000_000


@dataclass(frozen=True, slots=True)
class FileDirectorySource:
    """The directory in a CSV or YAML file (``directory.path``)."""

    path: Path
    allow_test_domains: bool = False

    def load(self) -> Directory:
        """Read and validate the file; see `load_directory`."""
        return load_directory(self.path, allow_test_domains=self.allow_test_domains)


def load_directory(path: Path, *, allow_test_domains: bool = False) -> Directory:
    """Read the directory from a ``.csv`` or ``.yaml``/``.yml`` file.

    `allow_test_domains` admits the special-use domains ``.test``, ``localhost`` and
    the like (RFC 6761), which a production directory must not contain; the tests and
    the demo's disposable server use them.
    """
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".yaml", ".yml"}:
        raise ConfigError(f"{path}: a directory file must end in .csv, .yaml or .yml")
    try:
        data = read_regular_file(path, MAX_DIRECTORY_BYTES)
    except UnreadableFile as exc:
        raise ConfigError(f"{path}: cannot read the directory: {exc.reason}") from None
    try:
        text = data.decode("utf-8-sig")  # Excel writes a BOM
    except UnicodeDecodeError as exc:
        line = line_of(data, exc.start)
        byte = data[exc.start]
        raise ConfigError(f"{path}:{line}: not UTF-8 (byte {byte:#04x}); save it as UTF-8") from exc
    if suffix == ".csv":
        return parse_csv(text, str(path), allow_test_domains=allow_test_domains)
    return parse_yaml(text, str(path), allow_test_domains=allow_test_domains)


# -- CSV ---------------------------------------------------------------------------------


def parse_csv(text: str, source: str, *, allow_test_domains: bool = False) -> Directory:
    """Parse a directory CSV; `source` names it in error messages.

    The delimiter is ``,``, or ``;`` when the header line has only semicolons (what a
    spreadsheet in a Swedish locale saves). Blank lines and rows of empty cells are
    skipped; every other row must have exactly as many cells as the header.
    """
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)

    header: list[str] | None = None
    rows: list[tuple[RecordLocation, dict[str, str]]] = []
    line = 1
    try:
        for cells in reader:
            location = RecordLocation(source, line)
            line = reader.line_num + 1  # where the next row starts
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = _csv_header(cells, location)
                continue
            if len(cells) != len(header):
                raise location.error(
                    f"expected {len(header)} fields ({delimiter.join(header)}), found {len(cells)}"
                )
            rows.append((location, dict(zip(header, cells, strict=True))))
    except csv.Error as exc:
        raise ConfigError(f"{source}:{reader.line_num}: invalid CSV: {exc}") from exc
    if header is None:
        raise ConfigError(f"{source}:1: the file is empty; expected a header line with 'email'")
    return build_directory(rows, allow_test_domains=allow_test_domains)


def _csv_header(cells: list[str], location: RecordLocation) -> list[str]:
    header = [cell.strip().lower() for cell in cells]
    seen: set[str] = set()
    for name in header:
        if not name:
            raise location.error("the header has an empty column name")
        if name not in FIELDS:
            raise location.error(f"unknown column {quoted(name)}; known: {', '.join(FIELDS)}")
        if name in seen:
            raise location.error(f"column {quoted(name)} appears twice")
        seen.add(name)
    if "email" not in seen:
        raise location.error("the header has no 'email' column")
    return header


# -- YAML --------------------------------------------------------------------------------


def parse_yaml(text: str, source: str, *, allow_test_domains: bool = False) -> Directory:
    """Parse a directory YAML file; `source` names it in error messages.

    The document is a list of mappings with the CSV's fields, or a mapping with one key
    ``employees`` holding that list. ``groups`` may be a list or a ``;``-separated
    string. Entries are numbered from 1 in error messages.

    Anchors and aliases (``&a`` / ``*a``) are refused: a directory has no use for them,
    and a few hundred bytes of nested aliases expand to gigabytes (a "billion laughs").
    """
    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_class(text)
    try:
        root = loader.get_single_node()
        _refuse_aliases(root, source)
        data: object = None if root is None else loader.construct_document(root)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = source if mark is None else f"{source}:{mark.line + 1}"
        problem = getattr(exc, "problem", None) or type(exc).__name__
        # The problem only, not str(exc): that quotes the offending input.
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None
    except RecursionError:
        raise ConfigError(f"{source}: invalid YAML: nested too deeply") from None
    finally:
        loader.dispose()

    entries, nodes = _yaml_entries(data, root, source)
    rows: list[tuple[RecordLocation, dict[str, object]]] = []
    for number, entry in enumerate(entries, start=1):
        node = nodes[number - 1] if number <= len(nodes) else None
        location = RecordLocation(source, entry=number, node=node)
        if not isinstance(entry, dict):
            raise location.error("an entry must be a mapping of field: value")
        for key in entry:
            if key not in FIELDS:
                raise location.error(f"unknown field {quoted(key)}; known: {', '.join(FIELDS)}")
        rows.append((location, entry))
    return build_directory(rows, allow_test_domains=allow_test_domains)


def _refuse_aliases(root: yaml.Node | None, source: str) -> None:
    """Raise `ConfigError` if any node is reached twice, which only an alias does.

    The composed graph shares one node per anchor, so this walk visits each node once
    and stops at the first repeat: it is linear in the file, whatever the aliases expand to.
    """
    seen: set[int] = set()
    stack = [] if root is None else [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            line = int(node.start_mark.line) + 1
            raise ConfigError(
                f"{source}:{line}: YAML anchors and aliases (&name, *name) are not allowed "
                "in the directory; write each entry out"
            )
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                stack.extend((key_node, value_node))


def _yaml_entries(
    data: object, root: yaml.Node | None, source: str
) -> tuple[list[object], list[yaml.Node]]:
    """Return the list of entries and, in parallel, their nodes (for line numbers)."""
    node = root
    if isinstance(data, dict):
        if set(data) != {"employees"}:
            raise ConfigError(
                f"{source}:1: expected a list of employees, or a mapping with only the"
                f" key 'employees'; found keys {quoted(', '.join(map(str, data)))}"
            )
        data = data["employees"]
        node = _yaml_value_node(root, "employees")
    if not isinstance(data, list):
        found = "nothing" if data is None else type(data).__name__
        raise ConfigError(f"{source}:1: expected a list of employees, found {found}")
    nodes = node.value if isinstance(node, yaml.SequenceNode) else []
    return data, [item for item in nodes if isinstance(item, yaml.Node)]


def _yaml_value_node(mapping: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(mapping, yaml.MappingNode):
        return None
    for key_node, value_node in mapping.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return cast(yaml.Node, value_node)
    return None
