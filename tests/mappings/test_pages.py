from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from mappings.models import DataSource
from tests.mappings.conftest import NORTHWIND

SALES = (
    "Date,Region,Amount,Customer Email\n"
    '2024-01-05,North,"1,200.50",ann@example.com\n'
    "2024-01-20,South,300.00,bob@example.com\n"
    "2024-02-02,North,80.25,cy@example.com\n"
)


def _csv(name="sales.csv", text=SALES):
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def test_upload_page_lists_only_my_uploads(client, executive, analyst, upload_of):
    mine = upload_of(NORTHWIND / "customers.csv", executive)
    upload_of(NORTHWIND / "products.csv", analyst)
    client.force_login(executive)

    page = client.get("/uploads/").content.decode()

    assert f"/uploads/{mine.pk}/" in page
    assert "products.csv" not in page
    assert 'type="file"' in page and 'id="dropzone"' in page


def test_uploading_a_file_profiles_it_and_opens_its_page(client, executive):
    client.force_login(executive)
    response = client.post("/uploads/", {"file": _csv()})

    source = DataSource.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/uploads/{source.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "Quick Viz" in page and "sampled preview" in page
    assert 'data-spec-id="qv-spec-0"' in page
    assert '<script id="qv-spec-0" type="application/json">' in page
    assert "Promote" in page and f"/uploads/{source.pk}/review/" in page
    assert ">email<" in page  # PII flag in the profile


def test_uploading_the_same_file_twice_offers_the_earlier_upload(client, executive):
    client.force_login(executive)
    client.post("/uploads/", {"file": _csv()})
    response = client.post("/uploads/", {"file": _csv("sales (1).csv")})

    assert response.status_code == 200
    page = response.content.decode()
    assert "already uploaded" in page
    assert DataSource.objects.count() == 1


def test_an_unreadable_upload_gets_a_specific_error(client, executive):
    client.force_login(executive)
    response = client.post("/uploads/", {"file": SimpleUploadedFile("x.pdf", b"%PDF-1.4")})
    assert response.status_code == 400
    assert "Unsupported file type" in response.content.decode()


def test_quickviz_partial_renders_alone_for_htmx(client, executive, upload_of):
    source = upload_of(NORTHWIND / "orders.csv", executive)
    client.force_login(executive)
    response = client.get(f"/uploads/{source.pk}/?partial=quickviz", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert "vega-chart" in body


def test_review_page_shows_each_column_with_target_confidence_and_reason(client, executive, upload_of):
    source = upload_of(NORTHWIND / "employees.csv", executive)
    client.force_login(executive)
    page = client.get(f"/uploads/{source.pk}/review/").content.decode()

    for column in source.dialect["columns"]:
        assert f'data-source-col="{column}"' in page
    assert re.search(r'<option value="canonical_employees.manager_id"\s+selected>', page)
    assert "reports to" in page  # the reason
    assert "concat" in page  # first + last name
    assert 'data-testid="pii-flag"' in page


def test_review_form_errors_are_specific(client, executive, upload_of):
    source = upload_of(NORTHWIND / "customers.csv", executive)
    client.force_login(executive)
    response = client.post(
        f"/uploads/{source.pk}/review/",
        {"rows": "1", "source_col-0": "customerID", "target-0": "canonical_customers.external_id",
         "transform-0": '[{"op": "eval"}]'},
    )  # fmt: skip
    assert response.status_code == 400
    assert "unknown transform op eval" in response.content.decode()


def test_mappings_page_lists_mappings_of_my_uploads(client, executive):
    client.force_login(executive)
    response = client.get("/uploads/mappings/")
    assert response.status_code == 200
    assert "Mappings" in response.content.decode()


@pytest.mark.parametrize("path", ["/uploads/", "/uploads/mappings/", "/uploads/{id}/", "/uploads/{id}/review/"])
def test_anonymous_users_are_sent_to_login(client, executive, upload_of, path):
    source = upload_of(NORTHWIND / "shippers.csv", executive)
    response = client.get(path.format(id=source.pk))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("path", ["/uploads/", "/uploads/mappings/", "/uploads/{id}/", "/uploads/{id}/review/"])
def test_users_who_may_not_manage_data_get_403(client, executive, rep, outsider, upload_of, path):
    source = upload_of(NORTHWIND / "shippers.csv", executive)
    for user in (rep, outsider):
        client.force_login(user)
        assert client.get(path.format(id=source.pk)).status_code == 403


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/uploads/{id}/"), ("get", "/uploads/{id}/review/"), ("post", "/uploads/{id}/review/preview/"),
     ("post", "/uploads/{id}/execute/"), ("post", "/uploads/{id}/review/dialect/"),
     ("get", "/uploads/{id}/jobs/00000000-0000-0000-0000-000000000000/")],
)  # fmt: skip
def test_another_analysts_upload_is_404(client, executive, analyst, upload_of, method, path):
    source = upload_of(NORTHWIND / "shippers.csv", executive)
    client.force_login(analyst)
    response = getattr(client, method)(path.format(id=source.pk))
    assert response.status_code == 404


def _review_post(client, source, rows, **extra):
    data = {"rows": str(len(rows)), "on_missing_reference": "placeholder", **extra}
    for i, (col, target, transform, pii) in enumerate(rows):
        data.update({f"source_col-{i}": col, f"target-{i}": target, f"transform-{i}": transform, f"pii-{i}": pii})
    return data


def test_preview_shows_the_first_rows_as_they_would_load_and_missing_targets(client, executive, upload_of):
    source = upload_of(NORTHWIND / "employees.csv", executive)
    client.force_login(executive)
    data = _review_post(
        client,
        source,
        [("employeeID", "canonical_employees.external_id", "", "keep"),
         ("firstName", "canonical_employees.title", "", "keep")],
    )  # fmt: skip
    response = client.post(f"/uploads/{source.pk}/review/preview/", data, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert 'data-testid="preview-table"' in body
    assert body.count("<tr>") >= 9
    assert "canonical_employees.name is required" not in body  # an id-only employee is named by its id

    data = _review_post(
        client,
        source,
        [("employeeID", "canonical_employees.manager_id", "", "keep"),
         ("firstName", "canonical_employees.title", "", "keep")],
    )  # fmt: skip
    body = client.post(f"/uploads/{source.pk}/review/preview/", data, HTTP_HX_REQUEST="true").content.decode()
    assert "canonical_employees.name" in body  # required and missing


def test_saving_the_review_makes_a_new_version_with_pii_choices(client, executive, upload_of):
    source = upload_of(NORTHWIND / "employees.csv", executive)
    client.force_login(executive)
    rows = [
        ("employeeID", "canonical_employees.external_id", "", "keep"),
        ("firstName", "canonical_employees.name", '[{"op": "concat", "columns": ["lastName"]}]', "keep"),
        ("homePhone", "", "", "drop"),
        ("title", "canonical_employees.title", "", "hash"),
    ]  # fmt: skip
    response = client.post(f"/uploads/{source.pk}/review/", _review_post(client, source, rows))
    assert response.status_code == 302, response.content.decode()[:2000]
    mapping = source.mappings.get()
    assert mapping.version == 1
    assert mapping.options["drop_columns"] == ["homePhone"]
    title = mapping.fields.get(canonical_col="title")
    assert title.transform == [{"op": "hash"}]
    again = client.post(f"/uploads/{source.pk}/review/", _review_post(client, source, rows))
    assert again.status_code == 302
    assert source.mappings.count() == 2


def test_saving_the_review_redirects_to_it_so_a_reload_saves_nothing_twice(client, executive, upload_of):
    source = upload_of(NORTHWIND / "employees.csv", executive)
    client.force_login(executive)
    rows = [
        ("employeeID", "canonical_employees.external_id", "", "keep"),
        ("lastName", "canonical_employees.name", "", "keep"),
    ]
    response = client.post(f"/uploads/{source.pk}/review/", _review_post(client, source, rows), follow=True)
    assert response.redirect_chain == [(f"/uploads/{source.pk}/review/", 302)]
    page = response.content.decode()
    assert "Saved as version v1." in page
    assert "Showing saved version v1." in page
    reloaded = client.get(f"/uploads/{source.pk}/review/").content.decode()  # what a reload after the redirect does
    assert "Saved as version v1." not in reloaded and "Showing saved version v1." in reloaded
    assert source.mappings.count() == 1


def _steps_post(source, steps: dict[str, dict], **extra) -> dict:
    """A review post as the page sends it: employeeID to the external id, lastName to the name with `steps`
    ({key: {box: value}}, in order)."""
    data = _review_post(
        None,
        source,
        [("employeeID", "canonical_employees.external_id", "", "keep"),
         ("lastName", "canonical_employees.name", "", "keep")],
        **extra,
    )  # fmt: skip
    data["step-1"] = list(steps)
    for key, boxes in steps.items():
        data.update({f"{box}-1-{key}": value for box, value in boxes.items()})
    return data


def test_a_failed_save_shows_every_step_as_entered_with_the_wrong_ones_problem(client, executive, upload_of):
    source = upload_of(NORTHWIND / "employees.csv", executive)
    client.force_login(executive)
    steps = {
        "a": {"op": "trim"},
        "b": {"op": "split_part", "separator": " - ", "index": "0"},  # parts are counted from 1
        "c": {"op": "map_values", "from": ["Davolio", "Fuller"], "to": ["D.", "F."],
              "use_default": "on", "default": "?"},
    }  # fmt: skip
    response = client.post(f"/uploads/{source.pk}/review/", _steps_post(source, steps))
    assert response.status_code == 400
    assert not source.mappings.exists()
    page = response.content.decode()
    assert "lastName: step 2: " in page  # the list of errors above the table names it too
    fieldsets = re.findall(r'<fieldset class="step" data-op="(\w+)"[^>]*>(.*?)</fieldset>', page, re.S)
    assert [op for op, _ in fieldsets] == ["trim", "split_part", "map_values"]
    (_, trim), (_, split), (_, mapped) = fieldsets
    assert 'data-testid="step-error"' not in trim and 'data-testid="step-error"' not in mapped
    assert re.search(r'data-testid="step-error">[^<]*greater than or equal to 1', split)
    assert 'value=" - "' in split and 'value="0"' in split  # what the user typed, not the defaults
    assert 'value="Fuller"' in mapped and 'value="F."' in mapped and 'value="?"' in mapped
    assert 'name="use_default-1-' in mapped and "checked" in mapped


def test_a_mapping_the_engine_refuses_is_shown_again_with_its_steps(client, executive, upload_of):
    source = upload_of(NORTHWIND / "employees.csv", executive)
    client.force_login(executive)
    data = _steps_post(source, {"a": {"op": "trim"}, "b": {"op": "upper"}})
    data["target-0"] = "canonical_employees.name"  # the name twice: the mapping cannot be saved
    response = client.post(f"/uploads/{source.pk}/review/", data)
    assert response.status_code == 400
    assert not source.mappings.exists()
    page = response.content.decode()
    assert "is already filled by" in page
    assert re.findall(r'<fieldset class="step" data-op="(\w+)"', page) == ["trim", "upper"]


def test_an_invalid_mapping_is_not_saved_and_says_why(client, executive, upload_of):
    source = upload_of(NORTHWIND / "employees.csv", executive)
    client.force_login(executive)
    rows = [("title", "canonical_employees.title", "", "keep")]
    response = client.post(f"/uploads/{source.pk}/review/", _review_post(client, source, rows))
    assert response.status_code == 400
    assert "required" in response.content.decode()
    assert not source.mappings.exists()


def test_execute_needs_a_saved_mapping(client, executive, upload_of):
    source = upload_of(NORTHWIND / "shippers.csv", executive)
    client.force_login(executive)
    response = client.post(f"/uploads/{source.pk}/execute/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200  # htmx swaps only successful responses: the error is the content
    assert "Save the mapping first" in response.content.decode()
    assert not source.jobs.exists()


def test_execute_queues_the_latest_version_and_shows_its_progress(client, executive, upload_of):
    from mappings.models import ExecutionJob
    from mappings.services.mapping import mapping_save

    source = upload_of(NORTHWIND / "shippers.csv", executive)
    mapping_save(
        source=source,
        fields=[{"source_col": "shipperID", "canonical_table": "canonical_suppliers", "canonical_col": "external_id"},
                {"source_col": "companyName", "canonical_table": "canonical_suppliers", "canonical_col": "name"}],
        user=executive,
    )  # fmt: skip
    client.force_login(executive)
    response = client.post(f"/uploads/{source.pk}/execute/", HTTP_HX_REQUEST="true")
    job = ExecutionJob.objects.get(source=source)
    body = response.content.decode()
    assert response.status_code == 200
    assert str(job.pk) in body
    progress = client.get(f"/uploads/{source.pk}/jobs/{job.pk}/")
    assert progress.status_code == 200
    assert job.status in progress.content.decode()


def test_the_user_can_override_how_the_file_is_read(client, executive, upload_of, tmp_path):
    path = tmp_path / "semi.csv"
    path.write_bytes("Kunde;Stadt\nMüller;Köln\nZoë;Genève\n".encode("cp1252"))
    source = upload_of(path, executive)
    client.force_login(executive)
    response = client.post(
        f"/uploads/{source.pk}/review/dialect/",
        {"delimiter": ",", "quote": '"', "encoding": "latin-1", "header": "on"},
    )
    assert response.status_code == 302 and response["Location"].endswith("/review/?fresh=1")
    source.refresh_from_db()
    assert source.dialect["delimiter"] == ","
    assert source.dialect["columns"] == ["Kunde;Stadt"]  # read with commas, as asked
    assert [c["name"] for c in source.profile["columns"]] == ["Kunde;Stadt"]

    client.post(
        f"/uploads/{source.pk}/review/dialect/",
        {"delimiter": ";", "quote": '"', "encoding": "cp1252", "header": "on"},
    )
    source.refresh_from_db()
    assert source.dialect["columns"] == ["Kunde", "Stadt"]
    assert source.profile["columns"][1]["top"][0]["value"] in ("Köln", "Genève")


def test_a_dialect_outside_the_offered_values_is_refused_with_a_message(client, executive, upload_of):
    source = upload_of(NORTHWIND / "shippers.csv", executive)
    client.force_login(executive)
    response = client.post(
        f"/uploads/{source.pk}/review/dialect/",
        {"delimiter": "x", "quote": '"', "encoding": "utf-8", "header": "on"},
        follow=True,
    )
    assert "Choose a delimiter" in response.content.decode()


def test_the_upload_and_review_pages_say_which_rows_have_more_fields_than_the_header(client, executive, upload_of):
    source = upload_of(NORTHWIND / "customers.csv", executive)
    client.force_login(executive)

    for url in (f"/uploads/{source.pk}/", f"/uploads/{source.pk}/review/"):
        page = client.get(url).content.decode()
        assert "24 rows have more fields than the header" in page
        assert "rows 8, 9, 10, 16, 19, 22, 23, 24, 27, 30 and 14 more." in page
        assert "24 of these rows" in page
    review = client.get(f"/uploads/{source.pk}/review/").content.decode()
    assert 'data-testid="ragged-rows"' in review and "(24 of 24 rows)" in review


def test_choosing_best_effort_on_the_review_page_saves_it_with_the_mapping(client, executive, upload_of):
    source = upload_of(NORTHWIND / "customers.csv", executive)
    client.force_login(executive)
    rows = [("customerID", "canonical_customers.external_id", "", "keep"),
            ("companyName", "canonical_customers.name", "", "keep")]  # fmt: skip

    data = _review_post(client, source, rows, ragged_rows="repair")
    response = client.post(f"/uploads/{source.pk}/review/", data, follow=True)

    assert response.redirect_chain == [(f"/uploads/{source.pk}/review/", 302)]
    assert source.mappings.get().options["ragged_rows"] == "repair"
    assert '<option value="repair" selected>' in response.content.decode()


def test_a_big_upload_shows_its_estimated_row_count_until_it_is_counted(client, executive, settings, monkeypatch):
    import mappings.profiling.sample as sample

    settings.UPLOAD_SCAN_SYNC_BYTES = 1024
    monkeypatch.setattr(sample, "SAMPLE_BYTES", 16 * 1024)
    text = "id,amount\n" + "".join(f"R{i:06d},{i % 97}.50\n" for i in range(20_000))
    client.force_login(executive)

    client.post("/uploads/", {"file": _csv("big.csv", text)})

    source = DataSource.objects.get()
    assert source.rows is None
    estimate = source.profile["rows_estimated"]
    assert abs(estimate - 20_000) < 400
    assert f"≈ {estimate}" in client.get("/uploads/").content.decode()
    assert f"≈ {estimate} rows" in client.get(f"/uploads/{source.pk}/").content.decode()
