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


# statements18b: a bank's direction column. Knab-shaped: an unsigned amount with a decimal comma beside a column
# of two values, D (money out) and C (money in); three dates (transaction, value, booking); one currency.
MARKED = (
    "Rekeningnummer;Transactiedatum;Valutacode;CreditDebet;Bedrag;Tegenrekeninghouder;Valutadatum;Boekdatum\n"
    + "".join(
        f"NL99KNAB9999999999;{d:02d}-06-2019;EUR;{'D' if d % 3 else 'C'};{d * 37},{d % 10}5;PARTY {d % 4};"
        f"{d + 1:02d}-06-2019;{d + 1:02d}-06-2019\n"
        for d in range(1, 13)
    )
)


@pytest.mark.django_db
def test_an_unsigned_amount_beside_a_debit_credit_marker_is_a_statement(tmp_path):
    # Without the marker reading the amount went to payments ("Bedrag" resembles "Betrag") and no date was mapped.
    path = tmp_path / "knab.csv"
    path.write_text(MARKED)
    _, _, by_col = propose_by_column(path)
    assert _targets(by_col, "Bedrag") == {"canonical_expenses.amount"}
    assert "'CreditDebet' marks every row 'D' (out) or 'C' (in)" in by_col["Bedrag"][0]["reason"]
    assert _targets(by_col, "CreditDebet") == set()
    assert _targets(by_col, "Transactiedatum") == {"canonical_expenses.expense_date"}
    # One currency code on every row, whatever its header ('valuta' is also a value date's word).
    assert _targets(by_col, "Valutacode") == {"canonical_expenses.currency"}


@pytest.mark.django_db
def test_two_values_that_mark_no_direction_make_no_statement(tmp_path):
    path = tmp_path / "knab.csv"
    path.write_text(MARKED.replace(";D;", ";Y;").replace(";C;", ";N;"))
    _, _, by_col = propose_by_column(path)
    assert _targets(by_col, "Bedrag") != {"canonical_expenses.amount"}


def test_a_booking_day_is_not_after_the_payment_s_time_on_that_day(tmp_path):
    # OTP-shaped: the transaction's timestamp, then its booking date (empty while pending).
    path = tmp_path / "otp.csv"
    path.write_text(
        "Tranzakció időpontja,Könyvelés dátuma,Összeg\n"
        + "".join(f"2024-01-{d:02d} {8 + d % 9:02d}:15:00,2024-01-{d:02d},-{d * 990}\n" for d in range(1, 10))
        + "2024-01-20 00:00:00,,-999\n"
    )
    profile = profile_file(path=path, dialect={"delimiter": ","})
    order = profile["grain"]["date_order"]
    assert "Könyvelés dátuma" in order["Tranzakció időpontja"]
    assert "Tranzakció időpontja" in order["Könyvelés dátuma"]


REVOLUT = (
    "Type,Product,Started Date,Description,Amount,Currency\n"
    + "".join(f"CARD_PAYMENT,Current,2022-01-{d:02d} 12:16:54,Shop {d},-{d * 3}.{d:02d},EUR\n" for d in range(1, 9))
    + "TOPUP,Current,2022-01-20 08:11:42,Top-Up by *1234,500.00,EUR\n"
)


@pytest.mark.django_db
def test_one_value_on_every_row_is_not_the_other_party_of_the_movements(tmp_path):
    # "Product" (always 'Current') reads as a name; it was the vendor, leaving the merchants unmapped.
    path = tmp_path / "revolut.csv"
    path.write_text(REVOLUT)
    _, _, by_col = propose_by_column(path)
    assert _targets(by_col, "Amount") == {"canonical_expenses.amount"}
    assert _targets(by_col, "Product") == set()
    assert _targets(by_col, "Description") == {"canonical_expenses.vendor"}


def _signed_by_word() -> str:
    # Italian-shaped: an unsigned amount, a direction in words no list holds ('Uscita' out, 'Entrata' in), and
    # the balance after each row; decimal commas, semicolons.
    balance, rows = 1500.0, []
    for day, (amount, out) in enumerate(MOVES_IT, start=1):
        balance += -amount if out else amount
        rows.append(f"{day:02d}/03/2024;NEGOZIO {day};{amount:.2f};{'Uscita' if out else 'Entrata'};{balance:.2f}")
    return "Data;Descrizione;Importo;Segno;Saldo\n" + "\n".join(r.replace(".", ",") for r in rows) + "\n"


MOVES_IT = [(42.5, True), (1200.0, False), (13.9, True), (75.0, True), (9.99, True), (300.0, False), (61.2, True)]


def test_a_two_valued_column_that_makes_the_balance_add_up_is_the_direction(tmp_path):
    path = tmp_path / "movimenti.csv"
    path.write_text(_signed_by_word())
    profile = profile_file(path=path, dialect={"delimiter": ";"})
    assert profile["grain"]["balances"] == [
        {"balance": "Saldo", "amount": "Importo", "marker": "Segno", "out": "Uscita", "in": "Entrata"}
    ]


@pytest.mark.django_db
def test_an_amount_signed_by_a_marker_that_the_balance_confirms_is_spending(tmp_path):
    path = tmp_path / "movimenti.csv"
    path.write_text(_signed_by_word())
    _, _, by_col = propose_by_column(path)
    assert _targets(by_col, "Importo") == {"canonical_expenses.amount"}
    assert "taken out on the rows 'Segno' marks 'Uscita'" in by_col["Importo"][0]["reason"]
    assert _targets(by_col, "Saldo") == set()
    assert _targets(by_col, "Segno") == set()
    assert _targets(by_col, "Data") == {"canonical_expenses.expense_date"}


def test_a_constant_quantity_signed_by_two_products_moves_no_line_number(tmp_path):
    # Line 1, 2, 1, 2 "moves" by a quantity of 1 taken out on P0's rows and put in on P1's: no statement.
    path = tmp_path / "items.csv"
    path.write_text(
        "order,line,product,qty,price\n"
        + "".join(f"O{i},{j + 1},P{j},1,{5 + j}.00\n" for i in range(12) for j in range(2))
    )
    profile = profile_file(path=path, dialect={"delimiter": ","})
    assert profile["grain"]["balances"] == []


# A card export, newest first: the two unposted rows say "Pending" where the date goes; amounts carry a '£'.
PENDING = "Date,Description,Amount\nPending,AMAZON,-£12.50\nPending,TESCO,-£3.10\n" + "".join(
    f"{d:02d}/03/2024,SHOP {d},-£{d * 3}.{d:02d}\n" for d in range(28, 12, -1)
)


@pytest.mark.django_db
def test_a_word_among_dates_is_a_pending_row_not_a_reason_to_drop_the_dates(tmp_path):
    # Without the rule, 'Pending' made the column an identifier and the statement had no date at all.
    path = tmp_path / "card.csv"
    path.write_text(PENDING)
    profile, _, by_col = propose_by_column(path)
    date = next(c for c in profile["columns"] if c["name"] == "Date")
    assert date["type"] == "date" and "Pending" in date["null_tokens"]
    assert _targets(by_col, "Date") == {"canonical_expenses.expense_date"}
    assert {"op": "map_values", "map": {"Pending": None}} in by_col["Date"][0]["transform"]
    assert _targets(by_col, "Amount") == {"canonical_expenses.amount"}
