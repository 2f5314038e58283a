"""The binary COPY of the direct load's new rows (mappings/engine/pg_binary.py), against real PostgreSQL:
what goes in as binary comes back as the same values a CSV COPY stores, and what cannot go in as binary
goes as CSV."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import psycopg
import pyarrow as pa
import pytest
from django.db import connection

from canonical.models import Order
from mappings.engine import pg_binary
from mappings.engine.staging import copy_rows_from_duckdb
from tests.mappings.helpers import ORDER_FIELDS, run, upload_text

MONEY = ["0", "0.01", "-0.01", "1", "-1", "12.5", "9999.99", "10000", "123456789012.34", "-123456789012.34", "-5.05"]


def _table(cursor, definition: str) -> None:
    cursor.execute("DROP TABLE IF EXISTS binary_copy_probe")
    cursor.execute(f"CREATE TABLE binary_copy_probe (n serial, {definition})")


def _copied(cursor, duck, query: str, columns: list[str]) -> list[tuple]:
    copy_rows_from_duckdb(cursor, "binary_copy_probe", columns, duck, query)
    cursor.execute(f"SELECT {', '.join(columns)} FROM binary_copy_probe ORDER BY n")
    return cursor.fetchall()


@pytest.mark.parametrize("pg_type", ["numeric(14,2)", "numeric(16,3)", "numeric(15,0)", "numeric(18,6)", "numeric"])
def test_money_copied_in_binary_is_stored_as_postgresql_parses_the_same_text(db, pg_type):
    duck = duckdb.connect()
    values = ", ".join(f"(CAST('{v}' AS DECIMAL(14, 2)))" for v in MONEY) + ", (NULL)"
    query = f"SELECT * FROM (VALUES {values}) t(v)"
    # What the CSV COPY would send: DuckDB's text of each value ("12.50"), parsed by PostgreSQL.
    texts = [row[0] for row in duck.sql(f"SELECT CAST(v AS VARCHAR) FROM ({query})").fetchall()]
    with connection.cursor() as cursor:
        _table(cursor, f"v {pg_type}")
        got = [row[0] for row in _copied(cursor, duck, query, ["v"])]
        cursor.execute(f"SELECT v::{pg_type} FROM unnest(%s::text[]) WITH ORDINALITY u(v, i) ORDER BY i", [texts])
        expected = [row[0] for row in cursor.fetchall()]
    assert expected[-1] is None and len(expected) == len(MONEY) + 1
    assert got == expected
    # The same digits after the point too (numeric(14,2) keeps "12.50"; plain numeric keeps DuckDB's scale).
    assert [str(v) for v in got] == [str(v) for v in expected]


def test_every_column_type_of_an_order_goes_in_binary_and_reads_back_unchanged(db):
    duck = duckdb.connect()
    query = (
        "SELECT 'SO-1' AS external_id, CAST(7 AS BIGINT) AS source_row, true AS flag, DATE '2024-02-29' AS d, "
        "CAST(123456789 AS BIGINT) AS big, CAST('1234.5' AS DECIMAL(14, 2)) AS amount, 'ünïcödé, \"quoted\"' AS note "
        "UNION ALL SELECT 'SO-2', NULL, NULL, NULL, NULL, NULL, NULL"
    )
    columns = ["external_id", "source_row", "flag", "d", "big", "amount", "note"]
    with connection.cursor() as cursor:
        _table(
            cursor,
            "external_id varchar(255), source_row integer, flag boolean, d date, big bigint, amount numeric(14,2), "
            "note text",
        )
        rows = _copied(cursor, duck, query, columns)
        pg_types = pg_binary.column_types(cursor, "binary_copy_probe", columns)
    assert pg_binary.binary_schema(duck.sql(query).to_arrow_reader(10).schema, pg_types) is not None
    assert rows == [
        ("SO-1", 7, True, dt.date(2024, 2, 29), 123456789, Decimal("1234.50"), 'ünïcödé, "quoted"'),
        ("SO-2", None, None, None, None, None, None),
    ]


def test_a_value_too_big_for_its_column_fails_the_copy_with_postgresql_s_own_message(db):
    duck = duckdb.connect()
    with connection.cursor() as cursor:
        _table(cursor, "v numeric(14,2)")
        with pytest.raises(psycopg.errors.NumericValueOutOfRange, match="numeric field overflow"):
            copy_rows_from_duckdb(
                cursor, "binary_copy_probe", ["v"], duck, "SELECT CAST('1234567890123.45' AS DECIMAL(18, 2)) AS v"
            )


def test_a_text_too_long_for_its_varchar_fails_the_copy_as_with_csv(db):
    duck = duckdb.connect()
    with connection.cursor() as cursor:
        _table(cursor, "v varchar(3)")
        with pytest.raises(psycopg.errors.StringDataRightTruncation):
            copy_rows_from_duckdb(cursor, "binary_copy_probe", ["v"], duck, "SELECT 'EURO' AS v")


def test_a_column_with_no_binary_encoding_here_sends_the_rows_as_csv(db):
    """Timestamps keep the CSV path: DuckDB's naive values are read in the session's time zone there."""
    duck = duckdb.connect()
    query = "SELECT TIMESTAMP '2024-01-02 03:04:05' AS at, CAST('1.5' AS DECIMAL(14, 2)) AS v"
    with connection.cursor() as cursor:
        _table(cursor, "at timestamptz, v numeric(14,2)")
        pg_types = pg_binary.column_types(cursor, "binary_copy_probe", ["at", "v"])
        assert pg_types == ["timestamptz", "numeric"]
        assert pg_binary.binary_schema(duck.sql(query).to_arrow_reader(10).schema, pg_types) is None
        rows = _copied(cursor, duck, query, ["at", "v"])
    assert rows == [(dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC), Decimal("1.50"))]


def test_numeric_wire_refuses_a_decimal_beyond_64_bits_rather_than_truncate_it():
    array = pa.array([Decimal("12345678901234567890.12")], type=pa.decimal128(38, 2))
    with pytest.raises(OverflowError):
        pg_binary.numeric_wire(array)


def test_a_bulk_load_of_orders_stores_the_amounts_and_dates_of_the_file(db, tmp_path, settings):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    settings.EXECUTION_BULK_MIN_ROWS = 1
    text = "order,date,amount,customer,rep\n" + "".join(
        f"O{n},2024-01-{n:02d},{n * 1000 + n / 100:.2f},K{n % 3},E1\n" for n in range(1, 29)
    )
    job = run(upload_text(tmp_path, text, name="orders.csv"), ORDER_FIELDS)

    assert job.report["bulk_load"] == ["canonical_orders"]
    assert job.report["tables"]["canonical_orders"]["inserted"] == 28
    stored = {o.external_id: (o.order_date, o.amount) for o in Order.objects.all()}
    assert stored["O7"] == (dt.date(2024, 1, 7), Decimal("7000.07"))
    assert stored["O28"] == (dt.date(2024, 1, 28), Decimal("28000.28"))
    assert len(stored) == 28


def test_json_text_goes_in_binary_as_jsonb(db):
    duck = duckdb.connect()
    query = """SELECT '{"region":"Nörd \\"O\\"","profit":12.5}' AS a UNION ALL SELECT '{}' UNION ALL SELECT NULL"""
    assert pg_binary.binary_schema(duck.sql(query).arrow().schema, ["jsonb"]) is not None
    with connection.cursor() as cursor:
        _table(cursor, "a jsonb")
        got = [row[0] for row in _copied(cursor, duck, query, ["a"])]
    assert got == ['{"profit": 12.5, "region": "Nörd \\"O\\""}', "{}", None]
