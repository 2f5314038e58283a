"""A question's preview is stopped after the preview limit, or by its user's Cancel: the builder and the API answer
with a message saying what to do, never a 500, and the query stops on the server."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from dashboards.kpi.question import question_build
from dashboards.selectors import PreviewStopped, question_preview_for_user, question_read_ms
from dashboards.services.questions import question_preview_cancel
from tests.dashboards.big_kpi import SLOW_QUESTION, big_kpi_create, big_kpi_drop
from tests.factories import Role, persona

pytestmark = pytest.mark.django_db

URL = "/dashboards/questions/"
CANCEL_URL = "/dashboards/questions/cancel/"
SLOW_FORM = {
    "source": "test_big_orders",
    "shown_source": "test_big_orders",
    "measure_column": "region",
    "measure_agg": "count_distinct",
}


@pytest.fixture
def big(nw_employees):
    big_kpi_create([e.pk for e in nw_employees.values()], 400_000)
    yield nw_employees
    big_kpi_drop()


@pytest.fixture
def people(big):
    return {
        "fuller": persona("fuller", Role.EXECUTIVE, big["2"]),
        "buchanan": persona("buchanan", Role.MANAGER, big["5"]),
        "outsider": persona("outsider", None),
    }


def test_a_preview_past_the_limit_is_stopped_with_a_message(people, settings):
    settings.QUESTION_PREVIEW_LIMIT_MS = 50
    question = question_build(payload=SLOW_QUESTION)
    with pytest.raises(PreviewStopped) as stopped:
        question_preview_for_user(user=people["fuller"], question=question)
    assert stopped.value.reason == "timeout"
    assert "longer than 0.05 s" in stopped.value.message and "keep it ready" in stopped.value.message
    # The connection is usable afterwards: the next read answers.
    settings.QUESTION_PREVIEW_LIMIT_MS = 60_000
    assert question_preview_for_user(user=people["fuller"], question=question)[0]["count_distinct_region"] > 1000


def test_the_builder_shows_the_limit_message_and_still_offers_to_save(people, settings):
    settings.QUESTION_PREVIEW_LIMIT_MS = 50
    client = Client()
    client.force_login(people["buchanan"])
    for headers in ({"HTTP_HX_REQUEST": "true"}, {}):
        response = client.get(URL, SLOW_FORM, **headers)
        assert response.status_code == 200
        html = response.content.decode()
        assert 'data-testid="preview-stopped" data-reason="timeout"' in html
        assert 'data-testid="save-form"' in html


def test_the_preview_api_answers_400_with_the_message(people, settings):
    settings.QUESTION_PREVIEW_LIMIT_MS = 50
    client = APIClient()
    client.force_authenticate(people["buchanan"])
    response = client.post("/api/questions/preview", SLOW_QUESTION, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "preview_timeout"
    assert "longer than" in response.json()["non_field_errors"][0]


def test_saving_a_question_past_the_limit_times_it_at_the_limit(people, settings):
    settings.QUESTION_PREVIEW_LIMIT_MS = 50
    question = question_build(payload=SLOW_QUESTION)
    assert question_read_ms(user=people["fuller"], question=question) == 50.0


def _cancel_when_running(user, run: str, outcomes: list) -> None:
    """From another connection: wait until the run is seen running, try an outsider's cancel, then the user's."""
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE %s",
                    [f"/* ll-read u{user.pk} r{run} */%"],
                )
                if cursor.fetchone()[0]:
                    break
            time.sleep(0.01)
        outcomes.append(question_preview_cancel(user=outcomes[0], run=run))  # another user: nothing
        outcomes.append(question_preview_cancel(user=user, run=run))
    finally:
        connections.close_all()


def test_cancel_stops_the_users_own_running_preview_only(people):
    run = uuid.uuid4().hex
    outcomes: list = [people["buchanan"]]
    canceller = threading.Thread(target=_cancel_when_running, args=(people["fuller"], run, outcomes))
    canceller.start()
    try:
        with pytest.raises(PreviewStopped) as stopped:
            # Slow enough to be caught running: a distinct count per day over every row.
            slow = {**SLOW_QUESTION, "dimensions": ["day"], "limit": 10_000}
            question_preview_for_user(user=people["fuller"], question=question_build(payload=slow), run=run)
    finally:
        canceller.join()
    assert stopped.value.reason == "cancelled"
    assert outcomes[1:] == [0, 1]


def ll_reads(captured) -> list[str]:
    return [q["sql"] for q in captured if "ll-read" in q["sql"]]


def test_a_cancel_that_arrives_before_its_preview_stops_it_before_any_query(people):
    run = uuid.uuid4().hex
    assert question_preview_cancel(user=people["fuller"], run=run) == 0  # nothing running yet: recorded
    question = question_build(payload=SLOW_QUESTION)
    with CaptureQueriesContext(connection) as captured, pytest.raises(PreviewStopped) as stopped:
        question_preview_for_user(user=people["fuller"], question=question, run=run)
    assert stopped.value.reason == "cancelled"
    assert ll_reads(captured.captured_queries) == []  # the query never reached the database


def test_a_cancel_of_one_run_leaves_other_runs_and_other_users_alone(people):
    run = uuid.uuid4().hex
    question_preview_cancel(user=people["buchanan"], run=run)  # the same run id, another user
    question = question_build(payload={"source": "test_big_orders", "measures": [{"column": "amount", "agg": "sum"}]})
    assert question_preview_for_user(user=people["fuller"], question=question, run=run)
    question_preview_cancel(user=people["fuller"], run=uuid.uuid4().hex)  # the user's other run
    assert question_preview_for_user(user=people["fuller"], question=question, run=run)


def test_a_cancel_between_the_check_and_the_querys_start_drops_the_answer(people, monkeypatch):
    """The narrowest order: the preview checked (not cancelled), the Cancel then finds nothing running (the script
    is not on the server yet), then the query runs to the end. Its answer must not be shown."""
    from dashboards import selectors

    run = uuid.uuid4().hex
    reads = selectors.kpi_read_with_repair
    found_running: list[int] = []

    def cancelled_on_the_way(*args, **kwargs):
        found_running.append(question_preview_cancel(user=people["fuller"], run=run))
        return reads(*args, **kwargs)

    monkeypatch.setattr(selectors, "kpi_read_with_repair", cancelled_on_the_way)
    question = question_build(payload={"source": "test_big_orders", "measures": [{"column": "amount", "agg": "sum"}]})
    with pytest.raises(PreviewStopped) as stopped:
        question_preview_for_user(user=people["fuller"], question=question, run=run)
    assert stopped.value.reason == "cancelled"
    assert found_running == [0]


def test_the_builder_answers_cancelled_when_the_cancel_came_first(people, client):
    client.force_login(people["buchanan"])
    run = uuid.uuid4().hex
    assert client.post(CANCEL_URL, {"run": run}).json() == {"cancelled": 0}
    response = client.get(URL, SLOW_FORM, HTTP_HX_REQUEST="true", HTTP_X_PREVIEW_RUN=run)
    assert response.status_code == 200
    assert 'data-testid="preview-stopped" data-reason="cancelled"' in response.content.decode()
    # The next preview (a new run id, as the page sends) runs.
    response = client.get(URL, SLOW_FORM, HTTP_HX_REQUEST="true", HTTP_X_PREVIEW_RUN=uuid.uuid4().hex)
    assert 'data-testid="preview-stopped"' not in response.content.decode()


def test_the_cancel_endpoint_is_post_only_for_users_with_rows_and_checks_the_run(people, client):
    run = uuid.uuid4().hex
    assert client.post(CANCEL_URL, {"run": run}).status_code == 302  # anonymous: to the login page
    client.force_login(people["outsider"])
    assert client.post(CANCEL_URL, {"run": run}).status_code == 403
    client.force_login(people["buchanan"])
    assert client.get(CANCEL_URL).status_code == 405
    assert client.post(CANCEL_URL, {"run": "x' OR 1=1 --"}).status_code == 400
    response = client.post(CANCEL_URL, {"run": run})
    assert response.status_code == 200 and response.json() == {"cancelled": 0}
