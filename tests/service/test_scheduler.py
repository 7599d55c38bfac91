"""The cron lines of ``[schedule]``: parsed at load, crontab's weekdays, clear errors."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from inboxwarden.cli.commands import main
from inboxwarden.config import load_settings
from inboxwarden.errors import ConfigError
from inboxwarden.service.scheduler import cron_trigger, crontab_weekdays, missed_time

STOCKHOLM = ZoneInfo("Europe/Stockholm")
MINIMAL = """
[organisation]
domains = ["exempel.se"]
timezone = "Europe/Stockholm"
[imap]
host = "127.0.0.1"
security = "plain"
auth = "master"
master_user = "inboxwarden"
"""


def next_fire(expression: str, after: datetime) -> datetime:
    return cron_trigger(expression, STOCKHOLM).get_next_fire_time(None, after)


def test_five_fields_fire_in_the_organisations_zone():
    """``0 2 * * *`` is 02:00 Stockholm time, the day after a 03:00 start."""
    start = datetime(2026, 11, 3, 3, 0, tzinfo=STOCKHOLM)
    assert next_fire("0 2 * * *", start) == datetime(2026, 11, 4, 2, 0, tzinfo=STOCKHOLM)


def test_six_fields_take_a_leading_seconds_field():
    start = datetime(2026, 11, 3, 3, 0, 1, tzinfo=STOCKHOLM)
    assert next_fire("*/5 * * * * *", start) == datetime(2026, 11, 3, 3, 0, 5, tzinfo=STOCKHOLM)


@pytest.mark.parametrize(
    ("line", "weekday"),
    [("0 7 * * 1", 0), ("0 7 * * mon", 0), ("0 7 * * 0", 6), ("0 7 * * 7", 6)],
)
def test_weekday_numbers_mean_what_they_mean_in_crontab(line, weekday):
    """crontab's 1 is Monday and 0 or 7 Sunday; APScheduler 3.x alone would shift them."""
    start = datetime(2026, 11, 3, 3, 0, tzinfo=STOCKHOLM)  # a Tuesday
    assert next_fire(line, start).weekday() == weekday


@pytest.mark.parametrize(
    ("field", "expected"),
    [("1-5", "mon-fri"), ("0-2", "sun,mon-tue"), ("*/2", "*/2"), ("1-5/2", "mon-fri/2"),
     ("sat,0", "sat,sun"), ("*", "*")],
)  # fmt: skip
def test_crontab_weekdays_become_names(field, expected):
    assert crontab_weekdays(field) == expected


def test_a_weekday_range_monday_to_friday_skips_the_weekend():
    saturday = datetime(2026, 11, 7, 3, 0, tzinfo=STOCKHOLM)
    assert next_fire("0 7 * * 1-5", saturday) == datetime(2026, 11, 9, 7, 0, tzinfo=STOCKHOLM)


@pytest.mark.parametrize(
    ("key", "line"),
    [("scan", "0 2 * *"), ("fanout", "61 2 * * *"), ("report", "0 7 * * funday"),
     ("retention", "0 2 * * 9")],
)  # fmt: skip
def test_a_wrong_cron_line_is_a_configuration_error_naming_the_key(tmp_path, key, line):
    path = tmp_path / "inboxwarden.toml"
    path.write_text(MINIMAL + f'[schedule]\n{key} = "{line}"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert f"field 'schedule.{key}'" in str(caught.value) and str(path) in str(caught.value)


def test_serve_with_a_wrong_cron_line_exits_2_without_a_traceback(tmp_path):
    path = tmp_path / "inboxwarden.toml"
    path.write_text(MINIMAL + '[schedule]\nscan = "every night"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(path), "serve"])
    assert result.exit_code == 2
    assert "schedule.scan" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("listen", ["9464", "localhost:port", ":9464"])
def test_a_wrong_listen_address_names_service_listen(tmp_path, listen):
    path = tmp_path / "inboxwarden.toml"
    path.write_text(MINIMAL + f'[service]\nlisten = "{listen}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"field 'service\.listen'"):
        load_settings(path)


def test_the_schedule_defaults_are_those_of_spec_11(tmp_path):
    path = tmp_path / "inboxwarden.toml"
    path.write_text(MINIMAL, encoding="utf-8")
    schedule = load_settings(path).schedule
    assert (schedule.scan, schedule.fanout, schedule.report, schedule.retention) == (
        "0 2 * * *", "30 2 * * *", "0 7 * * mon", "30 3 * * *",
    )  # fmt: skip
    assert load_settings(path).service.listen == "127.0.0.1:9464"


def test_a_time_missed_during_a_downtime_within_the_grace_runs_once_at_start():
    """Down from 01:00 to 03:00: the 02:00 scan is missed and caught up."""
    last = datetime(2026, 11, 2, 2, 0, 5, tzinfo=STOCKHOLM)
    now = datetime(2026, 11, 3, 3, 0, tzinfo=STOCKHOLM)
    missed = missed_time("0 2 * * *", STOCKHOLM, now, 6 * 3600, last)
    assert missed == datetime(2026, 11, 3, 2, 0, tzinfo=STOCKHOLM)


def test_nothing_is_missed_when_the_last_run_came_after_the_last_time():
    last = datetime(2026, 11, 3, 2, 0, 5, tzinfo=STOCKHOLM)
    now = datetime(2026, 11, 3, 3, 0, tzinfo=STOCKHOLM)
    assert missed_time("0 2 * * *", STOCKHOLM, now, 6 * 3600, last) is None


def test_a_time_missed_longer_ago_than_the_grace_is_not_caught_up():
    last = datetime(2026, 11, 1, 2, 0, 5, tzinfo=STOCKHOLM)
    now = datetime(2026, 11, 3, 9, 0, tzinfo=STOCKHOLM)  # 02:00 was 7 h ago; grace 6 h
    assert missed_time("0 2 * * *", STOCKHOLM, now, 6 * 3600, last) is None


def test_several_missed_times_are_caught_up_as_the_latest_one():
    last = datetime(2026, 11, 3, 2, 0, 5, tzinfo=STOCKHOLM)
    now = datetime(2026, 11, 3, 2, 7, 30, tzinfo=STOCKHOLM)
    missed = missed_time("*/2 * * * *", STOCKHOLM, now, 3600, last)
    assert missed == datetime(2026, 11, 3, 2, 6, tzinfo=STOCKHOLM)


def test_a_job_that_never_ran_has_missed_nothing():
    now = datetime(2026, 11, 3, 3, 0, tzinfo=STOCKHOLM)
    assert missed_time("0 2 * * *", STOCKHOLM, now, 6 * 3600, None) is None
