"""The upload page with workbooks: the sheet picker, the header row, a big file converted after the request."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from mappings.models import DataSource
from mappings.services.convert import data_source_convert
from tests.mappings.workbooks import xlsx_write

REAL = Path(__file__).resolve().parents[1] / "data" / "real"


def _upload(client, path: Path):
    return client.post("/uploads/", {"file": SimpleUploadedFile(path.name, path.read_bytes())})


def test_a_workbook_with_several_sheets_offers_them_and_reads_the_one_picked(client, executive):
    client.force_login(executive)
    response = _upload(client, REAL / "superstore_orders.xls")
    source = DataSource.objects.get()
    assert response.status_code == 302
    page = client.get(f"/uploads/{source.pk}/").content.decode()
    assert 'data-testid="sheet-picker"' in page
    assert '<option value="Returns" >Returns (801 rows)</option>' in page

    response = client.post(f"/uploads/{source.pk}/read/", {"sheet": "People", "header_row": "1"})

    assert response.status_code == 302
    source.refresh_from_db()
    assert (source.dialect["sheet"], source.rows, source.dialect["columns"]) == (
        "People",
        4,
        ["Regional Manager", "Region"],
    )
    assert [c["name"] for c in source.profile["columns"]] == ["Regional Manager", "Region"]
    assert "Read again from sheet &#x27;People&#x27;" in client.get(f"/uploads/{source.pk}/").content.decode()


def test_the_review_page_reads_another_header_row_and_proposes_afresh(client, executive):
    client.force_login(executive)
    _upload(client, REAL / "invoiceninja_payments.csv")
    source = DataSource.objects.get()
    review = client.get(f"/uploads/{source.pk}/review/").content.decode()
    assert 'data-testid="current-header-row">4<' in review

    response = client.post(f"/uploads/{source.pk}/read/", {"header_row": "1", "next": "review"})

    assert response["Location"] == f"/uploads/{source.pk}/review/?fresh=1"
    source.refresh_from_db()
    assert source.dialect["header_row"] == 0
    assert source.dialect["columns"][0].startswith("Invoice Ninja")


def test_a_header_row_past_the_sheet_is_refused_with_a_message(client, executive, tmp_path):
    client.force_login(executive)
    _upload(client, xlsx_write(tmp_path / "small.xlsx", {"S": [["a", "b"], [1, 2]]}))
    source = DataSource.objects.get()

    response = client.post(f"/uploads/{source.pk}/read/", {"header_row": "9"}, follow=True)

    assert "has no data at that row" in response.content.decode()
    source.refresh_from_db()
    assert source.dialect["header_row"] == 0 and source.rows == 1


@pytest.mark.parametrize("persona", ["outsider", "rep", "manager"])
def test_only_a_data_manager_can_read_an_upload_again(client, executive, request, persona):
    client.force_login(executive)
    _upload(client, REAL / "superstore_orders.xls")
    source = DataSource.objects.get()
    client.force_login(request.getfixturevalue(persona))
    assert client.post(f"/uploads/{source.pk}/read/", {"sheet": "People"}).status_code == 403
    source.refresh_from_db()
    assert source.dialect["sheet"] == "Orders"


def test_a_big_workbook_is_converted_after_the_request_and_the_page_follows_it(client, executive, settings):
    settings.UPLOAD_CONVERT_SYNC_BYTES = 1024  # every workbook of this test is "big"
    client.force_login(executive)

    response = _upload(client, REAL / "billing_tracker.xlsx")

    source = DataSource.objects.get()
    assert response.status_code == 302
    assert source.status == DataSource.Status.CONVERTING
    assert source.profile == {} and not Path(source.file_path).exists()
    page = client.get(f"/uploads/{source.pk}/").content.decode()
    assert 'data-testid="converting"' in page and "every 1s" in page
    poll = client.get(f"/uploads/{source.pk}/?partial=conversion", HTTP_HX_REQUEST="true")
    assert poll.status_code == 200 and "conversion progress" in poll.content.decode()
    assert "HX-Refresh" not in poll
    # The review page waits for it rather than failing on a file not yet there.
    assert "still being converted" in client.get(f"/uploads/{source.pk}/review/").content.decode()

    data_source_convert(source=source)  # what the worker's task does

    source.refresh_from_db()
    assert (source.status, source.rows, source.progress) == (DataSource.Status.PROFILED, 473, 1.0)
    assert len(source.profile["columns"]) == 24
    poll = client.get(f"/uploads/{source.pk}/?partial=conversion", HTTP_HX_REQUEST="true")
    assert poll["HX-Refresh"] == "true"
    assert 'data-testid="profile"' in client.get(f"/uploads/{source.pk}/").content.decode()


def test_a_big_upload_that_cannot_be_read_ends_failed_with_the_reason(client, executive, settings, tmp_path):
    settings.UPLOAD_CONVERT_SYNC_BYTES = 1
    client.force_login(executive)
    _upload(client, xlsx_write(tmp_path / "empty.xlsx", {"S": []}))
    source = DataSource.objects.get()
    assert source.status == DataSource.Status.CONVERTING

    data_source_convert(source=source)

    source.refresh_from_db()
    assert source.status == DataSource.Status.FAILED
    assert "has no data" in source.error
    assert "has no data" in client.get(f"/uploads/{source.pk}/").content.decode()


def test_the_api_answers_a_big_workbook_upload_with_its_converting_state(client, executive, settings):
    settings.UPLOAD_CONVERT_SYNC_BYTES = 1024
    client.force_login(executive)
    path = REAL / "financial_sample.xlsx"

    response = client.post("/api/sources/", {"file": SimpleUploadedFile(path.name, path.read_bytes())})

    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["profile"], body["rows"]) == ("converting", {}, None)
    assert body["detail"] == "Uploaded; converting it now."


def test_a_workbook_has_no_delimiter_to_override(client, executive):
    client.force_login(executive)
    _upload(client, REAL / "financial_sample.xlsx")
    source = DataSource.objects.get()
    assert 'data-testid="dialect"' not in client.get(f"/uploads/{source.pk}/review/").content.decode()

    post = {"delimiter": ";", "quote": '"', "encoding": "utf-8", "header": "on"}
    response = client.post(f"/uploads/{source.pk}/review/dialect/", post, follow=True)

    assert "read by sheet and header row" in response.content.decode()
    source.refresh_from_db()
    assert source.dialect["delimiter"] == "," and len(source.dialect["columns"]) == 16
