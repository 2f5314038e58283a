"""The import flow's pages without a browser (issue 23 item 4, issue 19 item 6): the rejected rows page,
the uploads list's status, POST/redirect/GET after Execute, saved versions listing every column, restoring a
version, and the transform editor's fragments, each with its outsiders."""

from __future__ import annotations

import re

import pytest

from mappings.models import ExecutionJob
from mappings.services.mapping import mapping_fields
from mappings.services.sources import data_source_upload
from tests.factories import Role, persona
from tests.mappings.helpers import field, run, save, upload_text

BAD_DATES = 60  # more than one page of rejected rows
CSV = "id,name,signup\n" + "".join(
    f"C{i},Name {i},{'2020-01-05' if i % 2 else 'not a date'}\n" for i in range(1, 2 * BAD_DATES + 1)
)
FIELDS = [
    field("id", "canonical_customers", "external_id"),
    field("name", "canonical_customers", "name"),
    field("signup", "canonical_customers", "created_at", [{"op": "parse_date", "format": "%Y-%m-%d"}]),
]


@pytest.fixture
def upload(executive, tmp_path):
    return upload_text(tmp_path, CSV, user=executive)


@pytest.fixture
def job(executive, upload) -> ExecutionJob:
    return run(upload, FIELDS, user=executive)


@pytest.fixture
def other_analyst(db):
    return persona("analyst", Role.ANALYST)


def test_the_rejected_rows_page_lists_row_column_value_and_reason_a_page_at_a_time(client, executive, job):
    client.force_login(executive)
    first = client.get(f"/uploads/jobs/{job.pk}/rejected/").content.decode()
    assert f"{BAD_DATES} row problems" in first
    assert first.count('<tr><th scope="row">') == 50
    assert re.search(
        r'<th scope="row">3</th><td>canonical_customers</td><td>signup</td><td><code>not a date</code>', first
    )
    assert "cannot read the value as timestamp" in first
    assert f"/uploads/jobs/{job.pk}/rejected.csv" in first and "Page 1 of 2" in first
    second = client.get(f"/uploads/jobs/{job.pk}/rejected/?page=2").content.decode()
    assert second.count('<tr><th scope="row">') == BAD_DATES - 50
    assert f'<th scope="row">{2 * BAD_DATES + 1}</th>' in second  # the last line of the file


def test_the_rejected_rows_page_filters_by_table_and_ignores_an_unknown_one(client, executive, job):
    client.force_login(executive)
    assert client.get(f"/uploads/jobs/{job.pk}/rejected/?table=canonical_customers").status_code == 200
    page = client.get(f"/uploads/jobs/{job.pk}/rejected/?table=nope&page=99").content.decode()
    assert "Page 2 of 2" in page  # an unknown table shows every table; a page past the end, the last page


def test_the_job_page_links_each_tables_rejected_count_to_its_rows(client, executive, job):
    client.force_login(executive)
    page = client.get(f"/uploads/jobs/{job.pk}/").content.decode()
    assert f'href="/uploads/jobs/{job.pk}/rejected/?table=canonical_customers"' in page
    assert f">Rejected {BAD_DATES}</a>" in page


def test_the_uploads_list_says_how_many_rows_were_rejected_and_the_upload_page_lists_every_run(
    client, executive, upload, job
):
    client.force_login(executive)
    page = client.get("/uploads/").content.decode()
    assert f"loaded with {BAD_DATES} rejected" in page
    assert f'href="/uploads/jobs/{job.pk}/rejected/"' in page
    detail = client.get(f"/uploads/{upload.pk}/").content.decode()
    assert f'href="/uploads/jobs/{job.pk}/"' in detail and 'data-testid="history"' in detail


def test_an_upload_loaded_without_rejects_is_just_loaded(client, executive, tmp_path):
    run(upload_text(tmp_path, "id,name\nC1,Ann\n", name="clean.csv", user=executive), FIELDS[:2], user=executive)
    client.force_login(executive)
    page = client.get("/uploads/").content.decode()
    assert "rejected" not in page and ">loaded</a>" in page


def test_execute_redirects_to_the_job_page_so_a_reload_queues_nothing(client, executive, upload):
    save(upload, FIELDS, user=executive)
    client.force_login(executive)
    response = client.post(f"/uploads/{upload.pk}/execute/")
    job = ExecutionJob.objects.get(source=upload)
    assert response.status_code == 302 and response["Location"] == f"/uploads/jobs/{job.pk}/"
    assert client.get(response["Location"]).status_code == 200  # what a reload asks for: a GET
    assert ExecutionJob.objects.count() == 1


def _post(fields: list[dict], action: str) -> dict:
    data = {"rows": str(len(fields)), "on_missing_reference": "placeholder", "action": action}
    for i, f in enumerate(fields):
        target = f"{f['canonical_table']}.{f['canonical_col']}" if f["canonical_table"] else ""
        data.update({f"source_col-{i}": f["source_col"] or "", f"target-{i}": target, f"pii-{i}": "keep"})
        for n, step in enumerate(f.get("transform") or []):
            data.setdefault(f"step-{i}", []).append(str(n))
            data.update({f"{k if k != 'op' else 'op'}-{i}-{n}": v for k, v in step.items()})
    return data


def test_executing_the_screen_runs_the_latest_version_when_it_is_the_same_and_saves_first_when_not(
    client, executive, upload
):
    save(upload, FIELDS, user=executive)
    client.force_login(executive)
    same = client.post(f"/uploads/{upload.pk}/review/", _post(FIELDS, "execute"))
    assert same.status_code == 302 and upload.mappings.count() == 1
    assert ExecutionJob.objects.get().mapping.version == 1
    changed = client.post(f"/uploads/{upload.pk}/review/", _post(FIELDS[:2], "execute"))
    assert changed.status_code == 302 and upload.mappings.count() == 2
    newest = ExecutionJob.objects.order_by("-created_at").first()
    assert changed["Location"] == f"/uploads/jobs/{newest.pk}/" and newest.mapping.version == 2


def test_a_saved_version_lists_every_column_of_the_file(client, executive, upload):
    client.force_login(executive)
    response = client.post(f"/uploads/{upload.pk}/review/", _post(FIELDS[:2], "save"))
    assert response.status_code == 302, response.content.decode()[-1500:]  # saved: back to the review page
    fields = mapping_fields(upload.mappings.get())
    assert [(f["source_col"], f["canonical_col"]) for f in fields] == [
        ("id", "external_id"),
        ("name", "name"),
        ("signup", None),
    ]


def test_the_review_page_of_an_older_version_offers_the_columns_it_did_not_name(client, executive, upload):
    save(upload, FIELDS[:2], user=executive)  # saved by the API: only the mapped columns
    client.force_login(executive)
    page = client.get(f"/uploads/{upload.pk}/review/").content.decode()
    assert [m for m in re.findall(r'<tr data-source-col="([^"]*)"', page)] == ["id", "name", "signup"]


def test_the_preview_shows_the_difference_from_the_last_executed_version(client, executive, upload, job):
    client.force_login(executive)
    body = client.post(
        f"/uploads/{upload.pk}/review/preview/", _post(FIELDS[:2], "save"), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Compared with <strong>v1</strong>, the last executed version" in body
    assert re.search(r"no longer fills <code>canonical_customers.created_at</code> \(was ← signup\)", body)


def test_restoring_a_version_saves_it_again_as_the_newest(client, executive, upload):
    save(upload, FIELDS, user=executive)
    save(upload, FIELDS[:2], user=executive)
    client.force_login(executive)
    response = client.post(f"/uploads/{upload.pk}/versions/1/restore/", follow=True)
    assert response.redirect_chain[-1][0] == f"/uploads/{upload.pk}/review/"
    assert "v1 restored as v3." in response.content.decode()
    assert mapping_fields(upload.mappings.get(version=3)) == mapping_fields(upload.mappings.get(version=1))
    assert client.post(f"/uploads/{upload.pk}/versions/9/restore/").status_code == 404


def test_the_step_fragment_is_a_small_form_for_the_chosen_op(client, executive, upload):
    client.force_login(executive)
    url = f"/uploads/{upload.pk}/review/step/"
    body = client.get(url, {"row": "2", "add-op-2": "divide"}, HTTP_HX_REQUEST="true").content.decode()
    key = re.search(r'name="step-2" value="([0-9a-f]+)"', body).group(1)
    assert f'name="op-2-{key}" value="divide"' in body
    assert f'name="columns-2-{key}"' in body and f'name="value-2-{key}"' in body
    assert re.search(r'<option value="signup"\s*>', body)  # any column of the file may be the divisor
    assert client.get(url, {"row": "2"}).status_code == 204  # nothing chosen yet
    assert client.get(url, {"row": "2", "op": "eval"}).status_code == 404
    assert client.get(url, {"row": "-1", "op": "trim"}).status_code == 404


def test_the_row_fragment_adds_another_target_or_a_computed_column(client, executive, upload):
    client.force_login(executive)
    url = f"/uploads/{upload.pk}/review/row/"
    another = client.get(url, {"row": "3", "source_col": "id"}).content.decode()
    assert 'data-source-col="id"' in another and 'name="source_col-3" value="id"' in another
    computed = client.get(url, {"row": "4"}).content.decode()
    assert 'name="source_col-4" value=""' in computed and 'data-op="coalesce"' in computed
    assert client.get(url, {"row": "3", "source_col": "nope"}).status_code == 404


ROUTES = [
    ("get", "/uploads/jobs/{job}/rejected/"),
    ("post", "/uploads/{src}/versions/1/restore/"),
    ("get", "/uploads/{src}/review/step/?row=0&op=trim"),
    ("get", "/uploads/{src}/review/row/?row=0&source_col=id"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_outsiders_get_nothing_from_the_new_pages(client, rep, other_analyst, job, method, path):
    url = path.format(job=job.pk, src=job.source_id)
    assert getattr(client, method)(url).status_code == 302  # anonymous: to the login page
    client.force_login(rep)
    assert getattr(client, method)(url).status_code == 403
    client.force_login(other_analyst)
    assert getattr(client, method)(url).status_code == 404
    assert job.source.mappings.count() == 1  # nothing was restored


def test_the_date_picker_shows_each_candidate_format_with_the_share_of_values_it_reads(client, executive, tmp_path):
    dates = [f"{d:02d}.{m:02d}.2024" for d in range(13, 28) for m in (1, 2, 3, 11)][:59] + ["2024-06-30"]
    path = tmp_path / "days.csv"
    path.write_text("id,day\n" + "".join(f"O{i},{v}\n" for i, v in enumerate(dates)))
    with path.open("rb") as fh:
        upload = data_source_upload(file=fh, name="days.csv", user=executive).source
    evidence = next(c for c in upload.profile["columns"] if c["name"] == "day")["date_evidence"]
    assert evidence["candidates"][0] == {"format": "%d.%m.%Y", "parse_rate": 0.9833}
    assert {"format": "%Y-%m-%d", "parse_rate": 0.0167} in evidence["candidates"]
    save(upload, [field("id", "canonical_orders", "external_id"),
                  field("day", "canonical_orders", "order_date", [{"op": "parse_date", "format": "%d.%m.%Y"}]),
                  field("id", "canonical_orders", "amount", [{"op": "constant", "value": "1"}])])  # fmt: skip
    client.force_login(executive)
    page = client.get(f"/uploads/{upload.pk}/review/").content.decode()
    assert re.search(r'<option value="%d.%m.%Y"\s+selected>%d.%m.%Y — reads 98% of the values \(the profile', page)
    assert "%Y-%m-%d — reads 2% of the values" in page
