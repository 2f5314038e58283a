"""The review page's grain control (mapping option `grain`, docs/SCHEMA.md "Who owns a column"): a select under
Options, Automatic by default with the proposer's reading of the file and its reason, saved in the version,
validated by the form (a bad value is a field error, never a 500)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from canonical.models import Invoice, Order
from mappings.models import DataSource
from mappings.services.execute import execution_run_now
from mappings.services.ingest import ingest_file
from mappings.services.mapping import mapping_fields, mapping_grain, mapping_grain_option
from mappings.services.profile import data_source_profile
from mappings.views.review import _grain_context
from tests.mappings.helpers import field, save, upload_text

pytestmark = pytest.mark.django_db

OLIST6 = Path(__file__).resolve().parents[1] / "data" / "olist6"
ORDERS_INVOICED = "order,date,invoice\nA,2024-01-05,I-1\nB,2024-01-06,I-2\n"
# An orders file that also names one invoice per order: its rows are orders, though invoices come after orders.
ROWS = [
    ("order", "canonical_orders.external_id"),
    ("date", "canonical_orders.order_date"),
    ("invoice", "canonical_invoices.external_id"),
]


def _post(rows, **extra) -> dict:
    data = {"rows": str(len(rows)), "on_missing_reference": "placeholder", **extra}
    for i, (col, target, *transform) in enumerate(rows):
        data.update(
            {f"source_col-{i}": col, f"target-{i}": target, f"transform-{i}": "".join(transform), f"pii-{i}": "keep"}
        )
    return data


def _invoice_rows() -> list[tuple[str, ...]]:
    return [
        *ROWS,
        ("order", "canonical_invoices.order_id"),
        ("date", "canonical_invoices.invoice_date"),
        ("", "canonical_invoices.amount", '[{"op": "constant", "value": "10.00"}]'),
    ]


def _selected(body: str) -> str:
    select = re.search(r'<select name="grain".*?</select>', body, re.S).group(0)
    return re.search(r'<option value="([^"]*)" selected', select).group(1)


def test_a_fresh_proposal_shows_the_files_grain_with_its_reason_and_automatic_selected(client, executive, tmp_path):
    path = tmp_path / "olist_order_payments_dataset.csv"
    shutil.copy(OLIST6 / path.name, path)
    client.force_login(executive)
    client.post("/uploads/", {"file": path.open("rb")})
    source = DataSource.objects.get(name=path.name)

    body = client.get(f"/uploads/{source.pk}/review/").content.decode()

    assert _selected(body) == ""  # the proposer's table is the automatic one: nothing to save
    assert "Automatic: the last table the mapping fills (now canonical_payments)" in body
    help_text = re.search(r'data-testid="grain-help">(.*?)</small>', body, re.S).group(1)
    assert "The file says one row per payment (<code>canonical_payments</code>)" in help_text
    assert "&#x27;order_id&#x27; repeats" in help_text
    assert '<label for="id_grain">Each row of the file is one row of</label>' in body


def test_a_chosen_grain_is_saved_shown_again_and_owns_the_rows(client, executive, tmp_path):
    source = upload_text(tmp_path, ORDERS_INVOICED, name="orders-invoiced.csv", user=executive)
    client.force_login(executive)

    response = client.post(
        f"/uploads/{source.pk}/review/", _post(_invoice_rows(), grain="canonical_orders", action="save")
    )

    assert response.status_code == 302, response.content.decode()[:3000]  # POST/redirect/GET
    mapping = source.mappings.get()
    assert mapping.options["grain"] == "canonical_orders"
    page = client.get(f"/uploads/{source.pk}/review/").content.decode()
    assert _selected(page) == "canonical_orders"
    # Saving the shown version again keeps the choice (it used to be dropped by the form).
    client.post(f"/uploads/{source.pk}/review/", _post(_invoice_rows(), grain="canonical_orders", action="save"))
    assert source.mappings.order_by("-version").first().options["grain"] == "canonical_orders"
    # Executed (as the worker would), the orders are the file's own rows, the invoices not.
    job = execution_run_now(source=source, user=executive)
    assert job.status == "succeeded", job.report
    assert Order.objects.get(external_id="A").at_grain is True
    assert Invoice.objects.get(external_id="I-1").at_grain is False


def test_automatic_saves_no_grain_and_the_preview_says_which_table_it_is(client, executive, tmp_path):
    source = upload_text(tmp_path, ORDERS_INVOICED, name="orders-invoiced.csv", user=executive)
    client.force_login(executive)

    client.post(f"/uploads/{source.pk}/review/", _post(_invoice_rows(), grain="", action="save"))
    preview = client.post(f"/uploads/{source.pk}/review/preview/", _post(_invoice_rows()), HTTP_HX_REQUEST="true")
    chosen = client.post(
        f"/uploads/{source.pk}/review/preview/",
        _post(_invoice_rows(), grain="canonical_orders"),
        HTTP_HX_REQUEST="true",
    )

    assert source.mappings.get().options["grain"] is None
    text = re.sub(r"\s+", " ", preview.content.decode())
    assert "Each row of the file is one row of <strong>invoices</strong> (<code>canonical_invoices</code>)" in text
    assert "automatically: the last table the mapping fills" in text
    chosen_text = re.sub(r"\s+", " ", chosen.content.decode())
    assert "one row of <strong>orders</strong> (<code>canonical_orders</code>), as chosen" in chosen_text
    assert "option grain: — → canonical_orders" in chosen_text  # the difference from the saved version


def test_a_grain_that_is_no_table_is_a_field_error_and_nothing_is_saved(client, executive, tmp_path):
    source = upload_text(tmp_path, ORDERS_INVOICED, name="orders-invoiced.csv", user=executive)
    client.force_login(executive)

    response = client.post(f"/uploads/{source.pk}/review/", _post(ROWS, grain="canonical_nope", action="save"))

    assert response.status_code == 400
    body = response.content.decode()
    assert 'data-testid="grain-error"' in body
    assert "Each row of the file is: canonical_nope is not a canonical table." in body
    assert 'aria-invalid="true"' in body
    assert not source.mappings.exists()


def test_a_grain_the_mapping_does_not_fill_is_a_field_error_too(client, executive, tmp_path):
    source = upload_text(tmp_path, ORDERS_INVOICED, name="orders-invoiced.csv", user=executive)
    client.force_login(executive)

    response = client.post(
        f"/uploads/{source.pk}/review/", _post(ROWS[:2], grain="canonical_payments", action="execute")
    )

    assert response.status_code == 400
    body = response.content.decode()
    error = re.search(r'data-testid="grain-error">(.*?)</small>', body, re.S).group(1)
    assert "the mapping fills no column of payments (canonical_payments)" in error
    assert not source.mappings.exists()


def test_a_fresh_proposal_selects_the_proposers_table_when_it_is_not_the_automatic_one(tmp_path):
    # The proposer reads this file as orders ('order' is unique on every row); rows that also fill invoices make
    # Automatic the invoices, so a fresh proposal selects the orders, and a saved version keeps its own choice.
    source = upload_text(tmp_path, ORDERS_INVOICED, name="orders-invoiced.csv")
    data_source_profile(source=source)
    rows = [
        {"source_col": c or None, "canonical_table": t.split(".")[0], "canonical_col": t.split(".")[1], "target": t}
        | {"pii_choice": "keep"}
        for c, t, *_ in _invoice_rows()
    ]

    options: dict = {}
    context = _grain_context(source, rows, options, fresh=True)

    assert (context["grain_selected"], context["grain_automatic"]) == ("canonical_orders", "canonical_invoices")
    assert options == {"grain": "canonical_orders"}
    assert context["grain_proposed"] == {
        "table": "canonical_orders",
        "label": "order",
        "reason": "'order' is unique on every row: one row per order",
    }
    fields = [field(c or None, *t.split("."), json.loads(x[0]) if x else None) for c, t, *x in _invoice_rows()]
    saved = save(source, fields, options={"grain": None})
    assert _grain_context(source, rows, dict(saved.options), fresh=False)["grain_selected"] == ""


ORDERS_INVOICED_PAID = "".join(
    ["order,date,invoice,amount\n", *(f"O-{i},2024-02-{1 + i % 28:02d},I-{i},{10 + i}.50\n" for i in range(30))]
)
INVOICE_PROPOSALS = [
    {"source_col": c, "canonical_table": "canonical_invoices", "canonical_col": col, "transform": None}
    | {"confidence": 0.9, "reason": "the LLM's reading"}
    for c, col in (("invoice", "external_id"), ("order", "order_id"), ("date", "invoice_date"), ("amount", "amount"))
]


def test_ingest_auto_takes_the_proposers_grain_when_it_is_not_the_automatic_one(tmp_path, monkeypatch):
    # The offline proposer reads orders ('order' is unique on every row); the LLM's review (stubbed: no key in
    # tests) adds the invoices the rows name, which makes Automatic the invoices.
    def review(*, document, profile, notes=None):
        kept = [p for p in document["proposals"] if p["source_col"] not in ("invoice", "amount")]
        return {**document, "proposals": kept + INVOICE_PROPOSALS}

    monkeypatch.setattr("mappings.services.propose.llm_review", review)
    path = tmp_path / "february.csv"
    path.write_text(ORDERS_INVOICED_PAID)

    source, job = ingest_file(path=path, user=None, auto=True)

    assert job.status == "succeeded", job.report
    mapping = source.mappings.get()
    assert mapping_grain(mapping_fields(mapping)) == "canonical_invoices"  # what Automatic would have made it
    assert mapping.options["grain"] == "canonical_orders"
    assert Order.objects.get(external_id="O-1").at_grain is True
    assert Invoice.objects.get(external_id="I-1").at_grain is False
    # A grain given with --auto wins over the proposer's.
    source, _ = ingest_file(path=path, user=None, auto=True, options={"grain": "canonical_invoices"})
    assert source.mappings.get().options["grain"] == "canonical_invoices"


def test_the_proposers_grain_is_an_option_only_when_the_fields_fill_it_and_do_not_make_it_automatic():
    fields = [field(c or None, *t.split("."), json.loads(x[0]) if x else None) for c, t, *x in _invoice_rows()]
    assert mapping_grain_option(fields, "canonical_orders") == "canonical_orders"
    assert mapping_grain_option(fields, "canonical_invoices") is None  # Automatic already
    assert mapping_grain_option(fields, "canonical_payments") is None  # fills no column of payments
    assert mapping_grain_option(fields, None) is None
    attribute_only = [*fields, field("date", "canonical_customers", "attributes.first_order")]
    assert mapping_grain_option(attribute_only, "canonical_customers") is None  # an attribute fills no table
