"""The review page under a user who changes things behind a saved mapping's back, or uploads a monster.

Each step goes through the pages as a browser would post them; no answer is a 500.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from mappings.models import DataSource, ExecutionJob
from mappings.views.review import COLUMNS_SHOWN
from tests.data.bad import make_corpus
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


class _FormFields(HTMLParser):
    """The fields a browser would post from the form with id `form_id`: inputs, selected options, textareas."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside, self.fields = form_id, False, {}
        self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        elif not self.inside:
            return
        elif tag == "input" and a.get("name") and (a.get("type") != "checkbox" or "checked" in a):
            self.fields[a["name"]] = a.get("value", "on" if a.get("type") == "checkbox" else "")
        elif tag == "select":
            self._select = a.get("name")
            self.fields.setdefault(self._select, "")
        elif tag == "option" and self._select and "selected" in a:
            self.fields[self._select] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a.get("name")
            self.fields[self._textarea] = ""

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _form_fields(page: str, form_id: str = "review-form") -> dict:
    parser = _FormFields(form_id)
    parser.feed(page)
    return parser.fields


@pytest.fixture
def wide_upload(client, executive, tmp_path):
    path = make_corpus.wide_csv(tmp_path / "wide.csv", columns=COLUMNS_SHOWN + 100, rows=2)
    client.force_login(executive)
    with path.open("rb") as fh:
        client.post("/uploads/", {"file": SimpleUploadedFile("wide.csv", fh.read(), "text/csv")})
    return DataSource.objects.get(uploaded_by=executive)


def _shown(page: str) -> dict[str, str]:
    """{source column: its posted target} of the review rows a page renders."""
    fields = _form_fields(page)
    assert fields["rows"] == str(page.count('<select name="target-'))  # the form posts what it shows
    return {fields[f"source_col-{i}"]: fields[f"target-{i}"] for i in range(int(fields["rows"]))}


def test_a_review_page_of_a_very_wide_file_shows_a_bounded_number_of_columns(client, wide_upload):
    total = COLUMNS_SHOWN + 100
    page = client.get(f"/uploads/{wide_upload.pk}/review/").content.decode()
    shown = _shown(page)
    first = {f"col_{i}" for i in range(COLUMNS_SHOWN)}
    assert first <= set(shown)
    # Past them: mapped to a canonical column only (kept attributes past them are not shown).
    assert all(target and ".attributes." not in target for column, target in shown.items() if column not in first)
    hidden = total - len(shown)
    assert hidden >= 90
    assert f"Showing {len(shown)} of {total} columns: {hidden} unmapped columns are not shown" in page
    assert "kept as an attribute and not shown is left unmapped when you save" in page
    assert 'name="columns"' in page  # the filter

    query = f"col_{(total - 1) // 10}"  # col_24: col_24 and col_240 … col_249
    found = _shown(client.get(f"/uploads/{wide_upload.pk}/review/?columns={query}").content.decode())
    assert {query, *(f"{query}{i}" for i in range(10))} <= set(found)
    # Past the filter: canonical proposals only, never a kept attribute (a proposal below the auto-accept
    # threshold, such as a unique first column guessed as the rows' key, is shown unselected for a person).
    others = {column: target for column, target in found.items() if not column.startswith(query)}
    assert all(".attributes." not in target for target in others.values()), others
    assert len(others) <= 3, others


def test_a_file_too_wide_to_post_whole_does_not_offer_to_show_every_column(client, wide_upload, settings):
    total = COLUMNS_SHOWN + 100
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 6 * total + 100
    everything = client.get(f"/uploads/{wide_upload.pk}/review/?columns=*").content.decode()
    assert len(_shown(everything)) == total and "columns=*" not in everything
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000  # Django's default: 250 rows cannot be posted at once
    page = client.get(f"/uploads/{wide_upload.pk}/review/?columns=*").content.decode()
    assert len(_shown(page)) < total and "Show all" not in page


def test_the_shown_part_of_a_very_wide_file_saves_as_a_valid_mapping(client, wide_upload):
    total = COLUMNS_SHOWN + 100
    as_shown = client.post(
        f"/uploads/{wide_upload.pk}/review/",
        _form_fields(client.get(f"/uploads/{wide_upload.pk}/review/").content.decode()),
    )
    assert (
        as_shown.status_code in (302, 400) and "Bad Request" not in as_shown.content.decode()
    )  # the form's own answer
    wide_upload.mappings.all().delete()
    page = client.get(f"/uploads/{wide_upload.pk}/review/?columns=col_{total - 1}").content.decode()
    posted = _form_fields(page)
    index = next(k.split("-")[1] for k, v in posted.items() if k.startswith("source_col-") and v == f"col_{total - 1}")
    posted[f"target-{index}"] = "canonical_customers.external_id"
    saved = client.post(f"/uploads/{wide_upload.pk}/review/", posted)
    assert saved.status_code == 302, saved.content.decode()[-2000:]  # saved: back to the review page
    mapping = wide_upload.mappings.get()
    saved_fields = {
        (f.source_col, f"{f.canonical_table}.{f.canonical_col}") for f in mapping.fields.exclude(canonical_table=None)
    }
    # Mapped rows are always on the page; the one edited row takes its new target.
    proposed = {(c, t) for c, t in _shown(page).items() if t and c != f"col_{total - 1}"}
    assert saved_fields == proposed | {(f"col_{total - 1}", "canonical_customers.external_id")}
    # The columns the page did not show are saved too, unmapped: the version lists the whole file.
    assert mapping.fields.filter(canonical_table=None).count() == total - len(saved_fields)
