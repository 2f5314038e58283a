"""The uploads page costs the same number of queries for 2 uploads as for 12."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mappings.models import DataSource
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _add_uploads(count: int, *, owner, start: int) -> None:
    for i in range(start, start + count):
        DataSource.objects.create(
            name=f"orders_{i}.csv",
            file_path=f"uploads/orders_{i}.csv",
            sha256=f"{i:064x}",
            size_bytes=100,
            rows=3,
            uploaded_by=owner,
            status=DataSource.Status.PROFILED if i % 2 else DataSource.Status.UPLOADED,
        )


def _queries(client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/uploads/")
    assert response.status_code == 200
    return len(captured), response.content.decode()


def test_the_uploads_page_does_not_query_per_upload(client, executive, manager):
    client.login(username=executive.username, password=PASSWORD)
    _add_uploads(1, owner=executive, start=0)
    _add_uploads(1, owner=manager, start=1)
    client.get("/uploads/")
    few, _ = _queries(client)
    _add_uploads(5, owner=executive, start=2)
    _add_uploads(5, owner=manager, start=7)
    many, body = _queries(client)
    assert "orders_6.csv" in body  # the new uploads are listed
    assert many == few
