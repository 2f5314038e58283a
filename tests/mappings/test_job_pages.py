from __future__ import annotations

import pytest

from mappings.models import ExecutionJob
from tests.factories import PASSWORD
from tests.mappings.helpers import field, run, upload_text

CSV = 'id,name,signup\nC1,Alfreds,2020-01-05\nC2,=HYPERLINK("x"),not a date\n'
FIELDS = [
    field("id", "canonical_customers", "external_id"),
    field("name", "canonical_customers", "name"),
    field("signup", "canonical_customers", "created_at", [{"op": "parse_date", "format": "%Y-%m-%d"}]),
]


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"


@pytest.fixture
def job(executive, tmp_path) -> ExecutionJob:
    return run(upload_text(tmp_path, CSV, user=executive), FIELDS, user=executive)


def test_executive_sees_the_job_report_and_the_rejected_rows_link(client, executive, job):
    client.login(username="fuller", password=PASSWORD)
    response = client.get(f"/uploads/jobs/{job.pk}/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "succeeded" in body
    assert "canonical_customers" in body
    assert f"/uploads/jobs/{job.pk}/rejected.csv" in body


def test_htmx_request_gets_only_the_progress_partial(client, executive, job):
    client.login(username="fuller", password=PASSWORD)
    response = client.get(f"/uploads/jobs/{job.pk}/", headers={"HX-Request": "true"})
    body = response.content.decode()
    assert 'id="job-progress"' in body
    assert "<html" not in body


def test_rejected_rows_csv_lists_row_column_value_reason_and_defuses_formulas(client, executive, job):
    client.login(username="fuller", password=PASSWORD)
    response = client.get(f"/uploads/jobs/{job.pk}/rejected.csv")

    assert response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0] == "table,row,column,value,reason"
    assert lines[1].startswith("canonical_customers,3,signup,not a date,cannot read the value as timestamp")
    assert job.report["tables"]["canonical_customers"]["rejected"] == 1


def test_anonymous_is_sent_to_login(client, job):
    for url in (f"/uploads/jobs/{job.pk}/", f"/uploads/jobs/{job.pk}/rejected.csv"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login/" in response["Location"]


def test_rep_gets_403_and_another_analyst_404(client, rep, job):
    from tests.factories import Role, persona

    client.login(username="davolio", password=PASSWORD)
    assert client.get(f"/uploads/jobs/{job.pk}/").status_code == 403
    assert client.get(f"/uploads/jobs/{job.pk}/rejected.csv").status_code == 403
    persona("analyst", Role.ANALYST)
    client.login(username="analyst", password=PASSWORD)
    assert client.get(f"/uploads/jobs/{job.pk}/").status_code == 404
    assert client.get(f"/uploads/jobs/{job.pk}/rejected.csv").status_code == 404
