"""Arithmetic transforms: multiply, divide, add, subtract, round, abs, negate over columns and constants."""

from __future__ import annotations

from decimal import Decimal

import pytest

from canonical.models import OrderLine
from mappings.engine.transforms import (
    ALLOWED_OPS,
    SqlParams,
    TransformInvalid,
    compile_steps,
    transform_parse,
)
from mappings.models import RejectedRow
from tests.mappings.helpers import field, run, transforms_duck, upload_text


@pytest.fixture(scope="module")
def duck(tmp_path_factory):
    with transforms_duck(tmp_path_factory.mktemp("t"), "v,first,last\n1,2,3\n") as conn:
        yield conn


def apply(duck, value, steps, *, first="4", last="2"):
    """The value after `steps`, with columns `first` and `last` of the same row."""
    params = SqlParams()
    expr = compile_steps("v", transform_parse(steps, columns=["v", "first", "last"]), params)
    sql = (
        f"SELECT {expr.sql} FROM (SELECT CAST($_v AS VARCHAR) AS v, CAST($_first AS VARCHAR) AS first, "
        "CAST($_last AS VARCHAR) AS last)"
    )
    return duck.execute(sql, {**params.used_by(sql), "_v": value, "_first": first, "_last": last}).fetchone()[0]


def test_every_arithmetic_op_is_in_the_allow_list():
    assert {"multiply", "divide", "add", "subtract", "round", "abs", "negate"} <= set(ALLOWED_OPS)


@pytest.mark.parametrize(
    ("value", "steps", "expected"),
    [
        ("3", [{"op": "multiply", "value": "2.5"}], Decimal("7.5")),
        ("3", [{"op": "multiply", "columns": ["first"]}], Decimal("12")),  # first = 4
        ("3", [{"op": "multiply", "columns": ["first", "last"], "value": 2}], Decimal("48")),
        ("10", [{"op": "divide", "value": 4}], Decimal("2.5")),
        ("10", [{"op": "divide", "columns": ["first"]}], Decimal("2.5")),
        ("10", [{"op": "add", "columns": ["first"], "value": "0.25"}], Decimal("14.25")),
        ("10", [{"op": "subtract", "columns": ["last"]}], Decimal("8")),  # last = 2
        ("2.675", [{"op": "round", "places": 2}], Decimal("2.68")),
        ("2.5", [{"op": "round"}], Decimal("3")),
        ("-4.20", [{"op": "abs"}], Decimal("4.2")),
        ("4.20", [{"op": "negate"}], Decimal("-4.2")),
        ("1,234.50", [{"op": "multiply", "value": 2}], Decimal("2469")),  # text is read as parse_number auto
        ("100", [{"op": "divide", "value": 3}, {"op": "round", "places": 2}], Decimal("33.33")),
        (None, [{"op": "multiply", "value": 2}], None),  # a missing value stays missing
    ],
)
def test_arithmetic_steps(duck, value, steps, expected):
    assert apply(duck, value, steps) == expected


def test_division_by_zero_gives_no_value(duck):
    assert apply(duck, "10", [{"op": "divide", "columns": ["first"]}], first="0") is None
    assert apply(duck, "10", [{"op": "divide", "value": 0}]) is None


def test_an_overflowing_product_gives_no_value_instead_of_failing(duck):
    assert apply(duck, "1" + "0" * 20, [{"op": "multiply", "value": "1" + "0" * 10}]) is None


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([{"op": "multiply"}], "give the columns or the value"),
        ([{"op": "divide", "columns": ["nope"]}], "unknown column 'nope'"),
        ([{"op": "add", "value": "abc"}], "value"),
        ([{"op": "round", "places": 9}], "places"),
        ([{"op": "negate", "value": 1}], "Extra inputs are not permitted"),
        ([{"op": "multiply", "value": "NaN"}], "value"),
    ],
)
def test_invalid_arithmetic_is_refused_with_a_clear_message(steps, message):
    with pytest.raises(TransformInvalid, match=message):
        transform_parse(steps, columns=["v", "qty"])


NET = "order,product,qty,sales\nO1,P1,4,100.00\nO2,P1,0,50.00\nO3,P2,abc,10.00\nO4,P2,2,n/a\n"


def price_fields() -> list[dict]:
    return [
        field("order", "canonical_order_lines", "order_id"),
        field("product", "canonical_order_lines", "product_id"),
        field("qty", "canonical_order_lines", "quantity"),
        field("sales", "canonical_order_lines", "amount"),
        # The unit price a file without one implies: the net line total divided by the quantity.
        field("sales", "canonical_order_lines", "unit_price", [{"op": "divide", "columns": ["qty"]}]),
    ]


def test_a_division_by_zero_is_a_rejected_row_with_its_reason(db, tmp_path):
    job = run(upload_text(tmp_path, NET), price_fields())

    assert job.status == "succeeded", job.error
    assert OrderLine.objects.get(order__external_id="O1").unit_price == Decimal("25.00")
    reasons = {r.source_row: (r.column, r.reason) for r in RejectedRow.objects.filter(job=job)}
    assert reasons[3] == ("sales", "divide: division by zero")


def test_a_non_numeric_value_in_an_arithmetic_step_is_a_rejected_row_naming_the_column(db, tmp_path):
    job = run(upload_text(tmp_path, NET), price_fields())

    rejected = RejectedRow.objects.filter(job=job)
    by_row: dict[int, list[str]] = {}
    for r in rejected:
        by_row.setdefault(r.source_row, []).append(r.reason)
    assert "divide: column 'qty' is not a number" in by_row[4]
    assert "divide: not a number" in by_row[5]
    assert job.report["tables"]["canonical_order_lines"]["rejected"] == 3
    assert OrderLine.objects.count() == 1
