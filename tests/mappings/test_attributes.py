"""Attributes end to end in the engine: typed values, idempotent re-runs, merging across uploads, conflicts."""

from __future__ import annotations

import pytest

from canonical.models import Employee, Order
from canonical.selectors import attribute_keys
from mappings.models import RejectedRow
from mappings.services.mapping import MappingInvalid
from tests.mappings.helpers import ORDER_FIELDS, field, run, save, upload_text


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"


@pytest.fixture(autouse=True, params=["row by row", "bulk"])
def load_mode(request, settings):
    if request.param == "bulk":
        settings.EXECUTION_BULK_MIN_ROWS = 1
    return request.param


NUMBER = [{"op": "parse_number", "locale": "auto"}]
DATE = [{"op": "parse_date", "format": "auto"}]
BOOL = [{"op": "parse_bool"}]
HEADER = "order,date,amount,customer,rep,Region,Profit,Ship Date,Returned\n"
KEPT = [
    field("Region", "canonical_orders", "attributes.region"),
    field("Profit", "canonical_orders", "attributes.profit", NUMBER),
    field("Ship Date", "canonical_orders", "attributes.ship_date", DATE),
    field("Returned", "canonical_orders", "attributes.returned", BOOL),
]


def orders(*rows: str) -> str:
    return HEADER + "".join(f"{row}\n" for row in rows)


def test_attributes_are_stored_typed_and_registered(db, tmp_path):
    text = orders(
        "O1,2024-01-05,10.00,K1,E1,West,12.50,2024-01-09,yes", 'O2,2024-02-05,20.00,K1,E1,"Nord ""Ost""",-3,,no'
    )
    job = run(upload_text(tmp_path, text), ORDER_FIELDS + KEPT)

    assert job.status == "succeeded", job.report
    assert Order.objects.get(external_id="O1").attributes == {
        "region": "West",
        "profit": 12.5,
        "ship_date": "2024-01-09",
        "returned": True,
    }
    # A blank cell leaves its key out; text is escaped as JSON.
    assert Order.objects.get(external_id="O2").attributes == {"region": 'Nord "Ost"', "profit": -3, "returned": False}
    assert attribute_keys(table="canonical_orders") == [
        ("profit", "number"),
        ("region", "text"),
        ("returned", "boolean"),
        ("ship_date", "date"),
    ]


def test_running_the_same_file_twice_changes_nothing(db, tmp_path, monkeypatch):
    from mappings.engine import direct

    text = orders("O1,2024-01-05,10.00,K1,E1,West,12.50,2024-01-09,yes", "O2,2024-02-05,20.00,K1,E1,East,0.1,,no")
    source = upload_text(tmp_path, text)
    run(source, ORDER_FIELDS + KEPT)
    before = dict(Order.objects.values_list("external_id", "attributes"))

    def no_update(*args, **kwargs):
        raise AssertionError("DuckDB should find every row unchanged: the stored JSON text is the file's")

    monkeypatch.setattr(direct, "update_changed", no_update)

    job = run(source, ORDER_FIELDS + KEPT)

    assert job.report["tables"]["canonical_orders"] == {"inserted": 0, "updated": 0, "unchanged": 2, "rejected": 0}
    assert dict(Order.objects.values_list("external_id", "attributes")) == before


def test_a_changed_attribute_updates_its_row_only(db, tmp_path):
    run(
        upload_text(tmp_path, orders("O1,2024-01-05,10.00,K1,E1,West,1,,", "O2,2024-01-05,10.00,K1,E1,East,2,,")),
        ORDER_FIELDS + KEPT,
    )

    job = run(
        upload_text(
            tmp_path, orders("O1,2024-01-05,10.00,K1,E1,West,1,,", "O2,2024-01-05,10.00,K1,E1,South,,,"), name="b.csv"
        ),
        ORDER_FIELDS + KEPT,
    )

    counts = dict(job.report["tables"]["canonical_orders"])
    # South over East, and the blank profit erases the first upload's: both said
    assert counts.pop("overwritten_from_other_sources")["columns"] == {"attributes.profit": 1, "attributes.region": 1}
    assert counts == {"inserted": 0, "updated": 1, "unchanged": 1, "rejected": 0}
    # The blank profit removed the key this file writes.
    assert Order.objects.get(external_id="O2").attributes == {"region": "South"}


def test_attributes_of_two_uploads_merge_by_key_and_both_stay_unchanged_on_a_rerun(db, tmp_path):
    first = upload_text(tmp_path, orders("O1,2024-01-05,10.00,K1,E1,West,5,,"), name="a.csv")
    run(first, ORDER_FIELDS + KEPT[:2])
    second = upload_text(tmp_path, "order,date,amount,Channel\nO1,2024-01-05,10.00,web\n", name="b.csv")
    second_fields = [
        field("order", "canonical_orders", "external_id"),
        field("date", "canonical_orders", "order_date"),
        field("amount", "canonical_orders", "amount"),
        field("Channel", "canonical_orders", "attributes.channel"),
    ]
    job = run(second, second_fields)
    assert job.report["tables"]["canonical_orders"]["updated"] == 1
    assert Order.objects.get(external_id="O1").attributes == {"region": "West", "profit": 5, "channel": "web"}

    again = run(second, second_fields)
    assert again.report["tables"]["canonical_orders"]["unchanged"] == 1
    first_again = run(first, ORDER_FIELDS + KEPT[:2])
    assert first_again.report["tables"]["canonical_orders"]["unchanged"] == 1
    assert Order.objects.get(external_id="O1").attributes == {"region": "West", "profit": 5, "channel": "web"}


def test_a_value_that_does_not_read_as_the_attribute_type_rejects_its_row_naming_the_column(db, tmp_path):
    job = run(
        upload_text(tmp_path, orders("O1,2024-01-05,10.00,K1,E1,West,n/a,,", "O2,2024-01-05,10.00,K1,E1,West,4,,")),
        ORDER_FIELDS + KEPT,
    )

    assert job.report["tables"]["canonical_orders"]["rejected"] == 1
    reject = RejectedRow.objects.get()
    assert (reject.source_row, reject.column, reject.value) == (2, "Profit", "n/a")
    assert Order.objects.get().external_id == "O2"


def test_an_attribute_whose_type_changes_between_files_is_a_mapping_error_naming_the_column(db, tmp_path):
    run(upload_text(tmp_path, orders("O1,2024-01-05,10.00,K1,E1,West,5,,"), name="a.csv"), ORDER_FIELDS + KEPT[:2])
    second = upload_text(tmp_path, orders("O2,2024-01-05,10.00,K1,E1,West,lots,,"), name="b.csv")

    with pytest.raises(MappingInvalid) as caught:
        save(second, ORDER_FIELDS + [KEPT[0], field("Profit", "canonical_orders", "attributes.profit")])

    (message,) = caught.value.errors
    assert "'Profit'" in message and "number" in message and "text" in message and "a.csv" in message
    assert Order.objects.count() == 1


def test_an_attribute_key_that_is_a_column_name_is_a_mapping_error(db, tmp_path):
    source = upload_text(tmp_path, orders("O1,2024-01-05,10.00,K1,E1,West,5,,"))
    with pytest.raises(MappingInvalid) as caught:
        save(source, ORDER_FIELDS + [field("Region", "canonical_orders", "attributes.status")])
    assert any("'status' is a column of canonical_orders" in e for e in caught.value.errors)


def test_the_staged_path_keeps_attributes_too(db, tmp_path):
    """Employees with managers in the same file go through the staging table."""
    text = "id,name,manager,Office\nE1,Ann,,Berlin\nE2,Bob,E1,Paris\n"
    fields = [
        field("id", "canonical_employees", "external_id"),
        field("name", "canonical_employees", "name"),
        field("manager", "canonical_employees", "manager_id"),
        field("Office", "canonical_employees", "attributes.office"),
    ]
    source = upload_text(tmp_path, text, name="employees.csv")
    run(source, fields)
    assert Employee.objects.get(external_id="E2").attributes == {"office": "Paris"}

    again = run(source, fields)
    assert again.report["tables"]["canonical_employees"] == {"inserted": 0, "updated": 0, "unchanged": 2, "rejected": 0}

    other = upload_text(tmp_path, "id,name,Desk\nE2,Bob,12\n", name="desks.csv")
    run(
        other,
        [
            field("id", "canonical_employees", "external_id"),
            field("name", "canonical_employees", "name"),
            field("Desk", "canonical_employees", "attributes.desk", NUMBER),
        ],
    )
    assert Employee.objects.get(external_id="E2").attributes == {"office": "Paris", "desk": 12}


def test_a_type_registered_after_the_mapping_was_saved_fails_the_execution_and_writes_nothing(db, tmp_path):
    from mappings.services.execute import execution_run_now

    second = upload_text(tmp_path, orders("O2,2024-01-05,10.00,K1,E1,West,lots,,"), name="b.csv")
    mapping = save(second, ORDER_FIELDS + [KEPT[0], field("Profit", "canonical_orders", "attributes.profit")])
    # Meanwhile another upload loads profit as a number.
    run(upload_text(tmp_path, orders("O1,2024-01-05,10.00,K1,E1,West,5,,"), name="a.csv"), ORDER_FIELDS + KEPT[:2])

    job = execution_run_now(source=second, mapping=mapping, user=None)

    assert job.status == "failed"
    assert "'Profit'" in job.error and "number" in job.error
    assert list(Order.objects.values_list("external_id", flat=True)) == ["O1"]


def test_rows_without_an_identifier_keep_their_attributes_and_rerun_unchanged(db, tmp_path):
    from canonical.models import Expense

    text = "date,amount,Project\n2024-01-05,10.00,Apollo\n2024-01-05,10.00,Apollo\n2024-01-06,5.00,Gemini\n"
    fields = [
        field("date", "canonical_expenses", "expense_date"),
        field("amount", "canonical_expenses", "amount"),
        field("Project", "canonical_expenses", "attributes.project"),
    ]
    source = upload_text(tmp_path, text, name="expenses.csv")
    run(source, fields)
    assert sorted(e["project"] for e in Expense.objects.values_list("attributes", flat=True)) == [
        "Apollo",
        "Apollo",
        "Gemini",
    ]

    again = run(source, fields)
    assert again.report["tables"]["canonical_expenses"] == {"inserted": 0, "updated": 0, "unchanged": 3, "rejected": 0}
