"""What the whole file holds outweighs a word: the file's name, a header read two ways, an id beside a price.
Small copies of shapes seen in real exports (a corporate card's spend, a budgeting app's transactions, an ERP's
one-line sales)."""

from __future__ import annotations

from mappings.proposer.calibration import CONTRADICT, value_verdict
from mappings.proposer.scoring import Target
from tests.mappings.helpers import propose_by_column


def _targets(by_col, column) -> set[str]:
    return {f"{p['canonical_table']}.{p['canonical_col']}" for p in by_col[column] if p["canonical_table"]}


# A spend-management platform's card transactions: a merchant paid and a spend category on every row.
CARD_SPEND = "transaction_id,card_id,date,amount,currency,category,merchant,status,country\n" + "".join(
    f"{1001 + i},{101 + i % 4},2024-0{1 + i % 6}-{10 + i},{(i + 1) * 37}.50,EUR,{cat},{merchant},Completed,Germany\n"
    for i, (cat, merchant) in enumerate(
        [
            ("Software", "Adobe Inc"),
            ("Travel", "Ryanair"),
            ("Equipment", "Dell Technologies"),
            ("Software", "Atlassian"),
            ("Travel", "Lufthansa"),
            ("Food & Beverage", "Starbucks"),
            ("Equipment", "Lenovo"),
            ("Software", "Slack Technologies"),
        ]
    )
)


def test_a_file_named_transactions_with_a_merchant_and_a_spend_category_is_expenses(tmp_path):
    # "transactions" is said of card spend, sales and payments alike; a payment has no home for the merchant
    # paid or the category of the spend, an expense has one for both: the columns decide, not the name.
    path = tmp_path / "card_transactions.csv"
    path.write_text(CARD_SPEND)
    _, _, by_col = propose_by_column(path)
    assert _targets(by_col, "date") == {"canonical_expenses.expense_date"}
    assert _targets(by_col, "amount") == {"canonical_expenses.amount"}
    assert _targets(by_col, "merchant") == {"canonical_expenses.vendor"}
    assert _targets(by_col, "category") == {"canonical_expenses.category"}
    assert not any(p["canonical_table"] == "canonical_payments" for ps in by_col.values() for p in ps)


def test_the_file_name_still_decides_between_tables_holding_the_same_columns(tmp_path):
    # Nothing here is only an expense's or only a payment's: the name "payments" is the evidence left.
    path = tmp_path / "payments.csv"
    path.write_text("id,date,amount,currency\n" + "".join(f"P{i},2024-01-{10 + i},{i}5.00,EUR\n" for i in range(8)))
    _, _, by_col = propose_by_column(path)
    assert _targets(by_col, "amount") == {"canonical_payments.amount"}


# A budgeting app's transactions: which of the user's own accounts the money moved through.
BUDGET = '"Date","Description","Amount","Transaction Type","Category","Account Name"\n' + "".join(
    f'"{m}/1{d}/2016","{shop}","{amount}","debit","{cat}","{account}"\n'
    for m, d, shop, amount, cat, account in [
        (8, 0, "Starbucks", "2.45", "Coffee Shops", "My Credit Card"),
        (9, 2, "Whole Foods", "66.88", "Groceries", "My Checking"),
        (10, 4, "Shell", "40.10", "Gas & Fuel", "My Credit Card"),
        (11, 6, "Amazon", "19.99", "Shopping", "My Checking"),
    ]
)


def test_an_account_name_in_an_expense_list_is_no_employee_reference(tmp_path):
    # "Account Name" names an account (a customer's name, at best) far more clearly than an employee: an
    # expense refers to employees only, so the column refers to nobody the file feeds.
    path = tmp_path / "transactions.csv"
    path.write_text(BUDGET)
    _, _, by_col = propose_by_column(path)
    assert _targets(by_col, "Amount") == {"canonical_expenses.amount"}
    assert _targets(by_col, "Account Name") == set()


# A payment processor's export in Spanish: the invoice-looking columns (closing date, insured amount) are empty,
# the money is under a word no vocabulary holds ("Bruto").
PAYMENTS_ES = "Nombre,Divisa,Bruto,Fecha de cierre,Importe del seguro,Número de factura\n" + "".join(
    f'Dunder Mifflin,EUR,"{amount}",,,{i + 1}\n' for i, amount in enumerate(["10,00", "19,99", "19,99", "40,00"])
)


def test_an_invoice_list_whose_date_and_amount_are_only_empty_columns_is_not_loaded_as_one(tmp_path):
    # Without its money column the export still speaks for an invoice list ("Número de factura"), but no column
    # with values could give an invoice its date or its amount: nothing is loaded unseen as an invoice.
    path = tmp_path / "descargar.csv"
    path.write_text(
        "\n".join(",".join(f for i, f in enumerate(line.split(",")) if i != 2) for line in PAYMENTS_ES.splitlines())
    )
    _, doc, _ = propose_by_column(path)
    assert not [p for p in doc["proposals"] if p["canonical_table"] == "canonical_invoices" and p["confidence"] >= 0.7]


def test_an_invoice_number_beside_empty_invoice_columns_and_a_payments_money_is_a_payments_reference(tmp_path):
    # The invoice's date and amount are there only as empty columns; the one money column ("Bruto", gross) can
    # be a payment's amount: the rows are payments, each naming the invoice it pays.
    path = tmp_path / "descargar.csv"
    path.write_text(PAYMENTS_ES)
    _, _, by_col = propose_by_column(path)
    assert _targets(by_col, "Bruto") == {"canonical_payments.amount"}
    assert _targets(by_col, "Número de factura") == {"canonical_payments.invoice_id"}
    assert _targets(by_col, "Divisa") == {"canonical_payments.currency"}


# A bakery's orders, one column per product counting what each order bought; the date under the name of its kind.
BAKERY = "datetime,day of week,total,place,angbutter,croissant,order_id\n" + "".join(
    f"2019-11-{9 + i % 20:02d} 11:{10 + i:02d},Sat,{14800 + 500 * (i % 4)}.0,place {i % 3},{1 + i % 2}.0,,"
    f"{i:04x}c4cf92206811ec971c2e2955813ea5\n"
    for i in range(30)
)


def test_the_only_date_column_under_a_header_naming_nothing_is_the_orders_date(tmp_path):
    # "datetime" says what the values are and names no other fact; an order needs a date and this is the
    # file's only one: it is when each order was placed.
    path = tmp_path / "bakery_sales.csv"
    path.write_text(BAKERY)
    _, _, by_col = propose_by_column(path)
    (date,) = by_col["datetime"]
    assert f"{date['canonical_table']}.{date['canonical_col']}" == "canonical_orders.order_date"
    assert date["confidence"] >= 0.7


# A point-of-sale export's lines: the shop's own merchant id on every one of them.
POS_LINES = "Order_ID,Name,Quantity,Price,Merchant_ID,Time\n" + "".join(
    f"ORD{i // 3:03d},{item},{1 + i % 2},{4.5 + i % 3:.2f},MLB3X9ZQ1,2018-03-25T15:{i % 60:02d}:47Z\n"
    for i, item in zip(range(60), ["Latte", "Scone", "Mocha", "Bagel", "Tea"] * 12, strict=False)
)


def test_a_reference_holding_one_value_on_every_row_is_not_loaded_unseen(tmp_path):
    # One merchant id on all 60 lines tells no line from another: it is the shop that exported them more
    # likely than each line's supplier. The header alone speaks for it: a person confirms.
    path = tmp_path / "pos_lines.csv"
    path.write_text(POS_LINES)
    _, _, by_col = propose_by_column(path)
    (merchant,) = by_col["Merchant_ID"]
    assert merchant["canonical_col"] == "supplier_id"
    assert merchant["confidence"] < 0.7


# Monthly sales files joined end to end: each month's header line sits among the rows.
HEADER = "Order ID,Product,Quantity Ordered,Price Each,Order Date,Purchase Address\n"
MONTHS = HEADER + "".join(
    (HEADER if i in (7, 19) else "")
    + f"{141234 + i // 2},{['USB-C Charging Cable', 'Bose Headphones', 'AA Batteries'][i % 3]},{1 + i % 2},"
    + f'{[11.95, 99.99, 3.84][i % 3]},01/{1 + i // 2:02d}/19 21:{i:02d},"{100 + i} Main St, Boston, MA 02215"\n'
    for i in range(30)
)


def test_a_header_line_repeated_among_the_rows_is_no_value_of_its_columns(tmp_path):
    # "Quantity Ordered" under the column of that name is the header of the next month's file, not a
    # quantity: the column is still whole numbers, the prices still numbers, the order ids still a key.
    path = tmp_path / "sales_2019.csv"
    path.write_text(MONTHS)
    profile, _, by_col = propose_by_column(path)
    kinds = {c["name"]: c["type"] for c in profile["columns"]}
    assert kinds["Quantity Ordered"] == "integer" and kinds["Price Each"] == "decimal"
    assert _targets(by_col, "Quantity Ordered") == {"canonical_order_lines.quantity"}
    assert _targets(by_col, "Price Each") == {"canonical_order_lines.unit_price"}


# An ERP's transactions export: one row per transaction, each with its one item, quantity, rate and amount.
ERP = (
    "trans id\ttrans date\tentity\ttrans status\ttotal\tcurrency\tline no\titem id\tquantity\trate\tline amount\n"
    + "".join(
        f"T{1023 + i}\t2026-05-{1 + i % 28:02d}\tCUST{20 + i}\t{1 + i % 3}\t{(2 + i % 5) * (100 + 50 * (i % 3))}\t"
        f"{['USD', 'EUR', 'GBP'][i % 3]}\t1\tITEM{1 + i % 12:02d}\t{2 + i % 5}\t{100 + 50 * (i % 3)}\t"
        f"{(2 + i % 5) * (100 + 50 * (i % 3))}\n"
        for i in range(40)
    )
)


def test_a_rows_own_number_beside_a_date_a_quantity_and_a_rate_keys_a_sale_of_one_line(tmp_path):
    # 'trans id' is unique on every row and names no entity; each row has a date, an item, a quantity and a
    # rate: each row is a sale of one line, whatever "transactions" suggests. The number keys the order,
    # the date is when it was made, the line's money is the line's.
    path = tmp_path / "transactions.tsv"
    path.write_text(ERP)
    _, _, by_col = propose_by_column(path)
    assert _targets(by_col, "trans id") == {"canonical_order_lines.order_id", "canonical_orders.external_id"}
    assert _targets(by_col, "trans date") == {"canonical_orders.order_date"}
    assert _targets(by_col, "quantity") == {"canonical_order_lines.quantity"}
    assert _targets(by_col, "line amount") == {"canonical_order_lines.amount"}
    assert all(p["confidence"] >= 0.7 for p in by_col["trans id"])
    assert not any(p["canonical_table"] == "canonical_payments" for ps in by_col.values() for p in ps)


# An ERP's order lines in Portuguese: the client is given by its code.
PEDIDOS = "numero pedido;cliente;status;produto;quantidade;data emissao\n" + "".join(
    f"{1 + i // 2};C0{1234 + 111 * (i // 2 % 7)};{['aberto', 'entregue'][i // 2 % 2]};"
    f"{['A123652 - TECLADO', 'A457920 - MOUSE', 'A998877 - MONITOR'][i % 3]};{1 + i % 9};{1 + i // 2:02d}/09/2023\n"
    for i in range(40)
)


def test_codes_under_a_header_that_says_client_are_no_clients_name(tmp_path):
    # "cliente" could be the client's name by its header; C01234, C01345 … are codes of one token with digits,
    # not names: the values contradict a name, whatever the header says.
    path = tmp_path / "pedidos.csv"
    path.write_text(PEDIDOS)
    profile, _, _ = propose_by_column(path)
    (client,) = [c for c in profile["columns"] if c["name"] == "cliente"]
    verdict, why, _ = value_verdict(
        client, Target("canonical_customers", "name"), grain=profile["grain"], date_columns=1
    )
    assert verdict == CONTRADICT and "codes" in why


# A vending machine's sales: the price paid under the word "money", nothing else in cents.
VENDING = "date,datetime,cash_type,card,money,coffee_name\n" + "".join(
    f"3/{1 + i % 28}/2024,3/{1 + i % 28}/2024 10:{i % 60:02d},card,ANON-0000-0000-{i % 14:04d},"
    f"{[38.7, 28.9, 33.8][i % 3]},{['Latte', 'Hot Chocolate', 'Americano'][i % 3]}\n"
    for i in range(40)
)


def test_the_only_money_column_under_a_header_naming_nothing_is_the_sales_amount(tmp_path):
    # "money" names no fact; its values are the only ones in whole cents: what each sale was paid. Nothing
    # else in the file could be the amount, so the values decide it.
    path = tmp_path / "coffee_sales.csv"
    path.write_text(VENDING)
    _, _, by_col = propose_by_column(path)
    (money,) = by_col["money"]
    assert f"{money['canonical_table']}.{money['canonical_col']}" == "canonical_orders.amount"
    assert money["confidence"] >= 0.7


# A supermarket's sales, one product line per invoice: unit price × quantity, a 5% tax, the total with the tax.
def _supermarket() -> str:
    rows = []
    for i in range(40):
        price, qty = [74.69, 15.28, 46.33, 58.22][i % 4], 1 + i % 7
        net = round(price * qty, 2)
        tax = round(net * 0.05, 4)
        rows.append(
            f"{750 + i}-67-8428,{['A', 'B', 'C'][i % 3]},Food,{price},{qty},{tax},{net + tax:.4f},"
            f"1/{1 + i % 28}/2019,{net}"
        )
    return "Invoice ID,Branch,Product line,Unit price,Quantity,Tax 5%,Total,Date,cogs\n" + "\n".join(rows) + "\n"


def test_a_total_that_adds_a_tax_to_quantity_times_price_is_the_orders_not_the_lines(tmp_path):
    # 'cogs' is Quantity × Unit price on every row and 'Total' is cogs + Tax 5%: the total charged for the sale,
    # tax included, not what the line's quantity at its price comes to.
    path = tmp_path / "supermarket_sales.csv"
    path.write_text(_supermarket())
    profile, _, by_col = propose_by_column(path)
    assert ["cogs", "Unit price", "Quantity"] in profile["grain"]["arithmetic"]["products"]
    assert _targets(by_col, "Total") == {"canonical_orders.amount"}
    assert _targets(by_col, "cogs") == {"canonical_order_lines.amount"}


# A wallet's statement: payments sent and received, when under the name of the values' kind.
WALLET = "ID,Datetime,Type,Status,Note,From,To,Amount (total)\n" + "".join(
    f"{i + 1},2020-01-{1 + i:02d}T13:00:00,{['Charge', 'Payment'][i % 2]},Complete,note {i},Friend {i % 3},Me,"
    f'"+ ${20 + i}.01"\n'
    for i in range(12)
)


def test_a_payments_only_date_column_is_when_they_were_paid(tmp_path):
    # A payment's date is optional in the schema, but it is when the payment happened: the file's only date
    # column, under a header naming nothing else, is that date.
    path = tmp_path / "statement.csv"
    path.write_text(WALLET)
    _, _, by_col = propose_by_column(path)
    assert _targets(by_col, "Amount (total)") == {"canonical_payments.amount"}
    (when,) = by_col["Datetime"]
    assert f"{when['canonical_table']}.{when['canonical_col']}" == "canonical_payments.payment_date"
    assert when["confidence"] >= 0.7


def test_a_catalogue_with_stock_and_price_is_no_sale_of_one_line(tmp_path):
    # A unique number, a date, a quantity and a price, but no column is quantity × price: the quantity is a
    # stock and the price a list price, not a sale's line.
    path = tmp_path / "catalogue.csv"
    path.write_text(
        "id,item id,quantity,rate,last updated\n"
        + "".join(f"S{100 + i},ITEM{i:02d},{(7 * i) % 40},{9 + i},2024-0{1 + i % 9}-1{i % 9}\n" for i in range(30))
    )
    _, _, by_col = propose_by_column(path)
    assert not any(p["canonical_table"] == "canonical_orders" for ps in by_col.values() for p in ps)


def test_a_header_without_its_connecting_word_is_the_same_header():
    # "numero pedido" is "número de pedido" without its "de": the same words, as strong as the synonym.
    from mappings.proposer.scoring import _header_evidence

    plain, connected = _header_evidence("numero pedido"), _header_evidence("numero de pedido")
    target = Target("canonical_orders", "external_id")
    assert plain[target].score >= 0.95 * connected[target].score >= 0.9


def test_an_unnamed_column_counting_the_rows_from_zero_is_the_writers_index(tmp_path):
    # pandas writes its index first, without a header: 0, 1, 2 … numbers the lines of the file, not of the
    # business, so it keys nothing.
    path = tmp_path / "order_lines.csv"
    path.write_text(
        ",Name,Quantity,Price,Order ID\n"
        + "".join(f"{i},{['Latte', 'Scone', 'Mocha'][i % 3]},{1 + i % 2},4.50,ORD{i // 3:03d}\n" for i in range(30))
    )
    _, doc, _ = propose_by_column(path)
    (index,) = doc["proposals"][:1]
    assert index["canonical_table"] is None and "index" in index["reason"]


def test_a_repeating_code_under_a_header_naming_nothing_is_who_bought(tmp_path):
    # 'card' names no fact; its values are codes of one token (ANON-0000-0000-0012) repeating with about a
    # third as many values as sales: the buyer of each sale. Only the values say so: a person confirms.
    path = tmp_path / "coffee_sales.csv"
    path.write_text(VENDING)
    _, _, by_col = propose_by_column(path)
    (card,) = by_col["card"]
    assert f"{card['canonical_table']}.{card['canonical_col']}" == "canonical_orders.customer_id"
    assert card["confidence"] < 0.7
