"""Writes the held-out evaluation set: export layouts looked up in public documentation, not used for tuning.

Unlike tests/data/eval/ (written beside the synonym table), these headers were taken from the tools'
published export / import column lists (the `source` of each file below) and the expected target of
every column was written down from the documentation's meaning of that column before the proposer was
ever run on them. Values are generated (seeded) with the development set's value kinds plus a few of
their own. `expected`: "canonical_table.column", a list of acceptable targets, or null (no canonical
column holds it). Run: `.venv/bin/python tests/data/eval_holdout/generate.py`.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import random
from pathlib import Path

HERE = Path(__file__).parent
ROWS = 40
_spec = importlib.util.spec_from_file_location("eval_generate", HERE.parent / "eval" / "generate.py")
_dev = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_dev)


def gen(rng: random.Random, kind: str, i: int):
    match kind:
        case "time":
            return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
        case "tz":
            return rng.choice(["PST", "PDT"])
        case "amazon_id":
            return f"{rng.randint(100, 999)}-{rng.randint(1000000, 9999999)}-{rng.randint(1000000, 9999999)}"
        case "asin":
            return f"B0{rng.randint(10000000, 99999999)}"
        case "amazon_status":
            return rng.choice(["Shipped", "Pending", "Cancelled"])
        case "channel":
            return rng.choice(["AFN", "MFN"])
        case "sales_channel":
            return rng.choice(["Amazon.com", "Amazon.de"])
        case "service":
            return rng.choice(["Standard", "Expedited"])
        case "paypal_type":
            return rng.choice(["Express Checkout Payment", "Website Payment", "Refund"])
        case "paypal_status":
            return rng.choice(["Completed", "Pending"])
        case "txn":
            return f"{rng.randint(10**16, 10**17 - 1):X}"[:17]
        case "fee":
            return f"-{rng.randint(30, 900) / 100:.2f}"
        case "handle":
            return rng.choice(["chai-tea", "aniseed-syrup", "pavlova", "konbu", "ikura"])
        case "html":
            return "<p>" + rng.choice(["Organic tea", "Sweet syrup", "Classic dessert"]) + "</p>"
        case "grams":
            return str(rng.randint(50, 2000))
        case "option":
            return rng.choice(["Title", "Size"])
        case "option_value":
            return rng.choice(["Default Title", "S", "M", "L"])
        case "stripe_cus":
            return f"cus_{rng.randint(10**13, 10**14 - 1):x}"
        case "account":
            return rng.choice(["Sales", "Services", "Cost of Goods Sold", "Inventory Asset"])
        case "qb_type":
            return rng.choice(["Inventory", "Service", "NonInventory"])
        case "odoo_ref":
            return f"S{i + 1:05d}"
        case "odoo_status":
            return rng.choice(["Sales Order", "Quotation", "Cancelled"])
        case "invoice_status":
            return rng.choice(["Fully Invoiced", "To Invoice", "Nothing to Invoice"])
        case "icepay_status":
            return rng.choice(["OK", "OPEN", "ERR"])
        case "vat_rate":
            return rng.choice(["19", "7"])
        case "days":
            return str(rng.randint(0, 90))
        case "cgm_status":
            return rng.choice(["offen", "bezahlt", "storniert"])
        case "nif":
            return rng.choice(["B12345678", "12345678Z", "X1234567L"])
        case "es_status":
            return rng.choice(["Pagada", "No pagada", "Pagada parcialmente"])
        case "es_type":
            return rng.choice(["Completa", "Simplificada"])
        case "salutation":
            return rng.choice(["Mr.", "Mrs.", "Dr."])
        case "terms":
            return rng.choice(["Net 30", "Net 15", "Due on receipt"])
        case "website":
            return rng.choice(["http://example.com", "http://acme.test"])
        case "percent2":
            return rng.choice(["0", "2.5", "5"])
    return _dev.gen(rng, kind, i)


# file name → (source, domain hint or None, [(header, value kind, expected)])
FILES: dict[str, tuple[str, str | None, list[tuple[str, str, object]]]] = {
    "square_transactions.csv": (
        "Square Dashboard › Transactions › Export (column list: skills.sh/openaccountant/skills/square-import)",
        None,
        [
            ("Date", "us", ["canonical_orders.order_date", "canonical_payments.payment_date"]),
            ("Time", "time", None),
            ("Transaction ID", "code", ["canonical_orders.external_id", "canonical_payments.external_id"]),
            ("Description", "text", None),
            ("Gross Sales", "money_usd", ["canonical_orders.amount", "canonical_payments.amount"]),
            ("Tips", "money_usd", None),
            ("Processing Fees", "money_usd", None),
            ("Refunds", "money_usd", None),
            ("Net Sales", "money_usd", None),
            ("Payment Method", "method", ["canonical_payments.method", None]),
        ],
    ),
    "paypal_activity_download.csv": (
        "PayPal Download History fields (developer.paypal.com … admin/download-history; Activity Download spec)",
        None,
        [
            ("Date", "us", "canonical_payments.payment_date"),
            ("Time", "time", None),
            ("TimeZone", "tz", None),
            ("Name", "full", [None, "canonical_payments.customer_id"]),
            ("Type", "paypal_type", None),
            ("Status", "paypal_status", None),
            ("Currency", "currency", "canonical_payments.currency"),
            ("Gross", "money", "canonical_payments.amount"),
            ("Fee", "fee", None),
            ("Net", "money", None),
            ("From Email Address", "email", ["canonical_payments.customer_id", None]),
            ("Transaction ID", "txn", "canonical_payments.external_id"),
            ("Invoice Number", "inv_no", "canonical_payments.invoice_id"),
        ],
    ),
    "amazon_all_orders.tsv": (
        "Amazon Seller Central › All Orders Report (sellercentral.amazon.com help 200547170)",
        None,
        [
            ("amazon-order-id", "amazon_id", ["canonical_orders.external_id", "canonical_order_lines.order_id"]),
            ("merchant-order-id", "empty", None),
            ("purchase-date", "iso_t", "canonical_orders.order_date"),
            ("last-updated-date", "iso_t", None),
            ("order-status", "amazon_status", "canonical_orders.status"),
            ("fulfillment-channel", "channel", None),
            ("sales-channel", "sales_channel", None),
            ("ship-service-level", "service", None),
            ("product-name", "product", [None, "canonical_products.name"]),
            ("sku", "sku", ["canonical_order_lines.product_id", "canonical_products.external_id"]),
            ("asin", "asin", None),
            ("item-status", "amazon_status", None),
            ("quantity", "qty", "canonical_order_lines.quantity"),
            ("currency", "currency", "canonical_orders.currency"),
            ("item-price", "money", "canonical_order_lines.amount"),  # the docs: aggregate of the quantity
        ],
    ),
    "shopify_products_export.csv": (
        "Shopify product CSV (help.shopify.com/en/manual/products/import-export/using-csv; template columns)",
        None,
        [
            ("Handle", "handle", None),
            ("Title", "product", "canonical_products.name"),
            ("Body (HTML)", "html", None),
            ("Vendor", "company", ["canonical_products.supplier_id", None]),
            ("Type", "category", "canonical_products.category"),
            ("Tags", "tags", None),
            ("Published", "bool", None),
            ("Option1 Name", "option", None),
            ("Option1 Value", "option_value", None),
            ("Variant SKU", "sku", "canonical_products.external_id"),
            ("Variant Grams", "grams", None),
            ("Variant Inventory Qty", "qty", [None, "canonical_inventory.quantity_on_hand"]),
            ("Variant Price", "money", "canonical_products.price"),
            ("Variant Compare At Price", "money", None),
            ("Cost per item", "money", "canonical_products.cost"),
        ],
    ),
    "stripe_customers.csv": (
        "Stripe customer export / card export fields (docs.stripe.com … data-migrations/export-file-formats)",
        None,
        [
            ("id", "stripe_cus", "canonical_customers.external_id"),
            ("Description", "text", None),
            ("Email", "email", "canonical_customers.email"),
            ("Name", "full", "canonical_customers.name"),
            ("Created (UTC)", "iso_ts", "canonical_customers.created_at"),
            ("Delinquent", "bool", None),
            ("Balance", "cents", None),
            ("card.address_city", "city", "canonical_customers.city"),
            ("card.address_country", "country_code", "canonical_customers.country"),
            ("card.address_zip", "zip", None),
        ],
    ),
    "xero_contacts.csv": (
        "Xero contacts import template / export (help.xero.com Contacts_Import, ContactsAccountNumber)",
        "customers",
        [
            ("ContactName", "company", "canonical_customers.name"),
            ("AccountNumber", "code", "canonical_customers.external_id"),
            ("EmailAddress", "email", "canonical_customers.email"),
            ("FirstName", "first", None),
            ("LastName", "last", None),
            ("POAddressLine1", "address", None),
            ("POCity", "city", "canonical_customers.city"),
            ("PORegion", "empty", None),
            ("POPostalCode", "zip", None),
            ("POCountry", "country", "canonical_customers.country"),
            ("PhoneNumber", "phone", "canonical_customers.phone"),
            ("MobileNumber", "phone", None),
            ("BankAccountNumber", "zip", None),
            ("TaxNumber", "nif", None),
            ("Website", "website", None),
            ("Discount", "percent2", None),
        ],
    ),
    "quickbooks_products_services.csv": (
        "QuickBooks Online: which products and services fields are imported (plugin-qbo.intuit.com help)",
        None,
        [
            ("Name", "product", "canonical_products.name"),
            ("SKU", "sku", "canonical_products.external_id"),
            ("Type", "qb_type", None),
            ("Sales Description", "text", None),
            ("Sales Price / Rate", "money", "canonical_products.price"),
            ("Income Account", "account", None),
            ("Purchase Description", "text", None),
            ("Purchase Cost", "money", "canonical_products.cost"),
            ("Expense Account", "account", None),
            ("Quantity On Hand", "qty", [None, "canonical_inventory.quantity_on_hand"]),
            ("Reorder Point", "qty", [None, "canonical_inventory.reorder_level"]),
            ("Inventory Asset Account", "account", None),
            ("Quantity as-of Date", "us", [None, "canonical_inventory.snapshot_date"]),
        ],
    ),
    "quickbooks_desktop_customers.csv": (
        "QuickBooks Desktop customer import: allowed fields (column headings and data requirements)",
        None,
        [
            ("Job or Customer Name", "company", "canonical_customers.name"),
            ("Opening Balance", "money", None),
            ("Opening Balance As Of", "us", None),
            ("Company Name", "company", None),
            ("Salutation", "salutation", None),
            ("First Name", "first", None),
            ("Last Name", "last", None),
            ("Contact", "full", None),
            ("Phone", "phone", "canonical_customers.phone"),
            ("Fax", "phone", None),
            ("Email", "email", "canonical_customers.email"),
            ("Billing Address 1", "address", None),
            ("Customer Type", "segment", "canonical_customers.segment"),
            ("Terms", "terms", None),
            ("Sales Rep", "emp_id", "canonical_customers.sales_rep_id"),
            ("Account Number", "code", "canonical_customers.external_id"),
            ("Credit Limit", "money", None),
        ],
    ),
    "odoo_sale_orders.csv": (
        "Odoo sale.order list export (field labels: Order Reference, Order Date, Customer, Salesperson, …)",
        None,
        [
            ("Order Reference", "odoo_ref", "canonical_orders.external_id"),
            ("Order Date", "iso_ts", "canonical_orders.order_date"),
            ("Customer", "company", "canonical_orders.customer_id"),
            ("Salesperson", "full", "canonical_orders.sales_rep_id"),
            ("Untaxed Amount", "money", None),
            ("Taxes", "money", None),
            ("Total", "money", "canonical_orders.amount"),
            ("Status", "odoo_status", "canonical_orders.status"),
            ("Invoice Status", "invoice_status", None),
            ("Currency", "currency", "canonical_orders.currency"),
        ],
    ),
    "icepay_payments.csv": (
        "ICEPAY payments CSV export, base structure (docs.icepay.com/finance/reports/csv-export)",
        None,
        [
            ("PaymentID", "code", "canonical_payments.external_id"),
            ("OrderTime", "iso_t", None),
            ("Amount", "money", "canonical_payments.amount"),
            ("Currency", "currency", "canonical_payments.currency"),
            ("Country", "country_code", None),
            ("OrderID", "order_no", None),
            ("Reference", "inv_no", None),
            ("Description", "text", None),
            ("LastPaymentStatus", "icepay_status", None),
            ("PaymentTime", "iso_t", "canonical_payments.payment_date"),
            ("CustomerName", "full", "canonical_payments.customer_id"),
            ("ProviderTransactionID", "txn", None),
        ],
    ),
    "transactions_import.csv": (
        "LeadConnector / HighLevel transactions CSV import field formats (help.leadconnectorhq.com)",
        None,
        [
            ("Customer first name", "first", None),
            ("Customer last name", "last", None),
            ("Customer email", "email", "canonical_payments.customer_id"),
            ("Customer phone", "phone", None),
            ("Payment Method", "method", "canonical_payments.method"),
            ("Currency", "currency", "canonical_payments.currency"),
            ("Sub total", "money", None),
            ("Discount", "money", None),
            ("Total Tax Amount", "money", None),
            ("Tip Amount", "money", None),
            ("Late Fees", "money", None),
            ("Amount Paid", "money", "canonical_payments.amount"),
            ("Transaction date", "iso", "canonical_payments.payment_date"),
            ("Transaction time", "time", None),
        ],
    ),
    "rechnungsliste_cgm_de.csv": (
        "CGM MAXX Rechnungsliste CSV-Export (update.compugroup.at webhelp): Rechnungszeilen-Spalten",
        None,
        [
            ("Rechnungsnummer", "inv_no", "canonical_invoices.external_id"),
            ("Rechnungsdatum", "de", "canonical_invoices.invoice_date"),
            ("Rechnungsbetrag Brutto", "money_de", "canonical_invoices.amount"),
            ("USt Satz 1 Prozent", "vat_rate", None),
            ("USt Satz 1 Betrag", "money_de", None),
            ("Rechnungsstatus", "cgm_status", "canonical_invoices.status"),
            ("Rechnungsempfänger Zeile 0", "company", ["canonical_invoices.customer_id", None]),
            ("Rechnungsempfänger Zeile 1", "address", None),
            ("Tage Offen", "days", None),
            ("Storno-Datum", "empty", None),
            ("Storno-Begründung", "empty", None),
        ],
    ),
    "facturas_docfav_es.csv": (
        "Docfav Ventas › Facturas: campos de la tabla exportable (docs.docfav.com)",
        None,
        [
            ("Ref. fac", "inv_no", "canonical_invoices.external_id"),
            ("Fecha creación", "eu", "canonical_invoices.invoice_date"),
            ("Cliente", "company", [None, "canonical_customers.name"]),
            ("Número de cliente", "cust_id", "canonical_invoices.customer_id"),
            ("NIF", "nif", None),
            ("Dirección", "address", None),
            ("Ciudad", "city", [None, "canonical_customers.city"]),
            ("Código postal", "zip", None),
            ("Subtotal", "money_de", None),
            ("VAT", "money_de", None),
            ("IRPF", "money_de", None),
            ("Total", "money_de", "canonical_invoices.amount"),
            ("Método de pago", "method", None),
            ("Tipo", "es_type", None),
            ("Estado pago", "es_status", ["canonical_invoices.status", "canonical_invoices.paid"]),
            ("Estado factura", "es_type", None),
        ],
    ),
    "facturas_a3_es.csv": (
        "Cegid a3 (Gestiona) informe de facturas, exportación Excel (help.cegidgestiona3w.cegid.com)",
        None,
        [
            ("Número de factura", "inv_no", "canonical_invoices.external_id"),
            ("Código de cliente", "cust_id", "canonical_invoices.customer_id"),
            ("Cliente de facturación", "company", [None, "canonical_customers.name"]),
            ("Fecha de emisión", "eu", "canonical_invoices.invoice_date"),
            ("Base imponible", "money_de", None),
            ("Importe de la factura", "money_de", "canonical_invoices.amount"),
            ("Importe de los vencimientos", "money_de", None),
            ("Devoluciones", "money_de", None),
            ("Fecha de cobro", "eu", "canonical_invoices.paid_date"),
        ],
    ),
    "liste_factures_fr.csv": (
        "Neil: télécharger la liste des factures (numéro, société, destinataire, échéances, montant); "
        "Pennylane: dates d'émission et d'échéance",
        None,
        [
            ("Numéro de facture", "inv_no", "canonical_invoices.external_id"),
            ("Date d'émission", "eu", "canonical_invoices.invoice_date"),
            ("Date d'échéance", "eu", "canonical_invoices.due_date"),
            ("Société", "company", "canonical_invoices.customer_id"),
            ("Destinataire", "full", None),
            ("Montant", "money_de", "canonical_invoices.amount"),
        ],
    ),
}


def main() -> None:
    expected: dict[str, dict] = {}
    for index, (name, (source, hint, columns)) in enumerate(sorted(FILES.items())):
        rng = random.Random(index + 101)
        delimiter = "\t" if name.endswith(".tsv") else ";" if name.endswith(("_de.csv", "_es.csv", "_fr.csv")) else ","
        with (HERE / name).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, delimiter=delimiter)
            writer.writerow([h for h, _, _ in columns])
            for i in range(ROWS):
                writer.writerow([gen(rng, kind, i) for _, kind, _ in columns])
        expected[name] = {"source": source, "domain_hint": hint, "columns": {h: e for h, _, e in columns}}
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
