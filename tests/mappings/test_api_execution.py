from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from mappings.models import ExecutionJob, Mapping
from mappings.services.execute import mapping_execute
from tests.mappings.helpers import field, save, upload_text

CSV = "id,name,city\nC1,Alfreds,Berlin\nC2,Bottom Dollar,Tsawassen\n"
FIELDS = [
    field("id", "canonical_customers", "external_id"),
    field("name", "canonical_customers", "name", [{"op": "trim"}]),
    field("city", "canonical_customers", "city"),
]


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"


@pytest.fixture
def source(executive, tmp_path):
    return upload_text(tmp_path, CSV, user=executive)


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_executive_saves_a_mapping_as_a_new_version_each_time(executive, source):
    client = client_for(executive)
    first = client.post("/api/mapping/save", {"source_id": source.pk, "mappings": FIELDS}, format="json")
    second = client.post(
        "/api/mapping/save",
        {"source_id": source.pk, "mappings": FIELDS, "options": {"all_or_nothing": True}},
        format="json",
    )

    assert first.status_code == 201, first.json()
    assert (first.json()["version"], second.json()["version"]) == (1, 2)
    assert second.json()["options"]["all_or_nothing"] is True
    assert second.json()["created_by"] == "fuller"
    assert Mapping.objects.get(pk=second.json()["mapping_id"]).created_by == executive
    assert [m["canonical_col"] for m in first.json()["mappings"]] == ["external_id", "name", "city"]


def test_saving_an_invalid_mapping_lists_every_problem(executive, source):
    bad = [
        field("id", "canonical_customers", "external_id"),
        field("nope", "canonical_customers", "name"),
        field("city", "canonical_customers", "city", [{"op": "read_csv", "path": "/etc/passwd"}]),
    ]
    response = client_for(executive).post("/api/mapping/save", {"source_id": source.pk, "mappings": bad}, format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert any("'nope' is not a header of the file" in e for e in errors)
    assert any("unknown op 'read_csv'" in e for e in errors)
    assert not Mapping.objects.exists()


def test_execute_queues_a_job_and_jobs_endpoint_reports_its_result(
    executive, source, django_capture_on_commit_callbacks
):
    save(source, FIELDS, user=executive)
    client = client_for(executive)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post("/api/mapping/execute", {"source_id": source.pk}, format="json")

    assert response.status_code == 202, response.json()
    assert len(callbacks) == 1  # the Celery task is sent once the request's transaction commits
    job_id = response.json()["job_id"]
    assert client.get(f"/api/jobs/{job_id}").json()["status"] == "queued"

    mapping_execute(job=ExecutionJob.objects.get(pk=job_id))
    body = client.get(f"/api/jobs/{job_id}").json()

    assert body["status"] == "succeeded"
    assert body["progress"] == 1.0
    assert body["report"]["tables"]["canonical_customers"] == {
        "inserted": 2,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
    }
    assert body["report"]["source_id"] == source.pk
    assert body["rejected_rows_url"] == reverse("mappings:job-rejected-csv", args=[job_id])


def test_execute_without_a_saved_mapping_is_a_clear_400(executive, source):
    response = client_for(executive).post("/api/mapping/execute", {"source_id": source.pk}, format="json")
    assert response.status_code == 400
    assert "no saved mapping" in response.json()["errors"][0]


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("post", "/api/mapping/save", {"source_id": 1, "mappings": []}),
        ("post", "/api/mapping/execute", {"source_id": 1}),
        ("get", "/api/jobs/00000000-0000-0000-0000-000000000000", None),
    ],
)
def test_anonymous_callers_get_401(db, method, url, body):
    response = getattr(APIClient(), method)(url, body, format="json")
    assert response.status_code == 401


def test_sales_reps_and_outsiders_may_not_map_or_execute(rep, outsider, source):
    save(source, FIELDS)
    for user in (rep, outsider):
        client = client_for(user)
        assert (
            client.post("/api/mapping/save", {"source_id": source.pk, "mappings": FIELDS}, format="json").status_code
            == 403
        )
        assert client.post("/api/mapping/execute", {"source_id": source.pk}, format="json").status_code == 403
    assert not ExecutionJob.objects.exists()


def test_another_managers_upload_and_job_are_404(executive, source, tmp_path):
    from tests.factories import Role, persona

    analyst = persona("analyst", Role.ANALYST)
    mapping = save(source, FIELDS, user=executive)
    job = ExecutionJob.objects.create(source=source, mapping=mapping)
    client = client_for(analyst)

    assert (
        client.post("/api/mapping/save", {"source_id": source.pk, "mappings": FIELDS}, format="json").status_code == 404
    )
    assert client.post("/api/mapping/execute", {"source_id": source.pk}, format="json").status_code == 404
    assert client.get(f"/api/jobs/{job.pk}").status_code == 404


def test_token_authentication_works_for_jobs(executive, source):
    mapping = save(source, FIELDS, user=executive)
    job = ExecutionJob.objects.create(source=source, mapping=mapping)
    token = Token.objects.create(user=executive)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(f"/api/jobs/{job.pk}").json()["status"] == "queued"
