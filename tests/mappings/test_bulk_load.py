"""Bulk loads: a file inserting much of a table drops the table's secondary indexes and foreign keys in the
load's transaction and rebuilds them once (upsert.py: bulk_load_begin / bulk_load_end). The guarantees of a
row-by-row load hold (tests/mappings/test_execute.py runs every behaviour both ways); these tests check
that the table comes back exactly as the migrations made it, that the set-wise check is a real check, and
when a load counts as bulk."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from canonical.models import Customer, Order
from canonical.services import canonical_foreign_keys_validate
from mappings.engine.direct import BULK_END_LAP
from tests.mappings.helpers import ORDER_FIELDS, run, upload_text


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"


def orders_csv(count: int, *, first: int = 1, customers: int = 3) -> str:
    lines = ["order,date,amount,customer,rep"]
    lines += [f"O-{n},2024-0{1 + n % 9}-15,{n}.50,K{n % customers},E{n % 2}" for n in range(first, first + count)]
    return "\n".join(lines) + "\n"


def constraints_and_indexes(table: str) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint "
            "WHERE conrelid = %s::regclass ORDER BY conname",
            [table],
        )
        constraints = cursor.fetchall()
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s ORDER BY indexname", [table])
        return {"constraints": constraints, "indexes": cursor.fetchall()}


def foreign_keys(state: dict) -> list[str]:
    return [name for name, definition, _ in state["constraints"] if "FOREIGN KEY" in definition]


def unvalidated(state: dict) -> list[str]:
    return [name for name, _, valid in state["constraints"] if not valid]


def test_a_bulk_load_leaves_the_same_indexes_and_valid_foreign_keys_under_the_same_names(db, tmp_path, settings):
    settings.EXECUTION_BULK_MIN_ROWS = 10
    before = constraints_and_indexes("canonical_orders")
    assert sum(1 for name, definition, _ in before["constraints"] if "FOREIGN KEY" in definition) == 2

    job = run(upload_text(tmp_path, orders_csv(50)), ORDER_FIELDS)

    assert job.status == "succeeded", job.error
    assert job.report["bulk_load"] == ["canonical_orders"]
    assert f"canonical_orders: {BULK_END_LAP}" in job.report["timings_ms"]
    # The keys come back NOT VALID (checked for every write from now on) until validated after the commit.
    after = constraints_and_indexes("canonical_orders")
    assert after["indexes"] == before["indexes"]
    assert unvalidated(after) == foreign_keys(before)
    validation = canonical_foreign_keys_validate()
    assert sorted(validation.validated) == sorted(f"canonical_orders.{name}" for name in foreign_keys(before))
    assert validation.failed == {}
    assert constraints_and_indexes("canonical_orders") == before
    assert Order.objects.count() == 50
    # References went through placeholders as in any load, and the rebuilt keys point at them.
    assert job.report["placeholders"] == {"canonical_customers": 3, "canonical_employees": 2}
    assert not Order.objects.filter(customer__isnull=True).exists()


def test_rerunning_a_bulk_file_changes_nothing_and_rebuilds_nothing(db, tmp_path, settings):
    settings.EXECUTION_BULK_MIN_ROWS = 10
    source = upload_text(tmp_path, orders_csv(50))
    run(source, ORDER_FIELDS)

    again = run(source, ORDER_FIELDS)

    assert again.report["tables"]["canonical_orders"] == {"inserted": 0, "updated": 0, "unchanged": 50, "rejected": 0}
    assert again.report["bulk_load"] == []


def test_a_few_rows_into_a_large_table_are_written_row_by_row(db, tmp_path, settings):
    settings.EXECUTION_BULK_MIN_ROWS = 10
    run(upload_text(tmp_path, orders_csv(100), name="a.csv"), ORDER_FIELDS)

    # 20 new rows would be a sixth of the table: below the bulk share (a quarter).
    job = run(upload_text(tmp_path, orders_csv(20, first=101), name="b.csv"), ORDER_FIELDS)

    assert job.report["tables"]["canonical_orders"]["inserted"] == 20
    assert job.report["bulk_load"] == []


def test_below_the_row_threshold_a_load_is_row_by_row(db, tmp_path):
    job = run(upload_text(tmp_path, orders_csv(50)), ORDER_FIELDS)

    assert job.report["tables"]["canonical_orders"]["inserted"] == 50
    assert job.report["bulk_load"] == []


def test_the_rebuilt_foreign_key_is_checked_over_every_row(db):
    Customer.objects.create(external_id="K1", name="Known")
    with connection.cursor() as cursor:
        cursor.execute("SELECT ll_bulk_load_begin('canonical_orders'::regclass)")
        cursor.execute(
            "INSERT INTO canonical_orders (external_id, customer_id, status, currency, is_placeholder, "
            "amount_from_lines) VALUES ('O-1', (SELECT max(id) + 1000 FROM canonical_customers), '', '', false, false)"
        )
        with pytest.raises(IntegrityError, match="violates foreign key constraint"), transaction.atomic():
            cursor.execute("SELECT ll_bulk_load_end('canonical_orders'::regclass)")


def test_a_failed_bulk_load_leaves_the_table_its_indexes_and_keys_as_they_were(db, tmp_path, settings):
    settings.EXECUTION_BULK_MIN_ROWS = 10
    run(upload_text(tmp_path, orders_csv(10), name="a.csv"), ORDER_FIELDS)
    before = constraints_and_indexes("canonical_orders")
    rows_before = list(Order.objects.order_by("external_id").values_list("external_id", "amount"))
    with connection.cursor() as cursor:
        # Injected failure after the drops: the insert of the 41st row refuses.
        cursor.execute(
            "CREATE FUNCTION test_fail() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN IF NEW.external_id = 'O-41' THEN RAISE EXCEPTION 'injected failure'; END IF; "
            "RETURN NEW; END $$;"
            "CREATE TRIGGER test_fail BEFORE INSERT ON canonical_orders FOR EACH ROW EXECUTE FUNCTION test_fail();"
        )

    job = run(upload_text(tmp_path, orders_csv(50), name="b.csv"), ORDER_FIELDS)

    assert job.status == "failed"
    assert "injected failure" in job.error
    assert constraints_and_indexes("canonical_orders") == before
    assert list(Order.objects.order_by("external_id").values_list("external_id", "amount")) == rows_before


def test_a_dangling_reference_written_before_the_validation_after_commit_is_reported_and_the_key_stays_not_valid(
    db, tmp_path, settings
):
    settings.EXECUTION_BULK_MIN_ROWS = 10
    run(upload_text(tmp_path, orders_csv(50)), ORDER_FIELDS)
    with connection.cursor() as cursor:
        # What no load writes (its ids come from the referent table): a row pointing at no customer, slipped in
        # with the checks of this session off, as a buggy load or a hand edit could.
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            "INSERT INTO canonical_orders (external_id, customer_id, status, currency, is_placeholder, "
            "amount_from_lines) "
            "VALUES ('O-bad', (SELECT max(id) + 1000 FROM canonical_customers), '', '', false, false)"
        )
        cursor.execute("SET session_replication_role = DEFAULT")

    validation = canonical_foreign_keys_validate()

    [customer_key] = [k for k in validation.failed if "customer_id" in k]
    assert "violates foreign key constraint" in validation.failed[customer_key]
    assert any("sales_rep_id" in k for k in validation.validated)
    state = constraints_and_indexes("canonical_orders")
    assert unvalidated(state) == [customer_key.split(".", 1)[1]]


def test_a_bulk_load_over_keys_still_not_valid_re_adds_them_and_they_validate(db, tmp_path, settings):
    settings.EXECUTION_BULK_MIN_ROWS = 10
    before = constraints_and_indexes("canonical_orders")
    run(upload_text(tmp_path, orders_csv(20), name="a.csv"), ORDER_FIELDS)
    assert unvalidated(constraints_and_indexes("canonical_orders")) == foreign_keys(before)

    # 80 new rows into 20: bulk again, while the first load's keys were not validated yet.
    job = run(upload_text(tmp_path, orders_csv(80, first=21), name="b.csv"), ORDER_FIELDS)

    assert job.status == "succeeded", job.error
    assert job.report["bulk_load"] == ["canonical_orders"]
    assert canonical_foreign_keys_validate().failed == {}
    assert constraints_and_indexes("canonical_orders") == before
    assert Order.objects.count() == 100


def watch_unique_external_id() -> None:
    """Record, for each row inserted into canonical_orders, whether its unique external_id constraint exists."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE test_unique_seen (external_id text, present boolean);"
            "CREATE FUNCTION test_unique_watch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "INSERT INTO test_unique_seen SELECT NEW.external_id, EXISTS (SELECT 1 FROM pg_constraint "
            "WHERE conname = 'canonical_orders_external_id_key'); RETURN NEW; END $$;"
            "CREATE TRIGGER test_unique_watch BEFORE INSERT ON canonical_orders FOR EACH ROW "
            "EXECUTE FUNCTION test_unique_watch();"
        )


def unique_seen() -> set[bool]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT present FROM test_unique_seen")
        return {present for (present,) in cursor.fetchall()}


def test_new_rows_of_a_bulk_load_go_in_before_their_identifiers_unique_index_is_built(db, tmp_path, settings):
    settings.EXECUTION_BULK_MIN_ROWS = 10
    before = constraints_and_indexes("canonical_orders")
    watch_unique_external_id()

    job = run(upload_text(tmp_path, orders_csv(50)), ORDER_FIELDS)

    assert job.status == "succeeded", job.error
    assert job.report["bulk_load"] == ["canonical_orders"]
    assert unique_seen() == {False}
    # Back under its name, with its definition, and its index as the migrations made it.
    after = constraints_and_indexes("canonical_orders")
    key = ("canonical_orders_external_id_key", "UNIQUE (external_id)", True)
    assert key in before["constraints"]
    assert key in after["constraints"]
    assert after["indexes"] == before["indexes"]


def test_a_bulk_load_beside_stored_identifiers_keeps_their_unique_index(db, tmp_path, settings):
    settings.EXECUTION_BULK_MIN_ROWS = 10
    run(upload_text(tmp_path, orders_csv(10), name="a.csv"), ORDER_FIELDS)
    watch_unique_external_id()

    # O-1 … O-10 are stored: 40 new rows are a bulk load that also compares and updates.
    job = run(upload_text(tmp_path, orders_csv(50), name="b.csv"), ORDER_FIELDS)

    assert job.status == "succeeded", job.error
    assert job.report["bulk_load"] == ["canonical_orders"]
    assert job.report["tables"]["canonical_orders"]["inserted"] == 40
    assert unique_seen() == {True}


def test_a_repeated_identifier_slipped_into_a_bulk_load_fails_it_when_the_unique_index_is_built(db, tmp_path, settings):
    settings.EXECUTION_BULK_MIN_ROWS = 10
    before = constraints_and_indexes("canonical_orders")
    with connection.cursor() as cursor:
        # What no load writes (DuckDB keeps one row per identifier): a second O-1, added beside O-41.
        cursor.execute(
            "CREATE FUNCTION test_repeat() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF NEW.external_id = 'O-41' THEN INSERT INTO canonical_orders (external_id, status, currency, "
            "is_placeholder, amount_from_lines, at_grain) VALUES ('O-1', '', '', false, false, false); END IF; "
            "RETURN NEW; END $$;"
            "CREATE TRIGGER test_repeat BEFORE INSERT ON canonical_orders FOR EACH ROW EXECUTE FUNCTION test_repeat();"
        )

    job = run(upload_text(tmp_path, orders_csv(50)), ORDER_FIELDS)

    assert job.status == "failed"
    assert "external_id" in job.error
    assert constraints_and_indexes("canonical_orders") == before
    assert not Order.objects.exists()
