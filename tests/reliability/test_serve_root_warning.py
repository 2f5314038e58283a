"""`make run` (`serve --welcome`) leaves Celery's warning about a worker run as root out of its start-up lines;
a worker started any other way (production's `serve`, a process manager) still prints it."""

from __future__ import annotations

import os

import pytest
from celery.platforms import ROOT_DISCOURAGED

from dashboards.management.commands.serve import ROOT_WARNING_FILTER, welcome_worker_env
from tests.reliability.conftest import test_database_url as worker_database_url
from tests.reliability.workers import WorkerProcess

ROOT_WARNING = "superuser privileges"
QUEUE = "serve-root-warning"  # a queue nothing is sent to: the workers only start


def test_the_filter_names_the_start_of_celerys_own_message_and_keeps_other_warning_filters():
    action, message = ROOT_WARNING_FILTER.split(":", 1)
    assert action == "ignore" and ROOT_DISCOURAGED.startswith(message) and ROOT_WARNING in message
    assert "," not in message  # PYTHONWARNINGS separates filters with commas
    assert welcome_worker_env({}) == {"PYTHONWARNINGS": ROOT_WARNING_FILTER}
    kept = welcome_worker_env({"PYTHONWARNINGS": "error::ResourceWarning"})
    assert kept == {"PYTHONWARNINGS": f"error::ResourceWarning,{ROOT_WARNING_FILTER}"}


@pytest.mark.celery_worker
@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="Celery warns only when run as root")
def test_a_make_run_worker_started_as_root_prints_no_root_warning_and_a_plain_one_does(tmp_path):
    plain = WorkerProcess(tmp_path / "plain.log", database_url=worker_database_url(), queues=QUEUE)
    quiet = WorkerProcess(
        tmp_path / "quiet.log",
        database_url=worker_database_url(),
        queues=QUEUE,
        extra_env=welcome_worker_env(dict(os.environ)),
    )
    try:
        plain.wait_ready()
        quiet.wait_ready()
        assert ROOT_WARNING in plain.log()
        assert ROOT_WARNING not in quiet.log(), quiet.log()[-3000:]
        assert "SecurityWarning" not in quiet.log()
    finally:
        plain.stop()
        quiet.stop()
