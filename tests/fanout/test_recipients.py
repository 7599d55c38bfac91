"""Counting recipients and judging fan-out: pure, no server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from inboxwarden.detectors import Kind
from inboxwarden.fanout.analysis import Finding, Thresholds
from inboxwarden.fanout.recipients import count_recipients, is_internal

DOMAINS = ["exempel.se"]


def test_addresses_are_normalised_and_counted_once():
    counted = count_recipients(
        {"to": "Anna <Anna@Exempel.SE>, anna@exempel.se", "cc": "ANNA@exempel.se, b@kund.se"},
        DOMAINS,
    )
    assert counted.total == 2
    assert counted.cc_count == 1  # Anna is in To already
    assert counted.external == 1


def test_group_syntax_and_bcc_are_understood():
    counted = count_recipients(
        {"to": "Projekt: a@exempel.se, b@exempel.se;", "bcc": "c@kund.se", "cc": "Undisclosed:;"},
        DOMAINS,
    )
    assert counted.total == 3
    assert counted.external == 1


@pytest.mark.parametrize(
    ("address", "internal"),
    [("a@exempel.se", True), ("a@mail.exempel.se", True), ("a@notexempel.se", False)],
)
def test_subdomains_count_as_internal(address, internal):
    assert is_internal(address, DOMAINS) is internal


def test_invalid_addresses_are_not_counted():
    assert count_recipients({"to": "not an address, @broken, a@exempel.se"}, DOMAINS).total == 1


@pytest.mark.parametrize(
    ("to", "cc", "exceeded"),
    [(1, 3, False), (1, 4, True), (10, 0, False), (11, 0, True)],
)
def test_thresholds(to, cc, exceeded):
    counted = count_recipients(
        {
            "to": ", ".join(f"t{i}@exempel.se" for i in range(to)),
            "cc": ", ".join(f"c{i}@exempel.se" for i in range(cc)),
        },
        DOMAINS,
    )
    assert Thresholds(max_cc=3, max_recipients=10).exceeded(counted) is exceeded


@pytest.mark.parametrize(
    ("kinds", "external", "severity"),
    [
        ({Kind.PERSONNUMMER}, 1, "high"),
        ({Kind.SAMORDNINGSNUMMER}, 2, "high"),
        ({Kind.PERSONNUMMER}, 0, "medium"),
        ({Kind.PHONE}, 5, "medium"),
    ],
)
def test_severity(kinds, external, severity):
    finding = Finding("m", "Sent", datetime.now(UTC), "r", 5, 4, external, frozenset(kinds))
    assert finding.severity == severity
    assert finding.as_json()["severity"] == severity
