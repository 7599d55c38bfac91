"""The directory of mailboxes (docs/behaviour.md §8): loading CSV and YAML, and saying where it's wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from inboxwarden.directory.entries import Directory, DirectorySource
from inboxwarden.directory.files import FileDirectorySource, load_directory
from inboxwarden.errors import ConfigError
from inboxwarden.policy.people import Employee

CONFIG = Path(__file__).resolve().parent.parent / "config"
HEADER = "email,login,manager,team,language,mode,legal_hold,excluded,groups\n"


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def load_error(path: Path, **kwargs: bool) -> str:
    """Load `path`, expecting a ConfigError, and return its message."""
    with pytest.raises(ConfigError) as caught:
        load_directory(path, **kwargs)
    return str(caught.value)


# -- good files --------------------------------------------------------------------------


def test_csv_loads_every_field(tmp_path):
    path = write(
        tmp_path,
        "employees.csv",
        HEADER
        + "Anna.Berg@Exempel.SE,anna,boss@exempel.se,Support,SV,Enforce,Ja,nej, a ; b;a;\n"
        + "bo@exempel.se,,,,,,,,\n",
    )
    directory = load_directory(path)
    assert directory.employees == (
        Employee(
            email="Anna.Berg@exempel.se",
            login="anna",
            manager="boss@exempel.se",
            team="Support",
            language="sv",
            mode="enforce",
            legal_hold=True,
            excluded=False,
            groups=("a", "b"),
        ),
        Employee(email="bo@exempel.se", login="bo@exempel.se"),
    )


def test_csv_needs_only_the_email_column(tmp_path):
    path = write(tmp_path, "employees.csv", "email\nanna@exempel.se\n\n  \nbo@exempel.se\n")
    directory = load_directory(path)
    assert [employee.email for employee in directory] == ["anna@exempel.se", "bo@exempel.se"]
    assert directory.employees[0].login == "anna@exempel.se"


def test_csv_tolerates_a_byte_order_mark_and_crlf(tmp_path):
    path = tmp_path / "employees.csv"
    path.write_bytes(b"\xef\xbb\xbfemail,team\r\nanna@exempel.se,Ekonomi\r\n")
    assert load_directory(path).employees == (Employee("anna@exempel.se", team="Ekonomi"),)


def test_csv_with_semicolons_as_a_swedish_spreadsheet_saves_it(tmp_path):
    path = write(tmp_path, "employees.csv", 'email;team;groups\nanna@exempel.se;Ekonomi;"a;b"\n')
    assert load_directory(path).employees == (
        Employee("anna@exempel.se", team="Ekonomi", groups=("a", "b")),
    )


def test_csv_skips_rows_of_empty_cells(tmp_path):
    path = write(tmp_path, "employees.csv", "email,team\nanna@exempel.se,\n,\n")
    assert len(load_directory(path)) == 1


def test_csv_with_only_a_header_is_an_empty_directory(tmp_path):
    assert len(load_directory(write(tmp_path, "employees.csv", HEADER))) == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("yes", True),
        ("1", True),
        ("Ja", True),
        ("false", False),
        ("No", False),
        ("0", False),
        ("NEJ", False),
        ("", False),
        (" ja ", True),
    ],
)
def test_booleans_accept_english_swedish_and_digits(tmp_path, text, expected):
    path = write(tmp_path, "employees.csv", f"email,legal_hold\nanna@exempel.se,{text}\n")
    assert load_directory(path).employees[0].legal_hold is expected


def test_yaml_loads_a_list_of_entries(tmp_path):
    path = write(
        tmp_path,
        "employees.yml",
        """\
- email: Anna.Berg@Exempel.SE
  login: anna
  manager: boss@exempel.se
  team: Support
  language: en
  mode: observe
  legal_hold: yes
  excluded: nej
  groups: [a, b, a]
- email: bo@exempel.se
  groups: "x; y"
  excluded: 1
- email: cecilia@exempel.se
  team: 2024
""",
    )
    assert load_directory(path).employees == (
        Employee(
            email="Anna.Berg@exempel.se",
            login="anna",
            manager="boss@exempel.se",
            team="Support",
            language="en",
            mode="observe",
            legal_hold=True,
            groups=("a", "b"),
        ),
        Employee("bo@exempel.se", groups=("x", "y"), excluded=True),
        Employee("cecilia@exempel.se", team="2024"),
    )


def test_yaml_accepts_a_mapping_with_employees(tmp_path):
    path = write(tmp_path, "employees.yaml", "employees:\n  - email: anna@exempel.se\n")
    assert load_directory(path).employees == (Employee("anna@exempel.se"),)


def test_yaml_with_an_empty_list_is_an_empty_directory(tmp_path):
    assert len(load_directory(write(tmp_path, "employees.yaml", "employees: []\n"))) == 0


def test_example_files_load_and_agree():
    from_csv = load_directory(CONFIG / "employees.csv")
    from_yaml = load_directory(CONFIG / "employees.yaml")
    assert from_csv == from_yaml
    assert len(from_csv) == 5
    assert {employee.team for employee in from_csv} == {"Support", "Ekonomi"}
    assert [e.email for e in from_csv if e.language == "en"] == ["emily.clarke@exempel.se"]
    assert [e.email for e in from_csv if e.legal_hold] == ["anders.nilsson@exempel.se"]
    assert [e.email for e in from_csv if e.excluded] == ["sara.holm@exempel.se"]
    assert [e.email for e in from_csv if e.mode == "enforce"] == ["johan.berg@exempel.se"]
    assert list(from_csv.managers()) == ["karin.lindqvist@exempel.se"]


# -- the Directory -----------------------------------------------------------------------


@pytest.fixture(name="directory")
def _directory() -> Directory:
    return Directory(
        (
            Employee("Chef@exempel.se"),
            Employee("anna@exempel.se", manager="chef@exempel.se"),
            Employee("bo@exempel.se", manager="chef@exempel.se", excluded=True),
            Employee("cecilia@exempel.se", manager="vd@annat.se"),
            Employee("david@exempel.se", manager="chef@exempel.se"),
        )
    )


def test_by_email_ignores_case_and_whitespace(directory):
    assert directory.by_email(" ANNA@exempel.se ") is directory.employees[1]
    assert directory.by_email("chef@EXEMPEL.se") is directory.employees[0]


def test_by_email_returns_none_for_unknown_or_invalid_addresses(directory):
    assert directory.by_email("zoe@exempel.se") is None
    assert directory.by_email("not an address") is None


def test_by_email_finds_an_internationalised_domain_in_either_form():
    directory = Directory((Employee("anna@rlaø.se"),))
    assert directory.by_email("anna@xn--rla-2na.se") is directory.employees[0]


def test_active_leaves_out_excluded_employees(directory):
    assert [e.email for e in directory.active()] == [
        "Chef@exempel.se",
        "anna@exempel.se",
        "cecilia@exempel.se",
        "david@exempel.se",
    ]


def test_managers_maps_each_manager_to_their_active_team(directory):
    teams = directory.managers()
    assert {manager: [e.email for e in team] for manager, team in teams.items()} == {
        "Chef@exempel.se": ["anna@exempel.se", "david@exempel.se"],
        "vd@annat.se": ["cecilia@exempel.se"],
    }


def test_directory_rejects_an_address_listed_twice():
    with pytest.raises(ValueError, match="listed twice"):
        Directory((Employee("anna@exempel.se"), Employee("ANNA@exempel.se")))


def test_login_defaults_to_the_address():
    assert Employee("anna@exempel.se").login == "anna@exempel.se"
    assert Employee("anna@exempel.se", login="anna").login == "anna"


def test_file_source_is_a_directory_source():
    source: DirectorySource = FileDirectorySource(CONFIG / "employees.yaml")
    assert len(source.load()) == 5


# -- test domains ------------------------------------------------------------------------


@pytest.mark.parametrize("address", ["anna@mail.test", "anna@localhost", "anna@dev.localhost"])
def test_special_use_domains_need_allow_test_domains(tmp_path, address):
    path = write(tmp_path, "employees.csv", f"email,manager\n{address},boss@test\n")
    assert "field 'email'" in load_error(path)
    employee = load_directory(path, allow_test_domains=True).employees[0]
    assert employee.email == address
    assert employee.manager == "boss@test"


def test_test_domains_still_check_the_local_part(tmp_path):
    path = write(tmp_path, "employees.csv", "email\nan na@localhost\n")
    assert load_error(path, allow_test_domains=True).startswith(f"{path}:2: field 'email': ")


# -- CSV errors name the file, the line and the field -------------------------------------


def test_invalid_manager_names_file_line_and_field(tmp_path):
    path = write(
        tmp_path,
        "employees.csv",
        HEADER + "anna@exempel.se,,,,,,,,\n\nbo@exempel.se,,bob@,,,,,,\n",
    )
    assert load_error(path) == (
        f"{path}:4: field 'manager': 'bob@' is not a valid e-mail address"
        " (There must be something after the @-sign.)"
    )


@pytest.mark.parametrize(
    ("row", "field", "fragment"),
    [
        ("anna@,,,,,,,,", "email", "'anna@' is not a valid e-mail address"),
        (",anna,,,,,,,", "email", "is required"),
        ("anna@exempel.se,,,,de,,,,", "language", "'de' is not one of sv, en (or empty)"),
        ("anna@exempel.se,,,,,purge,,,", "mode", "'purge' is not one of observe, notify, enforce"),
        ("anna@exempel.se,,,,,,kanske,,", "legal_hold", "'kanske' is not a yes/no value"),
        ("anna@exempel.se,,,,,,,2,", "excluded", "'2' is not a yes/no value"),
        ("anna@exempel.se,,ANNA@exempel.se,,,,,,", "manager", "cannot be their own manager"),
    ],
)
def test_invalid_field_names_file_line_and_field(tmp_path, row, field, fragment):
    path = write(tmp_path, "employees.csv", HEADER + "ok@exempel.se,,,,,,,,\n" + row + "\n")
    message = load_error(path)
    assert message.startswith(f"{path}:3: field '{field}': ")
    assert fragment in message


def test_duplicate_email_names_both_lines(tmp_path):
    path = write(
        tmp_path, "employees.csv", "email\nanna@exempel.se\nbo@exempel.se\nAnna@Exempel.se\n"
    )
    assert load_error(path) == (
        f"{path}:4: field 'email': 'Anna@exempel.se' is already listed on line 2"
    )


def test_line_numbers_count_a_quoted_multiline_cell(tmp_path):
    path = write(tmp_path, "employees.csv", 'email,team\na@exempel.se,"Sup\nport"\nb@,x\n')
    assert load_error(path).startswith(f"{path}:4: field 'email': ")


@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        ("email,department", "unknown column 'department'; known: email, login,"),
        ("email,team,Team", "column 'team' appears twice"),
        ("login,team", "the header has no 'email' column"),
        ("email,,team", "the header has an empty column name"),
    ],
)
def test_bad_header_names_line_one(tmp_path, header, fragment):
    path = write(tmp_path, "employees.csv", header + "\nanna@exempel.se,x,y\n")
    message = load_error(path)
    assert message.startswith(f"{path}:1: ")
    assert fragment in message


def test_header_after_blank_lines_is_found_on_its_line(tmp_path):
    path = write(tmp_path, "employees.csv", "\n\nemail,dept\n")
    assert load_error(path).startswith(f"{path}:3: unknown column 'dept'")


def test_row_with_the_wrong_number_of_cells_is_rejected(tmp_path):
    path = write(tmp_path, "employees.csv", "email,team\nanna@exempel.se,Support,extra\n")
    assert load_error(path) == f"{path}:2: expected 2 fields (email,team), found 3"


def test_empty_csv_is_rejected(tmp_path):
    path = write(tmp_path, "employees.csv", "\n")
    assert load_error(path) == f"{path}:1: the file is empty; expected a header line with 'email'"


def test_csv_quoting_error_names_the_line(tmp_path):
    path = write(tmp_path, "employees.csv", 'email,team\nanna@exempel.se,"Sup"port\n')
    assert load_error(path).startswith(f"{path}:2: invalid CSV: ")


def test_non_utf8_file_names_the_line(tmp_path):
    path = write(tmp_path, "employees.csv", "email,team\nanna@exempel.se,Försäljning\n", "cp1252")
    assert load_error(path) == f"{path}:2: not UTF-8 (byte 0xf6); save it as UTF-8"


def test_missing_file_is_a_config_error(tmp_path):
    path = tmp_path / "missing.csv"
    assert load_error(path).startswith(f"{path}: cannot read the directory: ")


def test_unknown_file_type_is_rejected(tmp_path):
    path = write(tmp_path, "employees.txt", HEADER)
    assert load_error(path) == f"{path}: a directory file must end in .csv, .yaml or .yml"


# -- YAML errors name the file, the entry, its line and the field ------------------------


def test_yaml_invalid_manager_names_entry_line_and_field(tmp_path):
    path = write(
        tmp_path,
        "employees.yaml",
        """\
employees:
  - email: anna@exempel.se

  - email: bo@exempel.se
    team: Support
    manager: bob@
""",
    )
    assert load_error(path) == (
        f"{path}:6: entry 2: field 'manager': 'bob@' is not a valid e-mail address"
        " (There must be something after the @-sign.)"
    )


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("- team: Support\n", "{path}:1: entry 1: field 'email': is required"),
        ("- email: a@exempel.se\n  dept: x\n", "{path}:1: entry 1: unknown field 'dept'"),
        ("- a@exempel.se\n", "{path}:1: entry 1: an entry must be a mapping of field: value"),
        (
            "- email: a@exempel.se\n  language: no\n",
            "{path}:2: entry 1: field 'language': expected text, found False (quote it in YAML)",
        ),
        (
            "- email: a@exempel.se\n  groups: {a: 1}\n",
            "{path}:2: entry 1: field 'groups': expected names separated by ';' or a list",
        ),
        (
            "- email: a@exempel.se\n  groups: [a, [b]]\n",
            "{path}:2: entry 1: field 'groups': a group name must be text, found ['b']",
        ),
        (
            "- email: a@exempel.se\n  legal_hold: 2\n",
            "{path}:2: entry 1: field 'legal_hold': 2 is not a yes/no value",
        ),
    ],
)
def test_yaml_entry_errors_name_entry_line_and_field(tmp_path, entry, expected):
    path = write(tmp_path, "employees.yaml", entry)
    assert load_error(path).startswith(expected.format(path=path))


def test_yaml_duplicate_email_names_both_entries(tmp_path):
    path = write(
        tmp_path,
        "employees.yaml",
        "- email: anna@exempel.se\n- email: bo@exempel.se\n- email: ANNA@exempel.se\n",
    )
    message = load_error(path)
    assert message.startswith(f"{path}:3: entry 3: field 'email': ")
    assert message.endswith(": 'ANNA@exempel.se' is already listed in entry 1 (line 1)")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "{path}:1: expected a list of employees, found nothing"),
        ("email: a@exempel.se\n", "{path}:1: expected a list of employees, or a mapping"),
        ("employees: a@exempel.se\n", "{path}:1: expected a list of employees, found str"),
        ("- email: [a@exempel.se\n", "{path}:2: invalid YAML: "),
    ],
)
def test_yaml_document_errors_are_located(tmp_path, text, expected):
    path = write(tmp_path, "employees.yaml", text)
    assert load_error(path).startswith(expected.format(path=path))
