"""Money as a statement writes it (issue 18, money18): an unsigned amount signed by its debit / credit marker.

`negate` with `column` and `values` flips the sign only on the rows whose marker column holds one of the values;
it compiles like every step (the column quoted, the values bound): no text of the mapping reaches SQL as text.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from canonical.models import Expense
from mappings.engine.transforms import (
    SqlParams,
    TransformInvalid,
    compile_steps,
    transform_parse,
)
from mappings.forms import ReviewOptionsForm, TransformStepForm
from mappings.intake.dialect import sniff_file
from mappings.intake.duck import quote_ident
from mappings.models import DataSource, RejectedRow
from mappings.profiling.profile import profile_file
from mappings.proposer.propose import proposed_grain
from mappings.services.execute import preview_skipped_rows, transform_preview
from mappings.services.ingest import ingest_file
from mappings.services.mapping import mapping_validate
from mappings.views.steps import step_view
from tests.mappings.helpers import field, propose_by_column, run, transforms_duck, upload_text
from tests.mappings.test_proposer_statements import MARKED, _signed_by_word


@pytest.fixture(scope="module")
def duck(tmp_path_factory):
    with transforms_duck(tmp_path_factory.mktemp("t"), "v,mark\n1,D\n") as conn:
        yield conn


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


# Swedbank-shaped: a row-type code beside the movements (10 opening balance, 20 movement, 82 turnover, 86 closing
# balance); only the movements carry an entry number. Unsigned amounts with a D / K marker.
SWEDBANK = (
    '"Account","","Date","Payee","Details","Amount","Currency","D/K","Entry","Code"\n'
    '"LT01","10","2012-01-01","","Opening","2123.82","LTL","K","","AS"\n'
    '"LT01","20","2012-01-02","Cafe","PURCHASE 1","14.34","LTL","D","2012010200041787","K"\n'
    '"LT01","20","2012-01-02","Shop","PURCHASE 2","215.00","LTL","D","2012010200228849","K"\n'
    '"LT01","20","2012-01-10","Company","Salary","1600.00","LTL","K","2012011000673562","MK"\n'
    '"LT01","20","2012-01-26","Bar","PURCHASE 3","12.20","LTL","D","2012012600096815","K"\n'
    '"LT01","20","2012-02-29","","CASH 300.00","300.00","LTL","D","2012022900875660","K"\n'
    '"LT01","82","2012-01-31","","Turnover","541.54","LTL","D","","K2"\n'
    '"LT01","82","2012-01-31","","Turnover","1600.00","LTL","K","","K2"\n'
    '"LT01","86","2012-01-31","","Closing","3182.28","LTL","K","","LS"\n'
)


def test_rows_of_a_kind_that_never_carries_the_movement_s_entry_are_summary_rows(tmp_path):
    path = tmp_path / "swedbank.csv"
    path.write_text(SWEDBANK)
    profile = profile_file(path=path, dialect=sniff_file(path).as_json())
    # The kind is the code with the fewest values ('Code' splits the rows the same way with more); the payee
    # is a name, empty on a cash withdrawal too: no reference.
    assert profile["grain"]["summary_rows"] == {
        "kind": "column1",
        "values": ["10", "82", "86"],
        "reference": "Entry",
        "rows": 4,
    }


def test_a_reference_on_every_row_leaves_no_summary_rows(tmp_path):
    path = tmp_path / "swedbank.csv"
    rows = SWEDBANK.splitlines()
    path.write_text("\n".join([rows[0], *rows[2:7]]) + "\n")  # the movements only
    profile = profile_file(path=path, dialect=sniff_file(path).as_json())
    assert profile["grain"]["summary_rows"] is None


# Outbank-shaped: a standing-order credit (posting key 052) carries no direct-debit mandate, the debits (005) do.
STANDING_ORDER = (
    "#;Date;Amount;Currency;Name;Posting Key;Posting Text;Mandate Identification\n"
    '1;2/20/19;100,00;EUR;"Jane Doe";"052";"Gutschrift aus Dauerauftrag";\n'
    '2;2/8/19;-63,89;EUR;"Shell Gas";"005";"Lastschrifteinzug";"0001-200000000000"\n'
    '3;2/7/19;-47,00;EUR;"Telekom";"005";"Lastschrifteinzug";"A012345-67890"\n'
    '4;2/5/19;-25,00;EUR;"Gym";"005";"Lastschrifteinzug";"B012345-67890"\n'
)


def test_one_kind_of_movement_without_a_mandate_is_a_movement_not_a_balance_line(tmp_path):
    path = tmp_path / "outbank.csv"
    path.write_text(STANDING_ORDER)
    assert _profile_of(path)["grain"]["summary_rows"] is None


def _profile_of(path):
    return profile_file(path=path, dialect=sniff_file(path).as_json())


@pytest.mark.django_db
def test_a_statement_s_balance_lines_are_proposed_to_be_left_out(tmp_path):
    path = tmp_path / "swedbank.csv"
    path.write_text(SWEDBANK)
    dialect = sniff_file(path).as_json()
    profile = profile_file(path=path, dialect=dialect)
    grain = proposed_grain(file=path.name, profile=profile, dialect=dialect)
    assert grain["table"] == "canonical_expenses"
    assert grain["skip_rows"]["column"] == "column1"
    assert grain["skip_rows"]["values"] == ["10", "82", "86"]
    assert "carry no 'Entry'" in grain["skip_rows"]["reason"]


@pytest.mark.django_db
def test_ingest_auto_loads_the_movements_signed_and_says_how_many_balance_lines_it_left_out(tmp_path):
    path = tmp_path / "swedbank.csv"
    path.write_text(SWEDBANK)
    _, job = ingest_file(path=path, user=None, auto=True)

    assert job.status == "succeeded", job.error
    amounts = sorted(Expense.objects.values_list("amount", flat=True))
    assert amounts == [Decimal(a) for a in ("-300.00", "-215.00", "-14.34", "-12.20", "1600.00")]
    assert job.report["skipped_rows"]["rows"] == 4
    assert any("4 row(s) left out, not loaded" in w for w in job.report["warnings"])


BALANCE_LINES = (
    "kind,date,amount\nopen,2024-01-01,100.00\nmove,2024-01-02,5.00\nmove,2024-01-03,bad\nclose,2024-01-31,95\n"
)
SKIP = {"column": "kind", "values": ["open", "close"], "reason": "balance lines"}
EXPENSE_FIELDS = [field("date", "canonical_expenses", "expense_date"), field("amount", "canonical_expenses", "amount")]


def test_rows_left_out_are_neither_loaded_nor_rejected_and_rejected_rows_keep_their_line(db, tmp_path):
    job = run(upload_text(tmp_path, BALANCE_LINES), EXPENSE_FIELDS, {"skip_rows": SKIP})

    assert job.status == "succeeded", job.error
    assert list(Expense.objects.values_list("amount", flat=True)) == [Decimal("5.00")]
    assert job.report["tables"]["canonical_expenses"]["rejected"] == 1
    assert [r.source_row for r in RejectedRow.objects.filter(job=job)] == [4]  # 'bad', line 4 of the file
    assert job.report["skipped_rows"] == {**SKIP, "rows": 2}
    assert "2 row(s) left out, not loaded: balance lines ('kind' is open, close)" in job.report["warnings"]


def test_without_the_option_every_row_loads(db, tmp_path):
    job = run(upload_text(tmp_path, BALANCE_LINES), EXPENSE_FIELDS)
    assert Expense.objects.count() == 3
    assert "skipped_rows" not in job.report


def test_a_left_out_value_never_becomes_sql(db, tmp_path):
    sneaky = "open'); DROP TABLE canonical_expenses; --"
    text = BALANCE_LINES.replace("open,", f'"{sneaky}",')
    job = run(upload_text(tmp_path, text), EXPENSE_FIELDS, {"skip_rows": {**SKIP, "values": [sneaky]}})
    assert job.status == "succeeded", job.error
    assert job.report["skipped_rows"]["rows"] == 1
    assert Expense.objects.count() == 2


def test_the_preview_shows_the_movements_only_and_says_how_many_rows_it_leaves_out(db, tmp_path):
    # The preview and the load agree: the balance lines a load leaves out are no preview rows either.
    source = upload_text(tmp_path, BALANCE_LINES)

    rows = transform_preview(source=source, fields=EXPENSE_FIELDS, options={"skip_rows": SKIP})

    assert [(r["source_row"], r["values"]["amount"]) for r in rows] == [(3, "5.00"), (4, None)]  # lines of the file
    assert rows[1]["errors"]  # 'bad' is still shown rejected, as the load rejects it
    skipped = preview_skipped_rows(source=source, options={"skip_rows": SKIP})
    assert skipped["rows"] == 2 and skipped["reason"] == "balance lines"
    assert skipped["warning"] == "2 row(s) left out, not loaded: balance lines ('kind' is open, close)"
    assert preview_skipped_rows(source=source, options={}) is None


def test_the_preview_reads_past_rows_left_out_to_show_its_rows(db, tmp_path):
    text = "kind,date,amount\n" + "total,2024-01-01,1.00\n" * 30 + "move,2024-01-02,5.00\nmove,2024-01-03,6.00\n"
    source = upload_text(tmp_path, text)

    rows = transform_preview(
        source=source, fields=EXPENSE_FIELDS, limit=1, options={"skip_rows": {**SKIP, "values": ["total"]}}
    )

    assert [(r["source_row"], r["values"]["amount"]) for r in rows] == [(32, "5.00")]


def test_the_review_preview_leaves_out_the_balance_lines_and_says_why(db, client, executive, tmp_path):
    source = upload_text(tmp_path, BALANCE_LINES, user=executive)
    client.force_login(executive)
    data = {"rows": "2", "on_missing_reference": "placeholder", "skip_rows_on": "on", "skip_rows_column": "kind"}
    data.update({"skip_rows_reason": "balance lines", "skip_rows_value": ["open", "close"]})
    for i, f in enumerate(EXPENSE_FIELDS):
        target = f"{f['canonical_table']}.{f['canonical_col']}"
        data.update(
            {f"source_col-{i}": f["source_col"], f"target-{i}": target, f"transform-{i}": "", f"pii-{i}": "keep"}
        )

    body = client.post(f"/uploads/{source.pk}/review/preview/", data, HTTP_HX_REQUEST="true").content.decode()

    note = re.search(r'data-testid="preview-skipped">(.*?)</p>', body, re.S).group(1)
    assert "2 row(s) left out, not loaded: balance lines" in note
    table = re.search(r'data-testid="preview-table">(.*?)</table>', body, re.S).group(1)
    lines = re.findall(r"<tr><td>(\d+)</td>", table)
    assert lines == ["3", "4"]
    assert "100.00" not in table and "2024-01-31" not in table

    del data["skip_rows_on"]  # unticked: every row is previewed, as every row loads
    body = client.post(f"/uploads/{source.pk}/review/preview/", data, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="preview-skipped"' not in body
    assert re.findall(r"<tr><td>(\d+)</td>", body) == ["2", "3", "4", "5"]


@pytest.mark.parametrize(
    ("skip", "message"),
    [
        ({"column": "nope", "values": ["x"]}, "column 'nope' is not a header"),
        ({"column": "read_csv('/etc/passwd')", "values": ["x"]}, "is not a header"),
        ({"column": "kind", "values": []}, "values must be a list"),
        ({"column": "kind", "values": [{"a": 1}]}, "each value must be"),
        ({"column": "kind", "values": ["x"], "sql": "1"}, "must be null or"),
        ("kind", "must be null or"),
    ],
)
def test_a_bad_skip_rows_option_is_refused_naming_the_problem(db, tmp_path, skip, message):
    source = upload_text(tmp_path, BALANCE_LINES)
    errors = mapping_validate(source=source, fields=EXPENSE_FIELDS, options={"skip_rows": skip})
    assert any(message in e for e in errors), errors


def test_the_review_page_keeps_the_rows_left_out_while_their_box_is_ticked():
    from django.http import QueryDict

    posted = QueryDict(mutable=True)
    posted.update({"on_missing_reference": "placeholder", "skip_rows_column": "kind", "skip_rows_reason": "balances"})
    posted.setlist("skip_rows_value", ["open", "close"])
    unticked = ReviewOptionsForm(posted.copy())
    assert unticked.is_valid() and "skip_rows" not in unticked.options()
    posted["skip_rows_on"] = "on"
    ticked = ReviewOptionsForm(posted)
    assert ticked.is_valid()
    assert ticked.options()["skip_rows"] == {"column": "kind", "values": ["open", "close"], "reason": "balances"}


def test_the_review_page_offers_to_leave_out_a_statement_s_balance_lines_ticked(db, client, executive, tmp_path):
    path = tmp_path / "swedbank.csv"
    path.write_text(SWEDBANK)
    client.force_login(executive)
    client.post("/uploads/", {"file": path.open("rb")})
    source = DataSource.objects.get(name=path.name)

    body = client.get(f"/uploads/{source.pk}/review/").content.decode()

    offer = re.search(r'<label data-testid="skip-rows">(.*?)</label>', body, re.S).group(1)
    assert 'name="skip_rows_on" checked' in offer
    assert "<code>10</code>, <code>82</code>, <code>86</code>" in offer
    assert '<input type="hidden" name="skip_rows_value" value="82">' in body


@pytest.mark.django_db
def test_a_second_statement_of_the_same_layout_loads_signed_once_more(tmp_path):
    # The second file reuses the mapping learned from the first (its attributes, its marker step): neither a
    # crash on a learned attribute nor a second flip of the sign.
    first, second = tmp_path / "jan.csv", tmp_path / "feb.csv"
    first.write_text(SWEDBANK)
    second.write_text(SWEDBANK.replace("2012010200041787", "2012030200041787").replace("14.34", "16.00"))
    ingest_file(path=first, user=None, auto=True)
    _, job = ingest_file(path=second, user=None, auto=True)

    assert job.status == "succeeded", job.error
    amounts = set(Expense.objects.values_list("amount", flat=True))
    assert {Decimal("-16.00"), Decimal("-14.34"), Decimal("-215.00"), Decimal("1600.00")} <= amounts
    assert not any(a in amounts for a in (Decimal("16.00"), Decimal("215.00")))
