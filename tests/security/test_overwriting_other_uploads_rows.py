"""A data manager uploads a file whose identifiers collide with rows another data manager loaded.

Any data manager may update any canonical row (docs/TRANSFORMS.md, "Who may change whose rows"): the
identifiers decide, not the uploader. What must hold is that it never happens silently: the review page
says beforehand how many rows of which other uploads will change, and the execution's report and job
page say which changed.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from canonical.models import Customer
from mappings.models import DataSource
from mappings.services.execute import execution_run_now
from tests.factories import Role, persona
from tests.mappings.helpers import field, save

FIELDS = [
    field("id", "canonical_customers", "external_id"),
    field("name", "canonical_customers", "name"),
    field("city", "canonical_customers", "city"),
]


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"


@pytest.fixture
def other_analyst(db):
    return persona("mallory", Role.ANALYST)


def _upload_and_map(client, user, name: str, data: bytes) -> DataSource:
    client.force_login(user)
    client.post("/uploads/", {"file": SimpleUploadedFile(name, data, "text/csv")})
    source = DataSource.objects.get(uploaded_by=user, name=name)
    save(source, FIELDS, user=user)
    return source


@pytest.fixture
def executives_customers(client, executive):
    data = b"id,name,city\nC1,Ann,Lisboa\nC2,Bob,Porto\nC3,Cid,Braga\n"
    source = _upload_and_map(client, executive, "customers.csv", data)
    job = execution_run_now(source=source, user=executive)
    assert job.status == "succeeded" and job.report["tables"]["canonical_customers"]["inserted"] == 3
    return source


def test_colliding_ids_from_another_data_manager_are_announced_on_the_review_page_and_reported(
    client, executive, other_analyst, executives_customers
):
    hostile = b"id,name,city\nC1,Ann,Madrid\nC2,Bob,Porto\nC9,New,Faro\n"  # C1 changes, C2 is the same
    source = _upload_and_map(client, other_analyst, "mine.csv", hostile)

    review = client.get(f"/uploads/{source.pk}/review/").content.decode()
    assert 'data-testid="other-uploads"' in review
    assert "2 rows from other uploads will change" in review
    assert f"upload #{executives_customers.pk} <em>customers.csv</em> (uploaded by fuller)" in review

    job = execution_run_now(source=source, user=other_analyst)
    assert job.status == "succeeded", job.error
    counts = dict(job.report["tables"]["canonical_customers"])
    overwritten = counts.pop("overwritten_from_other_sources")
    assert counts == {"inserted": 1, "updated": 1, "unchanged": 1, "rejected": 0}
    # The overwrite of another upload's value is in the report too, never silent.
    assert overwritten["rows"] == 1 and overwritten["columns"] == {"city": 1}
    assert job.report["other_uploads"] == [
        {
            "source_id": executives_customers.pk,
            "name": "customers.csv",
            "uploaded_by": "fuller",
            "rows": 1,
            "tables": {"canonical_customers": 1},
        }
    ]
    assert Customer.objects.get(external_id="C1").city == "Madrid"
    page = client.get(f"/uploads/jobs/{job.pk}/").content.decode()
    assert "1 row from other uploads was changed" in page
    assert f"upload #{executives_customers.pk}" in page


def test_a_file_with_only_new_ids_announces_nothing(client, other_analyst, executives_customers):
    source = _upload_and_map(client, other_analyst, "fresh.csv", b"id,name,city\nX1,Xe,Faro\nX2,Yo,Faro\n")
    assert 'data-testid="other-uploads"' not in client.get(f"/uploads/{source.pk}/review/").content.decode()
    job = execution_run_now(source=source, user=other_analyst)
    assert job.report["other_uploads"] == []
    assert 'data-testid="other-uploads"' not in client.get(f"/uploads/jobs/{job.pk}/").content.decode()


def test_rows_of_another_upload_changed_through_a_self_referencing_file_are_reported(client, executive, other_analyst):
    """Employees with managers go through the staged load."""
    employee_fields = [
        field("id", "canonical_employees", "external_id"),
        field("name", "canonical_employees", "name"),
        field("manager", "canonical_employees", "manager_id"),
    ]
    client.force_login(executive)
    first_data = b"id,name,manager\nE1,Boss,\nE2,Ann,E1\n"
    client.post("/uploads/", {"file": SimpleUploadedFile("staff.csv", first_data, "text/csv")})
    first = DataSource.objects.get(uploaded_by=executive)
    save(first, employee_fields, user=executive)
    assert execution_run_now(source=first, user=executive).status == "succeeded"

    client.force_login(other_analyst)
    client.post("/uploads/", {"file": SimpleUploadedFile("s.csv", b"id,name,manager\nE2,Ann Renamed,E1\n", "text/csv")})
    second = DataSource.objects.get(uploaded_by=other_analyst)
    save(second, employee_fields, user=other_analyst)
    job = execution_run_now(source=second, user=other_analyst)
    assert job.status == "succeeded", job.error
    assert [(u["source_id"], u["rows"]) for u in job.report["other_uploads"]] == [(first.pk, 1)]
