"""Bank and card statements (issue 18, bank18): read from the whole file, not a header word. A running balance
moves by each row's amount (or by credit − debit), in file order or newest first; a debit and a credit never
both set, with no ledger account that varies, are one account's money out and in. Such rows are the owner's
spending: expenses."""

from __future__ import annotations

import pytest

from mappings.profiling.profile import profile_file
from tests.mappings.helpers import propose_by_column
from tests.mappings.test_auto_gate import _gate

# A checking account, newest first: the balance after each row, a withdrawal or a deposit on each row; the
# headers are a bank's own words ("Paid out", "Paid in", "Saldo"), none an amount's synonym.
MOVES = [(0, 2450.0), (-120.5, 0), (-33.2, 0), (0, 80.0), (-615.0, 0), (-12.99, 0), (-48.1, 0), (0, 300.0)]


def _checking() -> str:
    balance, rows = 1000.0, []
    for day, (out, into) in enumerate(MOVES, start=1):
        balance += out + into
        paid_out = f"{-out:.2f}" if out else ""
        paid_in = f"{into:.2f}" if into else ""
        rows.append(f"2024-03-{day:02d},PAYEE {day},{paid_out},{paid_in},{balance:.2f}")
    return "Posted,Details,Paid out,Paid in,Saldo\n" + "\n".join(reversed(rows)) + "\n"


def _targets(by_col, column) -> set[str]:
    return {f"{p['canonical_table']}.{p['canonical_col']}" for p in by_col[column] if p["canonical_table"]}


def test_a_running_balance_is_found_from_the_rows_newest_first(tmp_path):
    path = tmp_path / "checking.csv"
    path.write_text(_checking())
    profile = profile_file(path=path, dialect={"delimiter": ","})
    assert profile["grain"]["balances"] == [{"balance": "Saldo", "credit": "Paid in", "debit": "Paid out"}]


def test_a_row_number_beside_a_constant_is_no_running_balance(tmp_path):
    path = tmp_path / "lines.csv"
    path.write_text("line,qty,price\n" + "".join(f"{i},1,{3 + i * 1.5:.2f}\n" for i in range(1, 12)))
    profile = profile_file(path=path, dialect={"delimiter": ","})
    assert profile["grain"]["balances"] == []


@pytest.mark.django_db
def test_a_statement_with_a_running_balance_is_spending_and_its_balance_no_amount(tmp_path):
    path = tmp_path / "checking.csv"
    path.write_text(_checking())
    _, _, by_col = propose_by_column(path)
    assert _targets(by_col, "Paid out") == {"canonical_expenses.amount"}
    assert by_col["Paid out"][0]["confidence"] >= 0.7
    assert _targets(by_col, "Saldo") == set()
    assert _targets(by_col, "Paid in") == set()
    assert _targets(by_col, "Posted") == {"canonical_expenses.expense_date"}


CARD = (
    "Transaction Date,Posted Date,Card No.,Description,Category,Debit,Credit\n"
    + "".join(f"2024-01-{d:02d},2024-01-{d + 1:02d},1234,SHOP {d},Dining,{12.5 + d:.2f},\n" for d in range(1, 9))
    + "2024-01-20,2024-01-21,1234,AUTOPAY PAYMENT,Payment/Credit,,250.00\n"
)


@pytest.mark.django_db
def test_a_card_s_debit_and_credit_without_ledger_accounts_are_a_statement_not_postings(tmp_path):
    path = tmp_path / "card.csv"
    path.write_text(CARD)
    accepted, problems = _gate(path)
    assert not any("double-entry ledger" in p for p in problems), problems
    _, _, by_col = propose_by_column(path)
    assert _targets(by_col, "Debit") == {"canonical_expenses.amount"}
    assert _targets(by_col, "Transaction Date") == {"canonical_expenses.expense_date"}


@pytest.mark.django_db
def test_postings_to_several_ledger_accounts_stay_a_ledger(tmp_path):
    path = tmp_path / "ledger.csv"
    path.write_text(
        "Date,Account Name,Debit,Credit\n"
        + "".join(
            f"2024-01-{d:02d},Sales,,{100 + d}.00\n2024-01-{d:02d},Receivables,{100 + d}.00,\n" for d in range(1, 6)
        )
    )
    _, problems = _gate(path)
    assert any("double-entry ledger" in p for p in problems), problems


# An app's export of one account: a signed amount, mostly money out, the own account on every row, the other
# party under a bare "Name".
SIGNED = "#;Account;Date;Value Date;Amount;Currency;Name;Reason;Category\n" + "".join(
    f"{d};DE81254326973657190105;2/{d}/19;2/{d}/19;{'' if d % 4 == 0 else '-'}{10 + d * 3},{d:02d};EUR;Shop {d % 5};"
    f"Purchase {d};Travel {d % 3}\n"
    for d in range(1, 13)
)


@pytest.mark.django_db
def test_payments_that_are_mostly_below_zero_are_money_paid_out_to_the_named_party(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(SIGNED)
    profile, _, by_col = propose_by_column(path)
    assert profile["grain"]["negative_share"] == {"Amount": 0.75}
    assert _targets(by_col, "Amount") == {"canonical_expenses.amount"}
    assert _targets(by_col, "Date") == {"canonical_expenses.expense_date"}
    assert _targets(by_col, "Name") == {"canonical_expenses.vendor"}
    assert _targets(by_col, "Account") == set()


@pytest.mark.django_db
def test_money_received_is_not_spending_when_few_amounts_are_below_zero(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(SIGNED.replace(";-", ";").replace(";1", ";-1", 2))
    _, _, by_col = propose_by_column(path)
    assert _targets(by_col, "Amount") and _targets(by_col, "Amount") != {"canonical_expenses.amount"}


def test_an_id_in_the_millions_beside_a_rate_is_no_running_balance(tmp_path):
    # A retailer's id repeats over runs of rows; a margin of 0.35 is no cent-exact step of a seven-digit id.
    path = tmp_path / "sales.csv"
    path.write_text(
        "retailer_id,units,margin\n" + "".join(f"{1185732 + (i // 20) * 3},{10 + i},0.{3 + i % 5}\n" for i in range(60))
    )
    profile = profile_file(path=path, dialect={"delimiter": ","})
    assert profile["grain"]["balances"] == []
