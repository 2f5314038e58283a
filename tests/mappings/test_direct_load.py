"""The direct load (mappings/engine/direct.py): DuckDB resolves references, drops repeats and splits new rows
from existing ones; new rows are COPYed into the table, only existing ones that differ are UPDATEd. These
tests cover the paths that split opens; tests/mappings/test_execute.py covers every behaviour end to end."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

import pytest

from canonical.models import Customer, Employee, Order
from mappings.models import RejectedRow
from mappings.services.execute import execution_run_now
from tests.mappings.helpers import ORDER_FIELDS, field, run, upload_text


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"


@pytest.fixture(autouse=True, params=["row by row", "bulk"])
def load_mode(request, settings):
    if request.param == "bulk":
        settings.EXECUTION_BULK_MIN_ROWS = 1
    return request.param


def orders(*rows: str) -> str:
    return "order,date,amount,customer,rep\n" + "".join(f"{row}\n" for row in rows)


def test_a_file_mixing_new_and_existing_rows_inserts_the_new_updates_the_changed_and_leaves_the_rest(db, tmp_path):
    run(
        upload_text(tmp_path, orders("O1,2024-01-05,10.00,K1,E1", "O2,2024-02-05,20.00,K1,E1"), name="a.csv"),
        ORDER_FIELDS,
    )

    text = orders("O1,2024-01-05,10.00,K1,E1", "O2,2024-03-05,20.00,K2,E1", "O3,2024-04-05,30.00,K2,E2")
    job = run(upload_text(tmp_path, text, name="b.csv"), ORDER_FIELDS)

    counts = dict(job.report["tables"]["canonical_orders"])
    # a.csv had said otherwise of O2: said in the report (tests/mappings/test_overwrites.py)
    assert counts.pop("overwritten_from_other_sources")["columns"] == {"customer_id": 1, "order_date": 1}
    assert counts == {"inserted": 1, "updated": 1, "unchanged": 1, "rejected": 0}
    o2 = Order.objects.get(external_id="O2")
    assert (o2.order_date, o2.customer.external_id, o2.source_row) == (dt.date(2024, 3, 5), "K2", 3)
    assert Order.objects.get(external_id="O3").amount == Decimal("30.00")
    touched = job.report["touched"]["canonical_orders"]
    # O2 left February and arrived in March; O3 is new in April; O1 changed nothing.
    assert touched["months"] == ["2024-02-01", "2024-03-01", "2024-04-01"]
    k2 = Customer.objects.get(external_id="K2").pk
    assert touched["customer_ids"] == [k2]


def test_a_few_rows_into_a_larger_table_are_split_by_the_identifiers_the_table_has(db, tmp_path):
    many = orders(*(f"O{n},2024-01-05,{n}.00,K1,E1" for n in range(1, 21)))
    run(upload_text(tmp_path, many, name="many.csv"), ORDER_FIELDS)

    job = run(
        upload_text(tmp_path, orders("O5,2024-01-05,99.00,K1,E1", "O99,2024-01-06,1.00,K1,E1"), name="few.csv"),
        ORDER_FIELDS,
    )

    counts = dict(job.report["tables"]["canonical_orders"])
    assert counts.pop("overwritten_from_other_sources")["columns"] == {"amount": 1}
    assert counts == {"inserted": 1, "updated": 1, "unchanged": 0, "rejected": 0}
    assert Order.objects.get(external_id="O5").amount == Decimal("99.00")
    assert Order.objects.count() == 21


def test_a_big_file_is_compared_with_the_stored_rows_in_buckets_and_every_change_is_found(db, tmp_path, monkeypatch):
    from mappings.engine import direct

    run(
        upload_text(tmp_path, orders(*(f"O{n},2024-01-05,{n}.00,K1,E1" for n in range(1, 41))), name="a.csv"),
        ORDER_FIELDS,
    )
    monkeypatch.setattr(direct, "COMPARE_BUCKET_ROWS", 7)  # 40 stored rows: 6 buckets

    changed = {3, 17, 18, 40}
    text = orders(*(f"O{n},2024-01-05,{n}.{'50' if n in changed else '00'},K1,E1" for n in range(1, 41)))
    job = run(upload_text(tmp_path, text, name="b.csv"), ORDER_FIELDS)

    counts = dict(job.report["tables"]["canonical_orders"])
    assert counts.pop("overwritten_from_other_sources")["columns"] == {"amount": 4}
    assert counts == {"inserted": 0, "updated": 4, "unchanged": 36, "rejected": 0}
    assert {o.external_id for o in Order.objects.all() if o.amount % 1} == {f"O{n}" for n in changed}
    again = run(upload_text(tmp_path, text, name="c.csv"), ORDER_FIELDS)
    assert again.report["tables"]["canonical_orders"] == {"inserted": 0, "updated": 0, "unchanged": 40, "rejected": 0}


def test_an_identifier_repeated_in_the_file_loads_its_last_occurrence_once_and_says_so(db, tmp_path):
    text = orders("O1,2024-01-05,10.00,K1,E1", "O1,2024-01-06,11.00,K1,E1", "O2,2024-01-07,12.00,K1,E1")
    job = run(upload_text(tmp_path, text), ORDER_FIELDS)

    counts = dict(job.report["tables"]["canonical_orders"])
    assert counts.pop("collapsed")["conflicting_columns"] == {"date": 1, "amount": 1}
    assert counts == {"inserted": 2, "updated": 0, "unchanged": 0, "rejected": 0}
    o1 = Order.objects.get(external_id="O1")
    assert (o1.amount, o1.source_row) == (Decimal("11.00"), 3)


def test_a_reference_named_by_email_resolves_to_the_existing_row_and_creates_no_placeholder(db, tmp_path):
    rep = Employee.objects.create(external_id="E-7", name="Nancy Davolio", email="nancy@northwind.test")

    job = run(upload_text(tmp_path, orders("O1,2024-01-05,10.00,K1,NANCY@northwind.test")), ORDER_FIELDS)

    assert Order.objects.get(external_id="O1").sales_rep_id == rep.pk
    assert job.report["placeholders"] == {"canonical_customers": 1}
    assert Employee.objects.count() == 1


def test_a_row_missing_two_referents_in_reject_mode_is_rejected_once_for_the_first(db, tmp_path):
    Customer.objects.create(external_id="K1", name="Known")
    Employee.objects.create(external_id="E1", name="Known Rep")
    text = orders("O1,2024-01-05,10.00,K1,E1", "O2,2024-01-05,10.00,K9,E9")

    job = run(upload_text(tmp_path, text), ORDER_FIELDS, options={"on_missing_reference": "reject"})

    assert job.report["tables"]["canonical_orders"] == {"inserted": 1, "updated": 0, "unchanged": 0, "rejected": 1}
    rejected = RejectedRow.objects.get(job=job)
    assert (rejected.source_row, rejected.column, rejected.value) == (3, "customer", "K9")


def test_a_timestamp_read_back_from_the_table_compares_equal_so_a_rerun_changes_nothing(db, tmp_path):
    fields = [
        field("id", "canonical_customers", "external_id"),
        field("name", "canonical_customers", "name"),
        field("since", "canonical_customers", "created_at"),
    ]
    source = upload_text(tmp_path, "id,name,since\nK1,Alpha,2024-01-05 10:30:00\nK2,Beta,2024-02-01 08:00:00\n")
    run(source, fields)

    again = execution_run_now(source=source, user=None)
    assert again.report["tables"]["canonical_customers"] == {"inserted": 0, "updated": 0, "unchanged": 2, "rejected": 0}
    changed = upload_text(
        tmp_path, "id,name,since\nK1,Alpha,2024-01-05 10:31:00\nK2,Beta,2024-02-01 08:00:00\n", name="v2.csv"
    )
    job = run(changed, fields)
    counts = dict(job.report["tables"]["canonical_customers"])
    assert counts.pop("overwritten_from_other_sources")["columns"] == {"created_at": 1}
    assert counts == {"inserted": 0, "updated": 1, "unchanged": 1, "rejected": 0}
    assert Customer.objects.get(external_id="K1").created_at == dt.datetime(2024, 1, 5, 10, 31, tzinfo=dt.UTC)


def test_a_placeholder_is_updated_by_the_file_describing_it_even_when_its_values_match(db, tmp_path):
    run(upload_text(tmp_path, orders("O1,2024-01-05,10.00,K1,E1"), name="o.csv"), ORDER_FIELDS)
    assert Customer.objects.get(external_id="K1").is_placeholder

    fields = [field("id", "canonical_customers", "external_id"), field("name", "canonical_customers", "name")]
    job = run(upload_text(tmp_path, "id,name\nK1,K1\n", name="c.csv"), fields)

    assert job.report["tables"]["canonical_customers"]["updated"] == 1
    assert not Customer.objects.get(external_id="K1").is_placeholder


def test_a_spill_directory_left_by_a_killed_worker_is_removed_by_the_next_load(db, tmp_path):
    import subprocess

    from mappings.engine import direct

    dead = subprocess.Popen(["true"])  # once it has exited, its pid names no live process
    dead.wait()
    direct.SPILL_PARENT.mkdir(mode=0o700, exist_ok=True)
    left = direct.SPILL_PARENT / f"{dead.pid}-killed"
    (left / "spill").mkdir(parents=True)
    (left / "spill" / "duckdb_temp_block.bin").write_bytes(b"x" * 1024)
    mine = direct.SPILL_PARENT / f"{os.getpid()}-running"
    mine.mkdir()

    run(upload_text(tmp_path, orders("O1,2024-01-05,10.00,K1,E1")), ORDER_FIELDS)

    assert not left.exists()
    assert mine.exists()  # a live process's directory is left alone
    mine.rmdir()
