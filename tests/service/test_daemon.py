"""The signal handling of ``serve``, in-process: the first signal asks, the second insists."""

from __future__ import annotations

import signal
import threading

import pytest

from inboxwarden.service import daemon


@pytest.fixture(name="handlers_restored")
def _handlers_restored():
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    yield
    for s, handler in saved.items():
        signal.signal(s, handler)


@pytest.mark.usefixtures("handlers_restored")
def test_the_first_signal_sets_stop_and_the_second_exits_at_once(monkeypatch):
    exits: list[int] = []
    monkeypatch.setattr(daemon.os, "_exit", exits.append)
    stop = threading.Event()
    daemon._on_signals(stop)
    signal.raise_signal(signal.SIGTERM)
    assert stop.is_set() and exits == []
    signal.raise_signal(signal.SIGINT)
    assert exits == [daemon.EXIT_FORCED]
