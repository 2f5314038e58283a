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


# --- The widget partial's draw (dashboards.views.widget_partial) --------------------------------------------------


def draw_while_another_reader_asks(monkeypatch, leader_client, follower_client, url):
    """The leader's draw of `url` starts and pauses (up to 2 s) while the follower asks for the same partial in
    another thread: (leader's HTML, follower's HTML, how many times the rows were read). The follower thread uses
    the test's database connection (the rows exist only in the test's transaction); the leader issues no query
    while it pauses, so the two never use it at once."""
    from django.db import connections

    import dashboards.views

    original = dashboards.views.widgets_data_for_user
    reads, started, follower_done = [], threading.Event(), threading.Event()

    def slow_read(**kwargs):
        reads.append(kwargs["user"].username)
        if len(reads) == 1:
            started.set()
            follower_done.wait(2.0)
        return original(**kwargs)

    monkeypatch.setattr(dashboards.views, "widgets_data_for_user", slow_read)
    shared = connections["default"]
    shared.inc_thread_sharing()
    answers = {}

    def follower():
        connections["default"] = shared
        started.wait(5)
        answers["follower"] = follower_client.get(url, HTTP_HX_REQUEST="true").content.decode()
        follower_done.set()

    thread = threading.Thread(target=follower)
    thread.start()
    try:
        answers["leader"] = leader_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    finally:
        thread.join(10)
        shared.dec_thread_sharing()
    return answers["leader"], answers["follower"], reads


def _two_readers_draw(monkeypatch, client, first, second, dashboard):
    """`first` (on `client`) and `second` (on a client of their own) ask for the "By rep" widget at once."""
    from django.test import Client

    client.force_login(first)
    other = Client()
    other.force_login(second)
    widget = dashboard.widgets.get(title="By rep")
    url = f"/dashboards/{dashboard.slug}/widgets/{widget.pk}/"
    return draw_while_another_reader_asks(monkeypatch, client, other, url)


def test_two_readers_of_one_scope_asking_at_once_share_one_draw(monkeypatch, client, sales_dashboard, manager):
    from accounts.models import Role
    from dashboards.services.dashboards import dashboard_share
    from tests.factories import persona

    colleague = persona("manager-too", Role.MANAGER, manager.employee)  # the same team: the same scope
    dashboard_share(dashboard=sales_dashboard, level="view", username=colleague.username)
    leader, follower, reads = _two_readers_draw(monkeypatch, client, manager, colleague, sales_dashboard)
    assert reads == ["buchanan"]
    assert follower == leader and "<tbody><tr>" in leader


def test_readers_of_other_scopes_asking_at_once_each_get_their_own_rows(
    monkeypatch, client, sales_dashboard, manager, rep, nw_employees
):

    leader, follower, reads = _two_readers_draw(monkeypatch, client, manager, rep, sales_dashboard)
    assert sorted(reads) == ["buchanan", "davolio"]
    rep_own = f"<td>{nw_employees['1'].pk}</td>"
    assert rep_own in follower and rep_own not in leader
    assert f"<td>{nw_employees['5'].pk}</td>" in leader and f"<td>{nw_employees['5'].pk}</td>" not in follower
