"""Uploads, mappings and jobs in Django admin: the Admin role reads them, nobody edits them there."""

from __future__ import annotations

import pytest

from mappings.models import ExecutionJob
from mappings.services.mapping import mapping_save
from tests.factories import PASSWORD, Role, persona
from tests.mappings.conftest import NORTHWIND, data_source_create

CHANGELISTS = ("datasource", "mapping", "fieldmapping", "executionjob")


@pytest.fixture
def loaded(db, executive):
    source = data_source_create(file=NORTHWIND / "customers.csv", user=executive)
    mapping = mapping_save(
        source=source,
        fields=[{"source_col": "customerID", "canonical_table": "canonical_customers", "canonical_col": "external_id"}],
        user=executive,
    )
    job = ExecutionJob.objects.create(source=source, mapping=mapping, created_by=executive, status="succeeded")
    return source, mapping, job


@pytest.fixture
def admin_client(client, db):
    persona("admin", Role.ADMIN)
    client.login(username="admin", password=PASSWORD)
    return client


def test_an_admin_role_staff_user_sees_the_uploads_mappings_fields_and_jobs(admin_client, loaded):
    source, mapping, job = loaded
    for model in CHANGELISTS:
        response = admin_client.get(f"/admin/mappings/{model}/")
        assert response.status_code == 200, model
    assert source.name in admin_client.get("/admin/mappings/datasource/").content.decode()
    assert "customerID" in admin_client.get("/admin/mappings/fieldmapping/").content.decode()
    assert str(job.pk) in admin_client.get("/admin/mappings/executionjob/").content.decode()


def test_the_admin_role_cannot_add_uploads_mappings_fields_or_jobs(admin_client, loaded):
    for model in CHANGELISTS:
        assert admin_client.get(f"/admin/mappings/{model}/add/").status_code == 403, model


def test_an_uploads_admin_page_is_read_only_and_a_posted_change_is_refused(admin_client, loaded):
    source, mapping, job = loaded
    page = admin_client.get(f"/admin/mappings/datasource/{source.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    response = admin_client.post(f"/admin/mappings/datasource/{source.pk}/change/", {"name": "renamed.csv"})
    assert response.status_code == 403
    source.refresh_from_db()
    assert source.name != "renamed.csv"
    assert admin_client.post(f"/admin/mappings/executionjob/{job.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ExecutionJob.objects.filter(pk=job.pk).exists()


def test_even_a_superuser_cannot_edit_a_mapping_in_admin(client, loaded):
    source, mapping, job = loaded
    superuser = persona("root", None)
    superuser.is_staff = superuser.is_superuser = True
    superuser.save()
    client.login(username="root", password=PASSWORD)
    assert client.get(f"/admin/mappings/mapping/{mapping.pk}/change/").status_code == 200
    assert client.post(f"/admin/mappings/mapping/{mapping.pk}/change/", {"note": "edited"}).status_code == 403
    assert client.get("/admin/mappings/mapping/add/").status_code == 403


def test_a_non_staff_data_manager_is_sent_to_the_login_page(client, executive, loaded):
    client.login(username=executive.username, password=PASSWORD)
    response = client.get("/admin/mappings/datasource/")
    assert response.status_code == 302 and "login" in response["Location"]
