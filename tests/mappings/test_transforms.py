from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest

from mappings.engine.transforms import (
    SqlParams,
    TransformInvalid,
    cast_to,
    compile_steps,
    transform_parse,
)
from mappings.intake.duck import duckdb_connect_locked
from tests.mappings.helpers import transforms_duck


@pytest.fixture(scope="module")
def duck(tmp_path_factory):
    with transforms_duck(tmp_path_factory.mktemp("t"), "v,first,last,alt\nx,Ada,Lovelace,\n") as conn:
        yield conn


def apply(duck, value, steps, *, first="Ada", last="Lovelace", alt=None, to=None):
    parsed = transform_parse(steps, columns=["v", "first", "last", "alt"])
    params = SqlParams()
    expr = compile_steps("v", parsed, params)
    if to:
        expr = cast_to(expr, to, params)
    params.values.update({"_v": value, "_first": first, "_last": last, "_alt": alt})
    sql = (
        f"SELECT {expr.sql} FROM (SELECT CAST($_v AS VARCHAR) AS v, CAST($_first AS VARCHAR) AS first, "
        "CAST($_last AS VARCHAR) AS last, CAST($_alt AS VARCHAR) AS alt)"
    )
    return duck.execute(sql, params.values).fetchone()[0]


def test_text_steps(duck):
    assert apply(duck, "  Hello  ", [{"op": "trim"}]) == "Hello"
    assert apply(duck, "MiXed", [{"op": "upper"}]) == "MIXED"
    assert apply(duck, "MiXed", [{"op": "lower"}]) == "mixed"
    assert apply(duck, "jean-luc PICARD", [{"op": "title"}]) == "Jean-luc Picard"
    assert apply(duck, "a|b|c", [{"op": "split_part", "separator": "|", "index": 2}]) == "b"
    assert apply(duck, "a", [{"op": "hash"}]) == "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"


def test_blank_and_null_markers_are_missing_values(duck):
    assert apply(duck, "", []) is None
    assert apply(duck, "NULL", []) is None
    assert apply(duck, "   ", [{"op": "trim"}]) is None
    assert apply(duck, "  null ", []) is None
    assert apply(duck, "\\N", []) is None
    assert apply(duck, " NULLS ", []) == " NULLS "


@pytest.mark.parametrize(
    ("raw", "locale", "expected"),
    [
        ("1,234.56", "en", Decimal("1234.56")),
        ("$1,234.56", "en", Decimal("1234.56")),
        ("(12.00)", "en", Decimal("-12.00")),
        ("12.5%", "en", Decimal("0.125")),
        ("-3", "en", Decimal("-3")),
        ("1.234,56", "de", Decimal("1234.56")),
        ("1.234,56 €", "de", Decimal("1234.56")),
        ("12,5", "de", Decimal("12.5")),
        ("1.234,56", "auto", Decimal("1234.56")),
        ("1,234.56", "auto", Decimal("1234.56")),
        ("EUR 12.50", "auto", Decimal("12.50")),
        ("abc", "auto", None),
        # Plain numbers take a single cast; the same value either way.
        ("1234.56", "en", Decimal("1234.56")),
        ("-0.5", "auto", Decimal("-0.5")),
        ("1.234", "auto", Decimal("1.234")),
        ("1.234.567", "auto", Decimal("1234567")),
    ],
)
def test_parse_number_locales(duck, raw, locale, expected):
    assert apply(duck, raw, [{"op": "parse_number", "locale": locale}]) == expected


@pytest.mark.parametrize(
    ("raw", "fmt", "expected"),
    [
        ("24.12.2023", "%d.%m.%Y", dt.date(2023, 12, 24)),
        ("12/24/2023", "%m/%d/%Y", dt.date(2023, 12, 24)),
        ("2023-12-24 13:45:00.000", "%Y-%m-%d %H:%M:%S.%f", dt.date(2023, 12, 24)),
        ("24.12.2023", "auto", dt.date(2023, 12, 24)),
        ("1996-07-04 00:00:00.000", "auto", dt.date(1996, 7, 4)),
        ("31.02.2023", "%d.%m.%Y", None),
    ],
)
def test_parse_date_formats(duck, raw, fmt, expected):
    assert apply(duck, raw, [{"op": "parse_date", "format": fmt}], to="date") == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("yes", True),
        ("N", False),
        ("true", True),
        ("0", False),
        ("Ja", True),
        ("nein", False),
        ("oui", True),
        ("non", False),
        ("sí", True),
        ("no", False),
        ("maybe", None),
    ],
)
def test_parse_bool_in_several_languages(duck, raw, expected):
    assert apply(duck, raw, [{"op": "parse_bool"}]) is expected


def test_parse_bool_with_own_values(duck):
    steps = [{"op": "parse_bool", "true_values": ["paid"], "false_values": ["open"]}]
    assert apply(duck, "PAID", steps) is True
    assert apply(duck, "open", steps) is False


def test_cast_is_strict(duck):
    assert apply(duck, "42", [{"op": "cast", "type": "integer"}]) == 42
    assert apply(duck, "4.2", [{"op": "cast", "type": "integer"}]) is None
    assert apply(duck, "4.25", [{"op": "cast", "type": "money"}]) == Decimal("4.25")
    assert apply(duck, "1,5", [{"op": "cast", "type": "number"}]) is None
    assert apply(duck, "2023-01-02", [{"op": "cast", "type": "date"}]) == dt.date(2023, 1, 2)
    assert apply(duck, "true", [{"op": "cast", "type": "boolean"}]) is True
    assert apply(duck, "x", [{"op": "cast", "type": "text"}]) == "x"


def test_concat_coalesce_map_values_constant(duck):
    assert apply(duck, "Ada", [{"op": "concat", "columns": ["last"], "separator": " "}]) == "Ada Lovelace"
    assert apply(duck, None, [{"op": "coalesce", "columns": ["alt", "first"]}]) == "Ada"
    status_map = {"op": "map_values", "map": {"P": "paid", "O": "open"}, "default": "other"}
    assert apply(duck, "P", [status_map]) == "paid"
    assert apply(duck, "Z", [status_map]) == "other"
    assert apply(duck, "Z", [{"op": "map_values", "map": {"P": "paid"}}]) == "Z"
    assert apply(duck, "x", [{"op": "constant", "value": "USD"}]) == "USD"


def test_values_never_become_sql(duck):
    sneaky = "'); DROP TABLE x; --"
    assert apply(duck, sneaky, [{"op": "concat", "columns": ["last"], "separator": sneaky}]) == (
        sneaky + sneaky + "Lovelace"
    )


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([{"op": "read_csv", "path": "/etc/passwd"}], "unknown op 'read_csv'"),
        ([{"op": "concat", "columns": ["read_csv('/etc/passwd')"]}], "unknown column"),
        ([{"op": "parse_number", "locale": "fr"}], "locale"),
        ([{"op": "trim", "sql": "1"}], "Extra inputs are not permitted"),
        ([{"op": "split_part", "separator": ","}], "index"),
        ("trim", "must be a list"),
    ],
)
def test_invalid_transforms_are_refused_with_a_clear_message(steps, message):
    with pytest.raises(TransformInvalid, match=message):
        transform_parse(steps, columns=["v"])


def test_duckdb_refuses_to_read_any_other_file(tmp_path):
    allowed = tmp_path / "upload.csv"
    allowed.write_text("a\n1\n")
    other = tmp_path / "secret.csv"
    other.write_text("password\nhunter2\n")
    conn = duckdb_connect_locked(allowed)

    assert conn.execute("SELECT count(*) FROM read_csv(?)", [str(allowed)]).fetchone()[0] == 1
    with pytest.raises(duckdb.PermissionException):
        conn.execute("SELECT * FROM read_csv(?)", [str(other)])
    with pytest.raises(duckdb.Error):
        conn.execute("SET enable_external_access = true")
    with pytest.raises(duckdb.Error):
        conn.execute("INSTALL httpfs")
