"""Writes the evaluation set: real-world-shaped export layouts with generated values, and expected.json.

Headers follow the public export layouts of each tool; values are generated (seeded, deterministic).
`expected` per column: "canonical_table.column", a list of acceptable targets, or null (should stay
unmapped). Run: `.venv/bin/python tests/data/eval/generate.py` (rewrites the CSVs and expected.json).
"""

from __future__ import annotations

import csv
import json
import random
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).parent
ROWS = 40

FIRST = ["Ann", "Bob", "Chloé", "Dieter", "Eva", "Farid", "Greta", "Hugo", "Inès", "Jonas", "Kai", "Lena"]
LAST = ["Smith", "Müller", "Dubois", "García", "Rossi", "Novak", "Jensen", "Kowalski", "Silva", "Brown"]
COMPANIES = ["Acme GmbH", "Blue Fox Ltd", "Café Central", "Delta Corp", "Epsilon SA", "Fjord AS", "Globex Inc"]
CITIES = [("Berlin", "Germany", "DE"), ("Paris", "France", "FR"), ("Madrid", "Spain", "ES"), ("Boston", "USA", "US")]
PRODUCTS = ["Chai", "Chang", "Aniseed Syrup", "Tofu", "Konbu", "Pavlova", "Ikura", "Geitost"]


def gen(rng: random.Random, kind: str, i: int):
    d0 = date(2024, 1, 1) + timedelta(days=rng.randint(0, 360))
    first, last = rng.choice(FIRST), rng.choice(LAST)
    city = rng.choice(CITIES)
    amount = rng.randint(100, 900000) / 100
    match kind:
        case "seq":
            return str(1000 + i)
        case "code":
            return f"C-{rng.randint(1, 15):04d}"
        case "cust_id":
            return f"CUST{rng.randint(1, 12):03d}"
        case "emp_id":
            return str(rng.randint(1, 9))
        case "sku":
            return f"SKU-{rng.randint(100, 140)}"
        case "inv_no":
            return f"INV-{2024000 + i}"
        case "order_no":
            return f"#{1000 + i}"
        case "email":
            return (
                f"{first.lower()}.{last.lower()}{i}@example.com".replace("é", "e").replace("ü", "u").replace("í", "i")
            )
        case "first":
            return first
        case "last":
            return last
        case "full":
            return f"{first} {last}"
        case "company":
            return rng.choice(COMPANIES)
        case "city":
            return city[0]
        case "country":
            return city[1]
        case "country_code":
            return city[2]
        case "phone":
            return f"+1 (206) 555-{rng.randint(1000, 9999)}"
        case "iso":
            return d0.isoformat()
        case "iso_ts":
            return f"{d0.isoformat()} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00 +0100"
        case "iso_t":
            return f"{d0.isoformat()}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z"
        case "us":
            return d0.strftime("%m/%d/%Y")
        case "eu":
            return d0.strftime("%d/%m/%Y")
        case "de":
            return d0.strftime("%d.%m.%Y")
        case "unix":
            return str(int(1704067200 + rng.randint(0, 3e7)))
        case "money":
            return f"{amount:.2f}"
        case "money_en":
            return f"{amount:,.2f}"
        case "money_de":
            return f"{amount:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
        case "money_usd":
            return f"${amount:,.2f}"
        case "cents":
            return str(int(amount * 100))
        case "qty":
            return str(rng.randint(1, 40))
        case "pct":
            return rng.choice(["0", "0.05", "0.1", "0.15"])
        case "currency":
            return rng.choice(["EUR", "USD", "GBP"])
        case "currency_lower":
            return rng.choice(["eur", "usd"])
        case "bool":
            return rng.choice(["true", "false"])
        case "yesno":
            return rng.choice(["yes", "no"])
        case "janein":
            return rng.choice(["ja", "nein"])
        case "product":
            return rng.choice(PRODUCTS)
        case "category":
            return rng.choice(["Beverages", "Condiments", "Seafood", "Dairy"])
        case "expense_cat":
            return rng.choice(["Travel", "Meals", "Software", "Office"])
        case "dept":
            return rng.choice(["Sales", "Finance", "Engineering", "Marketing"])
        case "title":
            return rng.choice(["Sales Representative", "Sales Manager", "Accountant", "Engineer"])
        case "segment":
            return rng.choice(["Enterprise", "SMB", "Consumer"])
        case "tags":
            return rng.choice(["vip", "", "wholesale, vip", "newsletter"])
        case "risk":
            return rng.choice(["Low", "Medium", "High"])
        case "text":
            return rng.choice(["Call back next week", "", "Prefers email", "Key account since 2019 with many orders"])
        case "method":
            return rng.choice(["card", "bank_transfer", "paypal"])
        case "card_brand":
            return rng.choice(["visa", "mastercard", "amex"])
        case "shop_status":
            return rng.choice(["paid", "pending", "refunded"])
        case "wc_status":
            return rng.choice(["wc-completed", "wc-processing", "wc-cancelled", "wc-on-hold"])
        case "inv_status":
            return rng.choice(["paid", "open", "draft", "void"])
        case "qb_status":
            return rng.choice(["Paid", "Open", "Overdue"])
        case "de_status":
            return rng.choice(["bezahlt", "offen"])
        case "oc":
            return rng.choice(["O", "C"])
        case "stage":
            return rng.choice(["closedwon", "closedlost", "appointmentscheduled"])
        case "warehouse":
            return rng.choice(["Main", "North", "Lager Süd"])
        case "rownum":
            return str(i + 1)
        case "soll_haben":
            return rng.choice(["S", "H"])
        case "konto":
            return str(rng.randint(8400, 8410))
        case "bu":
            return rng.choice(["", "3", "9"])
        case "address":
            return f"{rng.randint(1, 200)} Main Street"
        case "zip":
            return f"{rng.randint(10000, 99999)}"
        case "empty":
            return ""
    raise ValueError(kind)


# file name → (domain hint or None, [(header, value kind, expected)])
FILES: dict[str, tuple[str | None, list[tuple[str, str, object]]]] = {
    "shopify_orders.csv": (
        None,
        [
            ("Name", "order_no", "canonical_orders.external_id"),
            ("Email", "email", ["canonical_orders.customer_id", "canonical_customers.email"]),
            ("Financial Status", "shop_status", "canonical_orders.status"),
            ("Paid at", "iso_ts", None),
            ("Accepts Marketing", "yesno", None),
            ("Currency", "currency", "canonical_orders.currency"),
            ("Subtotal", "money", None),
            ("Total", "money", "canonical_orders.amount"),
            ("Created at", "iso_ts", "canonical_orders.order_date"),
            ("Lineitem quantity", "qty", "canonical_order_lines.quantity"),
            ("Lineitem price", "money", "canonical_order_lines.unit_price"),
            ("Lineitem sku", "sku", "canonical_order_lines.product_id"),
            ("Tags", "tags", None),
            ("Risk Level", "risk", None),
        ],
    ),
    "woocommerce_orders.csv": (
        "orders",
        [
            ("Order Number", "seq", "canonical_orders.external_id"),
            ("Order Status", "wc_status", "canonical_orders.status"),
            ("Order Date", "iso", "canonical_orders.order_date"),
            ("Customer User ID", "cust_id", "canonical_orders.customer_id"),
            ("Order Total Amount", "money", "canonical_orders.amount"),
            ("Order Currency", "currency", "canonical_orders.currency"),
            ("Payment Method Title", "method", None),
            ("Customer Note", "text", None),
        ],
    ),
    "stripe_payments.csv": (
        None,
        [
            ("id", "code", "canonical_payments.external_id"),
            ("Created (UTC)", "iso_ts", "canonical_payments.payment_date"),
            ("Amount", "money", "canonical_payments.amount"),
            ("Currency", "currency_lower", "canonical_payments.currency"),
            ("Customer Email", "email", "canonical_payments.customer_id"),
            ("Card Brand", "card_brand", "canonical_payments.method"),
            ("Invoice ID", "inv_no", "canonical_payments.invoice_id"),
            ("Description", "text", None),
        ],
    ),
    "stripe_invoices.csv": (
        None,
        [
            ("id", "inv_no", "canonical_invoices.external_id"),
            ("Customer", "cust_id", "canonical_invoices.customer_id"),
            ("Date (UTC)", "iso", "canonical_invoices.invoice_date"),
            ("Due Date (UTC)", "iso", "canonical_invoices.due_date"),
            ("Total", "money", "canonical_invoices.amount"),
            ("Amount Paid", "money", "canonical_invoices.amount_paid"),
            ("Paid", "bool", "canonical_invoices.paid"),
            ("Currency", "currency_lower", "canonical_invoices.currency"),
            ("Status", "inv_status", "canonical_invoices.status"),
        ],
    ),
    "quickbooks_customers.csv": (
        None,
        [
            ("Customer", "company", "canonical_customers.name"),
            ("Email", "email", "canonical_customers.email"),
            ("Phone", "phone", "canonical_customers.phone"),
            ("Billing City", "city", "canonical_customers.city"),
            ("Billing Country", "country", "canonical_customers.country"),
            ("Customer Type", "segment", "canonical_customers.segment"),
            ("Open Balance", "money_usd", None),
            ("Notes", "text", None),
        ],
    ),
    "quickbooks_invoices.csv": (
        None,
        [
            ("Invoice Date", "us", "canonical_invoices.invoice_date"),
            ("No.", "seq", "canonical_invoices.external_id"),
            ("Customer", "company", "canonical_invoices.customer_id"),
            ("Due Date", "us", "canonical_invoices.due_date"),
            ("Amount", "money_usd", "canonical_invoices.amount"),
            ("Open Balance", "money_usd", None),
            ("Status", "qb_status", "canonical_invoices.status"),
        ],
    ),
    "xero_invoices.csv": (
        None,
        [
            ("ContactName", "company", "canonical_invoices.customer_id"),
            ("EmailAddress", "email", None),
            ("InvoiceNumber", "inv_no", "canonical_invoices.external_id"),
            ("InvoiceDate", "eu", "canonical_invoices.invoice_date"),
            ("DueDate", "eu", "canonical_invoices.due_date"),
            ("Total", "money", "canonical_invoices.amount"),
            ("Currency", "currency", "canonical_invoices.currency"),
            ("FullyPaidOnDate", "eu", "canonical_invoices.paid_date"),
        ],
    ),
    "hubspot_contacts.csv": (
        "customers",
        [
            ("Record ID", "seq", "canonical_customers.external_id"),
            ("First Name", "first", "canonical_customers.name"),
            ("Last Name", "last", None),
            ("Email", "email", "canonical_customers.email"),
            ("Phone Number", "phone", "canonical_customers.phone"),
            ("City", "city", "canonical_customers.city"),
            ("Country/Region", "country", "canonical_customers.country"),
            ("Lifecycle Stage", "segment", "canonical_customers.segment"),
            ("Create Date", "iso_ts", "canonical_customers.created_at"),
            ("Marketing contact status", "yesno", None),
        ],
    ),
    "salesforce_opportunities.csv": (
        None,
        [
            ("Opportunity ID", "code", "canonical_orders.external_id"),
            ("Account Name", "company", "canonical_orders.customer_id"),
            ("Opportunity Owner", "full", "canonical_orders.sales_rep_id"),
            ("Amount", "money", "canonical_orders.amount"),
            ("Close Date", "us", "canonical_orders.order_date"),
            ("Stage", "stage", "canonical_orders.status"),
            ("Lead Source", "text", None),
        ],
    ),
    "sap_sales_orders.csv": (
        None,
        [
            ("Sales Document", "seq", "canonical_orders.external_id"),
            ("Sold-To Party", "cust_id", "canonical_orders.customer_id"),
            ("Document Date", "de", "canonical_orders.order_date"),
            ("Net Value", "money_de", "canonical_orders.amount"),
            ("Currency", "currency", "canonical_orders.currency"),
            ("Material", "sku", None),
            ("Plant", "warehouse", None),
        ],
    ),
    "sap_inventory.csv": (
        None,
        [
            ("Material", "sku", "canonical_inventory.product_id"),
            ("Plant", "warehouse", "canonical_inventory.warehouse"),
            ("Stichtag", "de", "canonical_inventory.snapshot_date"),
            ("Unrestricted Stock", "qty", "canonical_inventory.quantity_on_hand"),
            ("Reorder Point", "qty", "canonical_inventory.reorder_level"),
        ],
    ),
    "bamboohr_employees.csv": (
        None,
        [
            ("Employee #", "seq", "canonical_employees.external_id"),
            ("First Name", "first", "canonical_employees.name"),
            ("Last Name", "last", None),
            ("Work Email", "email", "canonical_employees.email"),
            ("Job Title", "title", "canonical_employees.title"),
            ("Department", "dept", "canonical_employees.team"),
            ("Reporting to", "emp_id", "canonical_employees.manager_id"),
            ("Hire Date", "iso", "canonical_employees.hire_date"),
            ("Date of Birth", "iso", None),
        ],
    ),
    "expensify_expenses.csv": (
        None,
        [
            ("Timestamp", "iso", "canonical_expenses.expense_date"),
            ("Merchant", "company", "canonical_expenses.vendor"),
            ("Amount", "money", "canonical_expenses.amount"),
            ("Currency", "currency", "canonical_expenses.currency"),
            ("Category", "expense_cat", "canonical_expenses.category"),
            ("Tag", "dept", "canonical_expenses.department"),
            ("Email", "email", "canonical_expenses.employee_id"),
            ("Reimbursable", "yesno", None),
            ("Comment", "text", None),
        ],
    ),
    "datev_buchungen.csv": (
        "invoices",
        [
            ("Umsatz (ohne Soll/Haben-Kz)", "money_de", "canonical_invoices.amount"),
            ("Soll/Haben-Kennzeichen", "soll_haben", None),
            ("WKZ Umsatz", "currency", "canonical_invoices.currency"),
            ("Konto", "konto", None),
            ("BU-Schlüssel", "bu", None),
            ("Belegdatum", "de", "canonical_invoices.invoice_date"),
            ("Belegfeld 1", "inv_no", "canonical_invoices.external_id"),
            ("Buchungstext", "text", None),
        ],
    ),
    "rechnungen_de.csv": (
        None,
        [
            ("Rechnungsnummer", "inv_no", "canonical_invoices.external_id"),
            ("Kundennummer", "cust_id", "canonical_invoices.customer_id"),
            ("Rechnungsdatum", "de", "canonical_invoices.invoice_date"),
            ("Fälligkeitsdatum", "de", "canonical_invoices.due_date"),
            ("Bruttobetrag", "money_de", "canonical_invoices.amount"),
            ("Währung", "currency", "canonical_invoices.currency"),
            ("Bezahlt", "janein", "canonical_invoices.paid"),
            ("Status", "de_status", "canonical_invoices.status"),
        ],
    ),
    "factures_fr.csv": (
        None,
        [
            ("Numéro de facture", "inv_no", "canonical_invoices.external_id"),
            ("Client", "company", "canonical_invoices.customer_id"),
            ("Date de facture", "eu", "canonical_invoices.invoice_date"),
            ("Date d'échéance", "eu", "canonical_invoices.due_date"),
            ("Montant TTC", "money_de", "canonical_invoices.amount"),
            ("Devise", "currency", "canonical_invoices.currency"),
            ("Statut", "inv_status", "canonical_invoices.status"),
        ],
    ),
    "pedidos_es.csv": (
        None,
        [
            ("Número de pedido", "seq", "canonical_orders.external_id"),
            ("Cliente", "cust_id", "canonical_orders.customer_id"),
            ("Vendedor", "emp_id", "canonical_orders.sales_rep_id"),
            ("Fecha de pedido", "eu", "canonical_orders.order_date"),
            ("Importe total", "money_de", "canonical_orders.amount"),
            ("Moneda", "currency", "canonical_orders.currency"),
            ("Fecha de envío", "eu", "canonical_orders.shipped_date"),
        ],
    ),
    "products_catalog.csv": (
        None,
        [
            ("SKU", "sku", "canonical_products.external_id"),
            ("Product Name", "product", "canonical_products.name"),
            ("Category", "category", "canonical_products.category"),
            ("Unit Price", "money", "canonical_products.price"),
            ("Unit Cost", "money", "canonical_products.cost"),
            ("Vendor", "company", "canonical_products.supplier_id"),
            ("Row Number", "rownum", None),
        ],
    ),
    "crm_accounts_abbrev.csv": (
        "customers",
        [
            ("cust_no", "cust_id", "canonical_customers.external_id"),
            ("cust_nm", "company", "canonical_customers.name"),
            ("eml_addr", "email", "canonical_customers.email"),
            ("tel", "phone", "canonical_customers.phone"),
            ("ctry", "country_code", "canonical_customers.country"),
            ("rep_id", "emp_id", "canonical_customers.sales_rep_id"),
            ("created_dt", "iso", "canonical_customers.created_at"),
        ],
    ),
    "order_lines_export.csv": (
        None,
        [
            ("Order No", "seq", "canonical_order_lines.order_id"),
            ("Item Code", "sku", "canonical_order_lines.product_id"),
            ("Qty", "qty", "canonical_order_lines.quantity"),
            ("Unit Price", "money", "canonical_order_lines.unit_price"),
            ("Disc %", "pct", "canonical_order_lines.discount"),
            ("Line Total", "money", "canonical_order_lines.amount"),
        ],
    ),
}

NORTHWIND_EXPECTED = {
    "customers.csv": {
        "customerID": "canonical_customers.external_id", "companyName": "canonical_customers.name",
        "contactName": None, "contactTitle": None, "address": None, "city": "canonical_customers.city",
        "region": None, "postalCode": None, "country": "canonical_customers.country",
        "phone": "canonical_customers.phone", "fax": None,
    },
    "employees.csv": {
        "employeeID": "canonical_employees.external_id", "lastName": None, "firstName": "canonical_employees.name",
        "title": "canonical_employees.title", "titleOfCourtesy": None, "birthDate": None,
        "hireDate": "canonical_employees.hire_date", "address": None, "city": None, "region": None,
        "postalCode": None, "country": None, "homePhone": None, "extension": None, "photo": None, "notes": None,
        "reportsTo": "canonical_employees.manager_id", "photoPath": None,
    },
    "orders.csv": {
        "orderID": "canonical_orders.external_id", "customerID": "canonical_orders.customer_id",
        "employeeID": "canonical_orders.sales_rep_id", "orderDate": "canonical_orders.order_date",
        "requiredDate": None, "shippedDate": "canonical_orders.shipped_date", "shipVia": None, "freight": None,
        "shipName": None, "shipAddress": None, "shipCity": None, "shipRegion": None, "shipPostalCode": None,
        "shipCountry": None,
    },
    "order-details.csv": {
        "orderID": "canonical_order_lines.order_id", "productID": "canonical_order_lines.product_id",
        "unitPrice": "canonical_order_lines.unit_price", "quantity": "canonical_order_lines.quantity",
        "discount": "canonical_order_lines.discount",
    },
    "products.csv": {
        "productID": "canonical_products.external_id", "productName": "canonical_products.name",
        "supplierID": "canonical_products.supplier_id", "categoryID": None, "quantityPerUnit": None,
        "unitPrice": "canonical_products.price", "unitsInStock": None, "unitsOnOrder": None, "reorderLevel": None,
        "discontinued": None,
    },
    "suppliers.csv": {
        "supplierID": "canonical_suppliers.external_id", "companyName": "canonical_suppliers.name",
        "contactName": None, "contactTitle": None, "address": None, "city": None, "region": None,
        "postalCode": None, "country": "canonical_suppliers.country", "phone": "canonical_suppliers.phone",
        "fax": None, "homePage": None,
    },
}  # fmt: skip


def main() -> None:
    expected: dict[str, dict] = {}
    for index, (name, (hint, columns)) in enumerate(sorted(FILES.items())):
        rng = random.Random(index + 17)
        with (HERE / name).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, delimiter=";" if name.endswith(("_de.csv", "buchungen.csv")) else ",")
            writer.writerow([h for h, _, _ in columns])
            for i in range(ROWS):
                writer.writerow([gen(rng, kind, i) for _, kind, _ in columns])
        expected[name] = {"domain_hint": hint, "columns": {h: e for h, _, e in columns}}
    for name, columns in NORTHWIND_EXPECTED.items():
        expected[f"northwind/{name}"] = {"domain_hint": None, "columns": columns}
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
