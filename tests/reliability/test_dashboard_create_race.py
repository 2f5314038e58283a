"""Two people create a dashboard with the same title at the same moment (a double click does it too).

Both look for a free slug before either is saved; the second insert then meets the first on the unique index.
The test makes that moment certain: another session inserts the slug and holds its transaction open until
the request's insert waits on it, then commits. Both dashboards exist afterwards, with distinct slugs."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from dashboards.models import Dashboard
from tests.factories import Role, persona
from tests.reliability.conftest import backend_waiting_on_lock, raw_connect, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


class CreateThread(threading.Thread):
    def __init__(self, user, title: str):
        super().__init__(daemon=True)
        self.client = Client()
        self.client.force_login(user)
        self.title = title
        self.response = None
        self.error: BaseException | None = None

    def run(self):
        try:
            self.response = self.client.post("/dashboards/", {"title": self.title})
        except BaseException as exc:  # the test inspects it
            self.error = exc
        finally:
            connection.close()


def test_two_dashboards_created_at_once_with_one_title_both_exist_with_distinct_slugs(observer):
    analyst = persona("analyst", Role.ANALYST)
    blocker = raw_connect(autocommit=False)
    try:
        blocker.execute(
            "INSERT INTO dashboards (title, slug, description, layout, created_at, updated_at) "
            "VALUES ('Quarterly review', 'quarterly-review', '', '{}', now(), now())"
        )
        creating = CreateThread(analyst, "Quarterly review")
        creating.start()
        wait_for(
            lambda: backend_waiting_on_lock(observer, exclude={blocker.info.backend_pid}),
            timeout=30,
            what="the request's insert to wait for the other session's slug",
        )
        blocker.commit()
    finally:
        blocker.close()
    creating.join(timeout=30)

    assert creating.error is None, repr(creating.error)
    assert creating.response.status_code == 302
    mine = Dashboard.objects.get(owner=analyst)
    assert mine.slug == "quarterly-review-2"
    assert creating.response["Location"] == mine.get_absolute_url()
    assert sorted(Dashboard.objects.values_list("slug", flat=True)) == ["quarterly-review", "quarterly-review-2"]
