"""portal/background.py: periodic chores on a thread of their own."""

from __future__ import annotations

import threading

from portal.background import Every, Periodic


def test_it_waits_for_a_round_under_way_when_stopped():
    started, release, finished = threading.Event(), threading.Event(), threading.Event()

    def slow_chore() -> None:
        started.set()
        release.wait(5)
        finished.set()

    chores = Periodic(Every(0, slow_chore), interval=0.01, name="test-chores")
    chores.start()
    assert started.wait(5)
    threading.Timer(0.2, release.set).start()
    chores.stop()
    assert finished.is_set()  # the round ended before stop() returned
    assert not chores.is_alive()


def test_it_runs_no_round_after_it_was_stopped():
    rounds = []
    chores = Periodic(Every(0, lambda: rounds.append(1)), interval=0.01, name="test-chores", wait_first=True)
    chores.start()
    chores.stop()
    counted = len(rounds)
    threading.Event().wait(0.05)
    assert len(rounds) == counted
