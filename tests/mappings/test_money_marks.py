"""Money as a statement writes it (issue 18, money18): an unsigned amount signed by its debit / credit marker.

`negate` with `column` and `values` flips the sign only on the rows whose marker column holds one of the values;
it compiles like every step (the column quoted, the values bound): no text of the mapping reaches SQL as text.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from canonical.models import Expense
from mappings.engine.transforms import (
    SqlParams,
    TransformInvalid,
    compile_steps,
    duckdb_install_macros,
    transform_parse,
)
from mappings.forms import TransformStepForm
from mappings.intake.duck import duckdb_connect_locked, quote_ident
from mappings.views.steps import step_view
from tests.mappings.helpers import field, propose_by_column, run, upload_text
from tests.mappings.test_proposer_statements import MARKED, _signed_by_word


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"


@pytest.fixture(scope="module")
def duck(tmp_path_factory):
    path = tmp_path_factory.mktemp("t") / "only.csv"
    path.write_text("v,mark\n1,D\n")
    conn = duckdb_connect_locked(path)
    duckdb_install_macros(conn)
    yield conn
    conn.close()


def apply(duck, value, mark, steps, *, columns=("v", "mark")):
    params = SqlParams()
    expr = compile_steps("v", transform_parse(steps, columns=list(columns)), params)
    names = ", ".join(f"CAST($_{i} AS VARCHAR) AS {quote_ident(c)}" for i, c in enumerate(columns))
    sql = f"SELECT {expr.sql} FROM (SELECT {names})"
    cells = {f"_{i}": v for i, v in enumerate([value, mark, *[None] * (len(columns) - 2)])}
    return duck.execute(sql, {**params.used_by(sql), **cells}).fetchone()[0]


SIGN_BY_MARK = [{"op": "parse_number", "locale": "de"}, {"op": "negate", "column": "mark", "values": ["D"]}]


def test_the_debit_marker_makes_the_amount_money_out(duck):
    assert apply(duck, "827,75", "D", SIGN_BY_MARK) == Decimal("-827.75")
    assert apply(duck, "827,75", " D ", SIGN_BY_MARK) == Decimal("-827.75")  # the marker is read trimmed


def test_the_credit_marker_and_a_missing_marker_leave_the_amount_as_written(duck):
    assert apply(duck, "827,75", "C", SIGN_BY_MARK) == Decimal("827.75")
    assert apply(duck, "827,75", None, SIGN_BY_MARK) == Decimal("827.75")
    assert apply(duck, None, "D", SIGN_BY_MARK) is None


def test_a_marker_value_never_becomes_sql(duck):
    sneaky = "D'); DROP TABLE x; --"
    steps = [{"op": "negate", "column": "mark", "values": [sneaky]}]
    assert apply(duck, "5", sneaky, steps) == Decimal("-5")
    assert apply(duck, "5", "D", steps) == Decimal("5")


def test_a_marker_column_is_quoted_as_a_header_never_read_as_sql(duck):
    column = 'mark" FROM x; --'
    steps = [{"op": "negate", "column": column, "values": ["D"]}]
    assert apply(duck, "5", "D", steps, columns=("v", column)) == Decimal("-5")


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([{"op": "negate", "column": "nope", "values": ["D"]}], "unknown column 'nope'"),
        ([{"op": "negate", "column": "read_csv('/etc/passwd')", "values": ["D"]}], "unknown column"),
        ([{"op": "negate", "column": "mark"}], "give both the column and its values"),
        ([{"op": "negate", "values": ["D"]}], "give both the column and its values"),
        ([{"op": "negate", "column": "mark", "values": []}], "values"),
        ([{"op": "negate", "column": "mark", "values": ["D"], "sql": "1"}], "Extra inputs are not permitted"),
    ],
)
def test_a_marker_step_that_cannot_run_is_refused_naming_the_problem(steps, message):
    with pytest.raises(TransformInvalid, match=message):
        transform_parse(steps, columns=["v", "mark"])


def test_the_review_page_offers_the_marker_as_a_form_not_json():
    form = TransformStepForm(
        data={"op-0-a": "negate", "value-0-a": "D, DR", "columns-0-a": "CreditDebet"}, prefix="0-a"
    )
    assert form.is_valid(), form.errors
    assert form.step == {"op": "negate", "column": "CreditDebet", "values": ["D", "DR"]}
    plain = TransformStepForm(data={"op-0-b": "negate"}, prefix="0-b")
    assert plain.is_valid() and plain.step == {"op": "negate"}
    view = step_view(form.step, key="a", row=0, column={}, columns=["Bedrag", "CreditDebet"])
    assert (view["where_column"], view["where_values"]) == ("CreditDebet", "D, DR")


KNAB = (
    "Transactiedatum;CreditDebet;Bedrag;Tegenrekeninghouder\n"
    '"21-06-2019";"D";"827,75";"Gert Janssen (FR)"\n'
    '"21-06-2019";"C";"827,75";"Gert Janssen"\n'
    '"19-06-2019";"D";"2500";"M JANSSEN"\n'
    '"18-06-2019";"D";"12,10";"Albert Heijn"\n'
)


def test_a_statement_loads_money_out_below_zero_as_its_marker_says(db, tmp_path):
    fields = [
        field("Transactiedatum", "canonical_expenses", "expense_date", [{"op": "parse_date", "format": "%d-%m-%Y"}]),
        field(
            "Bedrag", "canonical_expenses", "amount", SIGN_BY_MARK[:1] + [{**SIGN_BY_MARK[1], "column": "CreditDebet"}]
        ),
        field("Tegenrekeninghouder", "canonical_expenses", "vendor"),
    ]
    job = run(upload_text(tmp_path, KNAB), fields)

    assert job.status == "succeeded", job.error
    assert sorted(Expense.objects.values_list("amount", flat=True)) == [
        Decimal("-2500.00"),
        Decimal("-827.75"),
        Decimal("-12.10"),
        Decimal("827.75"),
    ]


@pytest.mark.django_db
def test_the_proposal_signs_an_unsigned_amount_by_its_debit_credit_marker(tmp_path):
    # Knab-shaped: 'Bedrag' never below zero, 'CreditDebet' D (out) or C (in); before, the amount loaded unsigned.
    path = tmp_path / "knab.csv"
    path.write_text(MARKED)
    _, _, by_col = propose_by_column(path)
    (amount,) = by_col["Bedrag"]
    assert amount["canonical_col"] == "amount"
    assert amount["transform"][-1] == {"op": "negate", "column": "CreditDebet", "values": ["D"]}
    assert "signed by 'CreditDebet'" in amount["reason"]


@pytest.mark.django_db
def test_the_direction_the_balance_confirms_signs_the_amount_too(tmp_path):
    path = tmp_path / "movimenti.csv"
    path.write_text(_signed_by_word())
    _, _, by_col = propose_by_column(path)
    assert by_col["Importo"][0]["transform"][-1] == {"op": "negate", "column": "Segno", "values": ["Uscita"]}


@pytest.mark.django_db
def test_a_signed_amount_gets_no_marker_step(tmp_path):
    # A statement whose amount carries its own sign has nothing to flip.
    path = tmp_path / "knab.csv"
    signed = MARKED.replace(";D;", ";X;").replace(";C;", ";X;")
    path.write_text(signed)
    _, _, by_col = propose_by_column(path)
    assert not any(s.get("op") == "negate" for p in by_col["Bedrag"] for s in p.get("transform") or [])
