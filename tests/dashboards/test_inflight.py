"""One draw at a time per key in a process (dashboards.inflight): threads asking for the same key while it is being
computed get that result; other keys, a failure or a slow leader leave each thread to compute its own."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from dashboards.inflight import computed_once


def at_once(calls: list) -> list:
    start = threading.Barrier(len(calls))

    def run(call):
        start.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_threads_asking_for_the_same_key_at_once_share_one_computation():
    computed = []

    def slow():
        computed.append(1)
        time.sleep(0.3)
        return "<div>the partial</div>"

    answers = at_once([lambda: computed_once("kept:a", slow) for _ in range(8)])
    assert len(computed) == 1
    assert {value for value, _ in answers} == {"<div>the partial</div>"}
    assert sum(here for _, here in answers) == 1


def test_other_keys_are_computed_each_for_itself():
    # Two scopes' partials of the same widget have two keys: neither is ever given the other's.
    def draw(key):
        time.sleep(0.2)
        return key

    answers = at_once([lambda key=key: computed_once(key, lambda: draw(key)) for key in ("scope:a", "scope:b")])
    assert answers == [("scope:a", True), ("scope:b", True)]


def test_a_failed_computation_gives_the_waiting_threads_nothing_to_serve():
    def fails():
        time.sleep(0.2)
        raise RuntimeError("the read failed")

    def ask():
        try:
            return computed_once("kept:fails", fails)
        except RuntimeError:
            return "raised"

    answers = at_once([ask for _ in range(4)])
    assert answers.count("raised") == 1
    assert answers.count((None, False)) == 3  # they compute their own


def test_a_slow_leader_is_not_waited_for_past_the_limit():
    def slow():
        time.sleep(1.0)
        return "late"

    leader = threading.Thread(target=computed_once, args=("kept:slow", slow))
    leader.start()
    time.sleep(0.1)
    started = time.monotonic()
    assert computed_once("kept:slow", lambda: "own", wait_seconds=0.2) == (None, False)
    assert time.monotonic() - started < 0.9
    leader.join()
    assert computed_once("kept:slow", lambda: "own") == ("own", True)  # the key is free again
