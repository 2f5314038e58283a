"""Payment processors' exports (issue 18, payouts18): PayPal activity, Stripe payments, a connector's Shopify
transactions. Read from the whole file, not a header word: a gross, a fee and a net that add up on every row
are a payment, its processor's cut and what reached the balance; a warehouse's float '3.76E+02' is 376; a
bare id unique on every row keys the rows even beside a unique order id; a payment's only date is its own."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from mappings.engine.transforms import duckdb_macros
from mappings.profiling.profile import parse_number_text, profile_file
from tests.mappings.helpers import propose_by_column
from tests.mappings.test_auto_gate import _gate


def _targets(by_col, column) -> set[str]:
    return {f"{p['canonical_table']}.{p['canonical_col']}" for p in by_col.get(column, []) if p["canonical_table"]}


# A PayPal-shaped activity download: money received and sent, the processor's fee on some rows (none on a
# transfer), the net that moves the PayPal balance, whose fee column is called "Fee".
PAYMENTS = [
    ("Ana Ruiz", 100.00, 2.90),
    ("Shop Supplies", -75.00, 0.00),
    ("Bank", 500.00, 0.00),
    ("Coffee Corner", 25.50, 1.25),
    ("Ben Okafor", -50.00, 2.50),
    ("Cara Lind", 42.00, 1.52),
]


def _activity(fee_header: str = "Fee", balance: bool = True) -> str:
    lines, total = [], 1000.0
    for day, (name, gross, fee) in enumerate(PAYMENTS, start=1):
        net = round(gross - fee, 2)
        total = round(total + net, 2)
        tail = f",{total:.2f}" if balance else ""
        money = f"{gross:.2f},{fee:.2f},{net:.2f}"
        lines.append(f"09/{12 + day:02d}/2025,10:0{day}:00,PDT,{name},Completed,USD,{money},T{day}X{tail}")
    head = f"Date,Time,TimeZone,Name,Status,Currency,Gross,{fee_header},Net,Transaction ID" + (
        ",Balance" if balance else ""
    )
    return head + "\n" + "\n".join(lines) + "\n"


def test_a_gross_its_fee_and_the_net_are_found_from_the_rows(tmp_path):
    path = tmp_path / "activity.csv"
    path.write_text(_activity())
    profile = profile_file(path=path, dialect={"delimiter": ","})
    # The fee is the smaller addend and above zero: the gross is the sum, the net what is left of it.
    assert {"gross": "Gross", "fee": "Fee", "net": "Net"} in profile["grain"]["fee_sums"]


def test_a_fee_written_below_zero_makes_the_net_the_sum(tmp_path):
    path = tmp_path / "statement.csv"
    rows = "".join(
        f"2025-09-{d:02d},Sale,{10 * d + 0.45:.2f},{-0.3 - d / 10:.2f},{10 * d + 0.15 - d / 10:.2f}\n"
        for d in range(1, 7)
    )
    path.write_text("Date,Type,Amount,Fees,Net\n" + rows)
    profile = profile_file(path=path, dialect={"delimiter": ","})
    assert {"gross": "Amount", "fee": "Fees", "net": "Net"} in profile["grain"]["fee_sums"]


@pytest.mark.django_db
def test_a_processor_s_rows_are_payments_of_their_gross_not_spending_by_the_net(tmp_path):
    path = tmp_path / "activity.csv"
    path.write_text(_activity())
    _, _, by_col = propose_by_column(path)
    # The balance moves by the net, as a bank statement's does: still a processor's payments, not expenses.
    assert _targets(by_col, "Gross") == {"canonical_payments.amount"}
    assert by_col["Gross"][0]["confidence"] >= 0.9
    assert _targets(by_col, "Net") == set()
    assert _targets(by_col, "Fee") == set()
    assert _targets(by_col, "Balance") == set()
    assert _targets(by_col, "Date") == {"canonical_payments.payment_date"}


@pytest.mark.django_db
def test_a_processor_s_gross_is_decisive_under_a_header_in_another_language(tmp_path):
    path = tmp_path / "aktivitaet.csv"
    path.write_text(_aktivitaet())
    _, _, by_col = propose_by_column(path)
    assert _targets(by_col, "Brutto") == {"canonical_payments.amount"}
    assert by_col["Brutto"][0]["confidence"] >= 0.9
    assert _targets(by_col, "Netto") == set()
    # A name on a processor's row is who paid or was paid, the payment's reference to its customer.
    assert "canonical_payments.customer_id" in _targets(by_col, "Name")


def _aktivitaet(title_column: bool = False) -> str:
    """The German download's headers over the same rows; an item title on one of them when asked."""
    text = _activity(fee_header="Gebühr", balance=False)
    text = text.replace("Date,Time,TimeZone", "Datum,Uhrzeit,Zeitzone").replace("Gross", "Brutto")
    text = text.replace(",Net,", ",Netto,").replace("Currency", "Währung").replace("Transaction ID", "Transaktionscode")
    if not title_column:
        return text
    head, *rows = text.strip().split("\n")
    titled = [f"{r},{'Online Shopping' if i == 1 else ''}" for i, r in enumerate(rows)]
    return f"{head},Artikelbezeichnung\n" + "\n".join(titled) + "\n"


@pytest.mark.django_db
def test_an_item_title_on_a_processor_s_row_makes_no_products(tmp_path):
    path = tmp_path / "aktivitaet.csv"
    path.write_text(_aktivitaet(title_column=True))
    _, doc, by_col = propose_by_column(path)
    assert _targets(by_col, "Artikelbezeichnung") == set()
    tables = {p["canonical_table"] for p in doc["proposals"] if p["canonical_table"]}
    assert tables <= {"canonical_payments", "canonical_customers"}
    assert _targets(by_col, "Brutto") == {"canonical_payments.amount"}


@pytest.mark.django_db
def test_a_total_that_is_its_net_plus_a_tax_stays_an_invoice_s(tmp_path):
    path = tmp_path / "invoices.csv"
    rows = "".join(f"INV-{d},2025-03-{d:02d},{100 * d:.2f},{19 * d:.2f},{119 * d:.2f}\n" for d in range(1, 8))
    path.write_text("Invoice,Date,Net,Tax,Total\n" + rows)
    _, _, by_col = propose_by_column(path)
    # No fee named, no balance moved: the sum is an invoice's total, not a processor's gross.
    assert not any(t.startswith("canonical_payments") for t in _targets(by_col, "Total"))


def test_a_warehouse_s_float_in_scientific_notation_is_a_number():
    assert parse_number_text("3.76E+02") == (pytest.approx(376.0), "en")
    assert parse_number_text("2.36E+01") == (pytest.approx(23.6), "en")


def test_the_load_reads_scientific_notation_with_its_exponent():
    con = duckdb.connect()
    for statement in duckdb_macros():
        con.execute(statement)
    assert con.execute("SELECT ll_num_auto('3.76E+02'), ll_num_en('2.36E+01')").fetchall() == [
        (Decimal("376"), Decimal("23.6"))
    ]


# A connector's Shopify transactions: a hashed own id, the order each belongs to (one per order here), amounts as
# floats in scientific notation, timestamps with milliseconds and a '+0000' offset, the gateway that took it.
def _transactions() -> str:
    rows = []
    for i, (gross, gateway, status) in enumerate(
        [
            ("3.76E+02", "shopify_payments", "success"),
            ("3.88E+02", "paypal", "success"),
            ("2.36E+01", "shopify_payments", "failure"),
            ("5.08E+01", "afterpay", "success"),
            ("2.65E+02", "shopify_payments", "success"),
            ("2.71E+02", "paypal", "success"),
        ],
        start=1,
    ):
        rows.append(f"a{i}f3c9e0b1d2,o{i}7d1e55c0aa,{gross},2020-12-1{i} 0{i}:17:30.000 +0000,{gateway},USD,{status}")
    return "id,order_id,amount,created_at,gateway,currency,status\n" + "\n".join(rows) + "\n"


def test_a_timestamp_with_milliseconds_and_a_spaced_offset_is_a_date(tmp_path):
    path = tmp_path / "transactions.csv"
    path.write_text(_transactions())
    profile = profile_file(path=path, dialect={"delimiter": ","})
    created = next(c for c in profile["columns"] if c["name"] == "created_at")
    assert created["type"] == "datetime"
    amount = next(c for c in profile["columns"] if c["name"] == "amount")
    assert amount["type"] == "decimal" and amount["max"] == pytest.approx(388.0)


@pytest.mark.django_db
def test_a_bare_id_keys_the_rows_beside_a_unique_order_id_which_refers(tmp_path):
    path = tmp_path / "transactions.csv"
    path.write_text(_transactions())
    _, _, by_col = propose_by_column(path)
    assert _targets(by_col, "id") == {"canonical_payments.external_id"}
    assert _targets(by_col, "order_id") == {"canonical_payments.order_id"}
    assert _targets(by_col, "amount") == {"canonical_payments.amount"}
    assert _targets(by_col, "gateway") == {"canonical_payments.method"}
    assert _targets(by_col, "created_at") == {"canonical_payments.payment_date"}


@pytest.mark.django_db
def test_a_payment_s_only_date_is_its_own_though_its_order_s_payments_share_it(tmp_path):
    path = tmp_path / "payments.csv"
    # An order paid in parts, or retried after a failed attempt by another method: its payments share its day.
    rows, pid = [], 0
    for order in range(1, 13):
        for attempt in range(1 + order % 2):
            pid += 1
            method = ("bank_transfer", "credit_card", "coupon")[(order + attempt) % 3]
            status = "fail" if attempt == 0 and order % 4 == 1 else "success"
            rows.append(f"{pid},{order},{method},{status},{100 * (order % 7 + 1) + 300 * attempt},2018-01-{order:02d}")
    path.write_text("id,orderid,paymentmethod,status,amount,created\n" + "\n".join(rows) + "\n")
    _, _, by_col = propose_by_column(path)
    assert _targets(by_col, "created") == {"canonical_payments.payment_date"}
    assert _targets(by_col, "orderid") == {"canonical_payments.order_id"}


@pytest.mark.django_db
def test_a_processor_export_loads_with_auto(tmp_path):
    path = tmp_path / "activity.csv"
    path.write_text(_activity())
    accepted, problems = _gate(path)
    assert problems == []
    fed = {f["source_col"]: f"{f['canonical_table']}.{f['canonical_col']}" for f in accepted}
    assert fed["Gross"] == "canonical_payments.amount"
    assert "Net" not in fed and "Balance" not in fed


@pytest.mark.django_db
def test_a_payment_export_s_only_date_is_the_payment_s_whatever_other_table_its_header_names(tmp_path):
    # PayPal's Spanish download heads its date 'vencimiento' (a due date's word): no invoice in the file.
    path = tmp_path / "pagos.csv"
    rows = "".join(f"{d + 12:02d}/03/2025,Cliente {d},EUR,{19.99 + d:.2f},TX{d}A\n" for d in range(1, 7))
    path.write_text("vencimiento,Nombre,Divisa,Importe del pago,Id. de transacción\n" + rows)
    _, _, by_col = propose_by_column(path)
    assert _targets(by_col, "vencimiento") == {"canonical_payments.payment_date"}


@pytest.mark.django_db
def test_a_payment_s_date_is_the_one_before_its_availability(tmp_path):
    # A processor's balance change: created, then available days later; the payment happened when created.
    path = tmp_path / "balance.csv"
    rows = "".join(
        f"txn_{d}A9,2020-01-{d:02d} 08:26:{d:02d},2020-01-{d + 4:02d} 00:00:00,usd,{12.5 * d:.2f}\n"
        for d in range(1, 7)
    )
    path.write_text("balance_transaction_id,created_utc,available_on_utc,currency,gross\n" + rows)
    _, _, by_col = propose_by_column(path)
    assert _targets(by_col, "created_utc") == {"canonical_payments.payment_date"}
    assert by_col["created_utc"][0]["confidence"] >= 0.8
