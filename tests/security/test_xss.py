"""Markup in column names and values is data: every page that shows an upload renders it inert."""

from __future__ import annotations

from pathlib import Path

from mappings.models import DataSource
from tests.data.bad import make_corpus

BAD = Path(make_corpus.__file__).resolve().parent
RAW_MARKUP = ("<script>alert(", "<img src=x onerror", "<b>bold</b>")


def test_markup_in_headers_and_values_is_escaped_on_every_upload_page(client, executive, settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    client.force_login(executive)
    with (BAD / "xss_values.csv").open("rb") as fh:
        response = client.post("/uploads/", {"file": fh})
    assert response.status_code == 302
    source = DataSource.objects.get()
    pages = ["/uploads/", "/uploads/mappings/", f"/uploads/{source.pk}/", f"/uploads/{source.pk}/review/"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        for raw in RAW_MARKUP:
            assert raw not in body, (url, raw)
    detail = client.get(f"/uploads/{source.pk}/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in detail or "\\u003Cscript\\u003E" in detail


def test_a_hostile_file_name_is_escaped_in_the_upload_list(client, executive, settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    client.force_login(executive)
    path = tmp_path / "x.csv"
    path.write_text("id,name\n1,Ann\n")
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile('"><img src=x onerror=alert(9)>.csv', path.read_bytes())
    assert client.post("/uploads/", {"file": upload}).status_code == 302
    body = client.get("/uploads/").content.decode()
    assert "<img src=x onerror" not in body
