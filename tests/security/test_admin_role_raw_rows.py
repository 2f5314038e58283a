"""Decided: the Admin role is the data steward. It sees and repairs EVERY upload — the raw file's rows
(personal data included) on the upload, review and job pages, its rejected rows, its mapping and its
execution — because someone must be able to fix a colleague's failed upload. It sees NO KPI rows: dashboards
follow the org chart, and an Admin is nobody's manager. That is not a confidentiality wall (raw rows hold more
than KPI rows), so the role is only for people trusted with all uploaded data (docs/DASHBOARDS.md, "The Admin
role and raw rows"). Everyone else who may upload sees only their own uploads.

These tests pin that decision: if it changes, they must change with it."""

from __future__ import annotations

import csv
import io

import pytest

from accounts.models import Role
from mappings.services.execute import execution_run_now
from mappings.services.mapping import mapping_save
from mappings.services.profile import data_source_profile
from mappings.services.upload import data_source_create
from tests.dashboards.conftest import sales_dashboard, sales_kpi  # noqa: F401 (fixtures)
from tests.factories import persona

PII_EMAIL = "maria.anders@alfreds.example"
RAW = f"id,name,email\nALFKI,Maria Anders,{PII_EMAIL}\nBAD,,\n"
FIELDS = [
    {"source_col": "id", "canonical_table": "canonical_customers", "canonical_col": "external_id"},
    {"source_col": "name", "canonical_table": "canonical_customers", "canonical_col": "name"},
    {"source_col": "email", "canonical_table": "canonical_customers", "canonical_col": "email"},
]


@pytest.fixture
def executives_upload(executive, tmp_path, settings):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    path = tmp_path / "customers.csv"
    path.write_text(RAW)
    source = data_source_create(file=path, user=executive)
    data_source_profile(source=source)  # the review page's samples: raw values (a worker does this in production)
    mapping = mapping_save(source=source, fields=FIELDS, user=executive)
    job = execution_run_now(source=source, mapping=mapping, user=executive)
    return source, job


@pytest.fixture
def admin(db):
    return persona("admin", Role.ADMIN)


def test_admin_role_reads_the_raw_rows_of_an_upload_it_did_not_make(client, admin, executives_upload):
    source, job = executives_upload
    client.force_login(admin)

    review = client.get(f"/uploads/{source.pk}/review/")

    assert review.status_code == 200
    assert PII_EMAIL in review.content.decode()  # the raw sample, personal data included
    assert client.get(f"/uploads/{source.pk}/").status_code == 200
    assert client.get(f"/uploads/jobs/{job.pk}/").status_code == 200


def test_admin_role_downloads_the_rejected_raw_rows_of_any_upload(client, admin, executives_upload):
    _, job = executives_upload
    client.force_login(admin)

    response = client.get(f"/uploads/jobs/{job.pk}/rejected.csv")

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert ["canonical_customers", "3", "name", "", "required value missing"] in rows, rows


def test_admin_role_may_change_the_mapping_of_any_upload(admin, executives_upload):
    source, _ = executives_upload
    mapping = mapping_save(source=source, fields=FIELDS[:2], user=admin)  # e.g. drop a column that leaks
    assert mapping.source_id == source.pk and mapping.version == 2


def test_admin_role_sees_no_kpi_rows_even_on_a_dashboard_shared_with_it(client, admin, sales_dashboard):  # noqa: F811
    from dashboards.services.dashboards import dashboard_share

    dashboard_share(dashboard=sales_dashboard, level="view", username=admin.username)
    client.force_login(admin)

    response = client.get(f"/api/dashboard/{sales_dashboard.pk}/data")

    assert response.status_code == 200
    assert [w["rows"] for w in response.json()["widgets"]] == [[] for _ in response.json()["widgets"]]


def test_other_uploaders_never_see_an_upload_they_did_not_make(client, executives_upload):
    source, job = executives_upload
    analyst = persona("analyst", Role.ANALYST)
    other_executive = persona("callahan", Role.EXECUTIVE)
    for user in (analyst, other_executive):
        client.force_login(user)
        assert client.get(f"/uploads/{source.pk}/review/").status_code == 404
        assert client.get(f"/uploads/jobs/{job.pk}/rejected.csv").status_code == 404
