"""The review page under a user who changes things behind a saved mapping's back, or uploads a monster.

Each step goes through the pages as a browser would post them; no answer is a 500.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from mappings.models import DataSource, ExecutionJob
from tests.mappings.helpers import field, save

CUSTOMERS = b"id,name,city\nC1,Ann,Lisboa\nC2,Bob,Porto\nC3,Cid,Braga\n"


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    return settings.UPLOAD_DIR


@pytest.fixture
def mapped_upload(client, executive):
    client.force_login(executive)
    client.post("/uploads/", {"file": SimpleUploadedFile("customers.csv", CUSTOMERS, "text/csv")})
    source = DataSource.objects.get(uploaded_by=executive)
    save(
        source,
        [field("id", "canonical_customers", "external_id"), field("name", "canonical_customers", "name")],
        user=executive,
    )
    return source


def _read_without_a_header(client, source):
    response = client.post(
        f"/uploads/{source.pk}/review/dialect/", {"delimiter": ",", "quote": '"', "encoding": "utf-8"}
    )
    assert response.status_code == 302
    source.refresh_from_db()
    assert "id" not in source.dialect["columns"]  # the saved mapping's columns are gone


def test_executing_a_mapping_broken_by_a_dialect_change_shows_why_in_the_job_panel(client, mapped_upload):
    _read_without_a_header(client, mapped_upload)
    response = client.post(f"/uploads/{mapped_upload.pk}/execute/", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200  # htmx swaps only successful responses
    assert "This mapping cannot run" in body and "is not a header of the file" in body
    assert 'role="alert"' in body
    assert not ExecutionJob.objects.exists()


def test_executing_a_mapping_broken_by_a_dialect_change_without_javascript_shows_the_review_page(client, mapped_upload):
    _read_without_a_header(client, mapped_upload)
    response = client.post(f"/uploads/{mapped_upload.pk}/execute/", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == f"/uploads/{mapped_upload.pk}/review/"
    assert "This mapping cannot run" in response.content.decode()
    assert not ExecutionJob.objects.exists()


def test_the_review_page_offers_every_encoding_and_delimiter_to_read_the_file_again(client, mapped_upload):
    page = client.get(f"/uploads/{mapped_upload.pk}/review/").content.decode()
    for encoding in ("utf-8", "utf-16", "utf-32", "cp1252", "latin-1"):
        assert f'<option value="{encoding}"' in page
    assert '<option value="utf-8" selected>' in page
    assert '<option value="," selected>' in page and '<option value="tab"' in page
