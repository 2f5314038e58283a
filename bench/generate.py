"""Seeded generator of business exports at any scale: the same seed gives byte-identical files.

`generate(out_dir, orders=N, seed=S)` writes eight CSV files shaped like real exports (an ERP's
employee list with a reporting line, a CRM's customers, a product catalogue, a shop's orders and
order lines, a billing tool's invoices and payments, an expense tool's report), streaming row by row
so memory stays flat at any scale. Only per-customer and per-product facts (a few MB at 10M orders)
are held. Money is computed in integer cents, so no float rounding can differ between runs; an
order's total is the sum of its lines, an invoice's amount is its order's total.

Scale: N orders, about 2.5 N order lines, 0.85 N invoices, 0.7 N payments, N/10 customers,
N/10 expenses, N/200 products (20..5000) and N/2000 employees (at least 15), or `--employees E` (the
hierarchy's shape at a large scale, e.g. 10M's 5,000 employees, over fewer orders).

    python -m bench.generate --orders 100000 --seed 42 --out .data/bench/demo
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

# Bump when the output for a given seed changes, so cached files are regenerated.
GENERATOR_VERSION = 1

FILES = (
    "employees.csv",
    "customers.csv",
    "products.csv",
    "orders.csv",
    "order_lines.csv",
    "invoices.csv",
    "payments.csv",
    "expenses.csv",
)

HEADERS = {
    "employees.csv": ["Employee ID", "First Name", "Last Name", "Email", "Title", "Team", "Reports To", "Hire Date"],
    "customers.csv": [
        "Customer ID",
        "Company Name",
        "Contact Email",
        "Phone",
        "Segment",
        "Country",
        "City",
        "Account Owner",
        "Created At",
    ],
    "products.csv": ["SKU", "Product Name", "Category", "List Price", "Unit Cost", "Supplier"],
    "orders.csv": ["Order ID", "Customer ID", "Sales Rep ID", "Order Date", "Status", "Currency", "Total", "Ship Date"],
    "order_lines.csv": ["Order ID", "Line No", "SKU", "Quantity", "Unit Price", "Discount", "Line Total"],
    "invoices.csv": [
        "Invoice Number",
        "Order ID",
        "Customer ID",
        "Invoice Date",
        "Due Date",
        "Amount",
        "Amount Paid",
        "Paid",
        "Paid Date",
        "Currency",
        "Status",
    ],
    "payments.csv": ["Payment ID", "Invoice Number", "Customer ID", "Payment Date", "Amount", "Method", "Currency"],
    "expenses.csv": ["Expense ID", "Date", "Category", "Vendor", "Department", "Amount", "Currency", "Employee ID"],
}

# Orders span these five years; invoices are judged paid/overdue as of AS_OF.
FIRST_DAY = date(2021, 1, 1)
DAYS = 5 * 365 + 1
AS_OF = date(2026, 1, 1)
_DATES = [(FIRST_DAY + timedelta(days=i)).isoformat() for i in range(DAYS + 400)]

# fmt: off
FIRST_NAMES = (
    "Anna", "Ben", "Carla", "David", "Emma", "Felix", "Grace", "Hugo", "Ines", "Jonas", "Klara", "Leon", "Mia",
    "Noah", "Olga", "Paul", "Queenie", "Rafael", "Sofia", "Tom", "Uma", "Victor", "Wanda", "Xavier", "Yara", "Zoe",
    "Amir", "Bea", "Chen", "Dana", "Eli", "Farah", "Goran", "Hana", "Ivan", "Jin", "Kofi", "Lena", "Marco", "Nia",
)
LAST_NAMES = (
    "Smith", "Müller", "Garcia", "Rossi", "Dubois", "Novak", "Kowalski", "Jensen", "Silva", "Tanaka", "Okafor",
    "Nguyen", "Schmidt", "Martin", "Costa", "Fischer", "Moreau", "Lopez", "Weber", "Dupont", "Bianchi", "Johansson",
    "Horvat", "Lindqvist", "Papadopoulos", "O'Brien", "Kim", "Patel",
)
COMPANY_WORDS = (
    "Alpine", "Harbor", "Summit", "Cedar", "Northwind", "Blue", "Granite", "Silver", "Maple", "Orchid", "Pioneer",
    "Atlas", "Beacon", "Delta", "Evergreen", "Falcon", "Golden", "Horizon", "Ivory", "Juniper", "Keystone", "Lumen",
    "Meridian", "Nova", "Oak", "Prairie", "Quartz", "River",
)
# fmt: on
COMPANY_KINDS = ("Trading", "Foods", "Supplies", "Logistics", "Retail", "Imports", "Markets", "Group")
COMPANY_SUFFIXES = ("Ltd", "GmbH", "Inc.", "S.A.", "LLC", "AB", "B.V.", "& Co.", "Ltd, Branch Office")
SEGMENTS = ("Enterprise", "Mid-Market", "SMB", "Consumer")
SEGMENT_WEIGHTS = (10, 25, 45, 20)
LOCATIONS = (
    ("USA", "Seattle"),
    ("USA", "Boston"),
    ("USA", "Austin"),
    ("Germany", "Berlin"),
    ("Germany", "München"),
    ("France", "Lyon"),
    ("France", "Paris"),
    ("UK", "London"),
    ("Spain", "Sevilla"),
    ("Italy", "Milano"),
    ("Brazil", "São Paulo"),
    ("Japan", "Osaka"),
    ("Sweden", "Göteborg"),
    ("Canada", "Montréal"),
)
REGIONS = ("North America", "EMEA", "LATAM", "APAC", "DACH", "Nordics")
CATEGORIES = (
    "Beverages",
    "Condiments",
    "Confections",
    "Dairy Products",
    "Grains/Cereals",
    "Meat/Poultry",
    "Produce",
    "Seafood",
)
# fmt: off
PRODUCT_ADJECTIVES = (
    "Classic", "Organic", "Smoked", "Spicy", "Sweet", "Aged", "Fresh", "Premium", "Rustic", "Wild",
)
PRODUCT_NOUNS = (
    "Tea", "Coffee", "Sauce", "Syrup", "Cheese", "Bread", "Pasta", "Sausage", "Apples", "Salmon", "Chocolate",
    "Honey", "Olives",
)
# fmt: on
STATUSES = ("completed", "shipped", "processing", "cancelled", "refunded")
STATUS_WEIGHTS = (70, 15, 8, 5, 2)
CURRENCIES = ("USD", "EUR", "GBP")
CURRENCY_WEIGHTS = (70, 22, 8)
DISCOUNTS = (0, 0, 0, 0, 5, 10, 15, 20, 25)  # percent
PAYMENT_METHODS = ("card", "bank transfer", "paypal", "check")
PAYMENT_WEIGHTS = (50, 35, 10, 5)
EXPENSE_CATEGORIES = ("Travel", "Meals", "Software", "Office Supplies", "Marketing", "Training", "Hardware")
DEPARTMENTS = ("Sales", "Marketing", "Finance", "Operations", "Engineering", "Support")
VENDORS = ("Lufthansa", "Uber", "Hilton", "Staples", "Amazon", "Deutsche Bahn", "Atlassian", "Zoom", "Marriott")


def _cum(weights: tuple[int, ...]) -> list[int]:
    out, total = [], 0
    for w in weights:
        total += w
        out.append(total)
    return out


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


@dataclass(frozen=True)
class Scale:
    orders: int
    customers: int
    products: int
    employees: int
    expenses: int

    @classmethod
    def for_orders(cls, orders: int, employees: int | None = None) -> Scale:
        if orders < 1:
            raise ValueError("orders must be at least 1")
        return cls(
            orders=orders,
            customers=max(50, orders // 10),
            products=max(20, min(5000, orders // 200)),
            employees=max(15, employees if employees is not None else orders // 2000),
            expenses=max(20, orders // 10),
        )


@dataclass
class Hierarchy:
    """Employee numbers (1-based) by level: one CEO, regional VPs, managers, reps."""

    vps: list[int]
    managers: list[int]
    reps: list[int]
    manager_of: dict[int, int]


def _hierarchy(n: int, rnd: random.Random) -> Hierarchy:
    n_vps = max(2, min(len(REGIONS), n // 50))
    n_managers = max(3, n // 8)
    ids = list(range(2, n + 1))
    vps, managers, reps = ids[:n_vps], ids[n_vps : n_vps + n_managers], ids[n_vps + n_managers :]
    manager_of = {vp: 1 for vp in vps}
    for i, m in enumerate(managers):
        manager_of[m] = vps[i % len(vps)]
    for r in reps:
        manager_of[r] = managers[rnd.randrange(len(managers))]
    return Hierarchy(vps=vps, managers=managers, reps=reps, manager_of=manager_of)


def _employee_rows(rnd: random.Random, scale: Scale, h: Hierarchy) -> Iterator[list[str]]:
    vp_region = {vp: REGIONS[i % len(REGIONS)] for i, vp in enumerate(h.vps)}

    def region(e: int) -> str:
        while e not in vp_region:
            if e == 1:
                return "Executive"
            e = h.manager_of[e]
        return vp_region[e]

    titles = {1: "Chief Executive Officer"} | dict.fromkeys(h.vps, "Vice President, Sales")
    titles |= dict.fromkeys(h.managers, "Sales Manager") | dict.fromkeys(h.reps, "Sales Representative")
    for e in range(1, scale.employees + 1):
        first, last = rnd.choice(FIRST_NAMES), rnd.choice(LAST_NAMES)
        email = f"{first}.{last}.{e}@example.com".lower().replace("'", "")
        hire = _DATES[rnd.randrange(0, DAYS)] if e > 1 else "2015-03-01"
        boss = h.manager_of.get(e)
        yield [f"E{e:05d}", first, last, email, titles[e], region(e), f"E{boss:05d}" if boss else "", hire]


def _customer_rows(rnd: random.Random, scale: Scale, h: Hierarchy, owner: list[int]) -> Iterator[list[str]]:
    seg_cum = _cum(SEGMENT_WEIGHTS)
    for c in range(1, scale.customers + 1):
        rep = h.reps[rnd.randrange(len(h.reps))]
        owner.append(rep)
        name = f"{rnd.choice(COMPANY_WORDS)} {rnd.choice(COMPANY_KINDS)} {rnd.choice(COMPANY_SUFFIXES)}"
        country, city = LOCATIONS[rnd.randrange(len(LOCATIONS))]
        segment = rnd.choices(SEGMENTS, cum_weights=seg_cum)[0]
        phone = f"+1 555 {rnd.randrange(1000000):07d}" if rnd.random() < 0.9 else ""
        email = f"billing{c}@{name.split()[0].lower()}.example" if rnd.random() < 0.95 else ""
        created = f"{_DATES[rnd.randrange(0, DAYS)]} {rnd.randrange(24):02d}:{rnd.randrange(60):02d}:00"
        yield [f"C{c:07d}", name, email, phone, segment, country, city, f"E{rep:05d}", created]


def _product_rows(rnd: random.Random, scale: Scale, price: list[int]) -> Iterator[list[str]]:
    suppliers = [f"{w} {k}" for w in COMPANY_WORDS[:12] for k in COMPANY_KINDS[:3]]
    for p in range(1, scale.products + 1):
        cents = rnd.randrange(250, 25000)
        price.append(cents)
        cost = cents * rnd.randrange(40, 80) // 100
        name = f"{rnd.choice(PRODUCT_ADJECTIVES)} {rnd.choice(PRODUCT_NOUNS)} {p}"
        yield [
            f"SKU-{p:05d}",
            name,
            CATEGORIES[p % len(CATEGORIES)],
            _money(cents),
            _money(cost),
            rnd.choice(suppliers),
        ]


def _expense_rows(rnd: random.Random, scale: Scale) -> Iterator[list[str]]:
    n_emp = scale.employees
    for x in range(1, scale.expenses + 1):
        day = _DATES[x * DAYS // (scale.expenses + 1)]
        cents = rnd.randrange(500, 250000)
        currency = "EUR" if rnd.random() < 0.3 else "USD"
        yield [
            f"EXP-{x:07d}",
            day,
            rnd.choice(EXPENSE_CATEGORIES),
            rnd.choice(VENDORS),
            rnd.choice(DEPARTMENTS),
            _money(cents),
            currency,
            f"E{rnd.randrange(1, n_emp + 1):05d}",
        ]


def _table(values: tuple[str, ...], weights: tuple[int, ...]) -> list[str]:
    """A lookup list in which each value appears `weight` times: `table[int(random() * len)]` picks by weight."""
    return [v for v, w in zip(values, weights, strict=True) for _ in range(w)]


def _order_rows(
    rnd: random.Random, n_orders: int, h: Hierarchy, owner: list[int], price: list[int]
) -> Iterator[tuple[list[str], list[list[str]], list[str] | None, list[list[str]]]]:
    """Per order: (order row, its lines, its invoice or None, that invoice's payments).

    Order dates rise with the order number (as in a real shop's export), with a few days of jitter,
    so appending rows touches the latest months only. This loop makes most of the rows, so it draws
    with `int(random() * n)` and lookup lists rather than the slower randrange/choices.
    """
    statuses, currencies = _table(STATUSES, STATUS_WEIGHTS), _table(CURRENCIES, CURRENCY_WEIGHTS)
    methods = _table(PAYMENT_METHODS, PAYMENT_WEIGHTS)
    n_status, n_currency, n_method = len(statuses), len(currencies), len(methods)
    n_customers, n_products, reps, n_reps = len(owner), len(price), h.reps, len(h.reps)
    n_disc = len(DISCOUNTS)
    disc_text = [f"{d / 100:.2f}" for d in DISCOUNTS]
    skus = [f"SKU-{p + 1:05d}" for p in range(n_products)]
    prices = [f"{c // 100}.{c % 100:02d}" for c in price]
    dates = _DATES
    rand = rnd.random
    as_of = (AS_OF - FIRST_DAY).days
    payment_no = 0
    for o in range(1, n_orders + 1):
        order_id = f"SO-{o:08d}"
        day = min(DAYS - 1, (o * DAYS) // (n_orders + 1) + int(rand() * 4))
        c = int(rand() * n_customers)
        rep = owner[c] if rand() < 0.9 else reps[int(rand() * n_reps)]
        status = statuses[int(rand() * n_status)]
        currency = currencies[int(rand() * n_currency)]
        lines, total = [], 0
        for line_no in range(1, 2 + int(rand() * 4)):
            p = int(rand() * n_products)
            qty = 1 + int(rand() * 20)
            d = int(rand() * n_disc)
            cents = (qty * price[p] * (100 - DISCOUNTS[d]) + 50) // 100
            total += cents
            lines.append(
                [
                    order_id,
                    str(line_no),
                    skus[p],
                    str(qty),
                    prices[p],
                    disc_text[d],
                    f"{cents // 100}.{cents % 100:02d}",
                ]
            )
        total_text = f"{total // 100}.{total % 100:02d}"
        shipped = status in ("completed", "shipped", "refunded")
        ship = dates[day + 1 + int(rand() * 10)] if shipped else ""
        customer_id = f"C{c + 1:07d}"
        order = [order_id, customer_id, f"E{rep:05d}", dates[day], status, currency, total_text, ship]
        invoice, payments = None, []
        if shipped:
            due = day + 30
            r = rand()
            paid_cents = total if r < 0.75 else total // 2 if r < 0.85 else 0
            paid_day = day + 1 + int(rand() * 59) if paid_cents else None
            if paid_day is not None and paid_day >= as_of:
                paid_cents, paid_day = 0, None
            if paid_cents == total:
                inv_status = "paid"
            elif paid_cents:
                inv_status = "partially paid"
            else:
                inv_status = "overdue" if due < as_of else "open"
            invoice_no = f"INV-{o:08d}"
            paid_text = _money(paid_cents)
            invoice = [
                invoice_no,
                order_id,
                customer_id,
                dates[day],
                dates[due],
                total_text,
                paid_text,
                "yes" if paid_cents == total else "no",
                dates[paid_day] if paid_cents == total else "",
                currency,
                inv_status,
            ]
            if paid_cents:
                payment_no += 1
                method = methods[int(rand() * n_method)]
                payments.append(
                    [f"PAY-{payment_no:08d}", invoice_no, customer_id, dates[paid_day], paid_text, method, currency]
                )
        yield order, lines, invoice, payments


def _open_writer(path: Path):
    fh = path.open("w", newline="", encoding="utf-8")
    return fh, csv.writer(fh, lineterminator="\n")


def generate(out_dir: Path | str, *, orders: int, seed: int = 42, employees: int | None = None) -> dict[str, Path]:
    """Write the eight export files for `orders` orders into `out_dir`; return {file name: path}.
    `employees`: the hierarchy's size instead of the scale's (`Scale.for_orders`).

    Also writes `manifest.json` (seed, scale, generator version, rows per file), which
    `generate_cached` uses to reuse files that already match.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    scale = Scale.for_orders(orders, employees)
    rnd = random.Random(seed)
    hierarchy = _hierarchy(scale.employees, rnd)
    counts: dict[str, int] = {}

    def write(name: str, rows: Iterator[list[str]]) -> None:
        fh, writer = _open_writer(out / name)
        with fh:
            writer.writerow(HEADERS[name])
            n = 0
            for row in rows:
                writer.writerow(row)
                n += 1
        counts[name] = n

    owner: list[int] = []
    price: list[int] = []
    write("employees.csv", _employee_rows(rnd, scale, hierarchy))
    write("customers.csv", _customer_rows(rnd, scale, hierarchy, owner))
    write("products.csv", _product_rows(rnd, scale, price))

    # Orders, lines, invoices and payments come from one pass, each streamed to its own file.
    names = ("orders.csv", "order_lines.csv", "invoices.csv", "payments.csv")
    handles = [_open_writer(out / name) for name in names]
    try:
        w_orders, w_lines, w_invoices, w_payments = (w for _, w in handles)
        for name, (_, w) in zip(names, handles, strict=True):
            w.writerow(HEADERS[name])
            counts[name] = 0
        for order, lines, invoice, payments in _order_rows(rnd, scale.orders, hierarchy, owner, price):
            w_orders.writerow(order)
            w_lines.writerows(lines)
            counts["order_lines.csv"] += len(lines)
            if invoice is not None:
                w_invoices.writerow(invoice)
                counts["invoices.csv"] += 1
            if payments:
                w_payments.writerows(payments)
                counts["payments.csv"] += len(payments)
        counts["orders.csv"] = scale.orders
    finally:
        for fh, _ in handles:
            fh.close()

    write("expenses.csv", _expense_rows(rnd, scale))
    manifest = {"generator_version": GENERATOR_VERSION, "seed": seed, "scale": asdict(scale), "rows": counts}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return {name: out / name for name in FILES}


def read_manifest(out_dir: Path | str) -> dict | None:
    path = Path(out_dir) / "manifest.json"
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def cached_files(
    out_dir: Path | str, *, orders: int, seed: int = 42, employees: int | None = None
) -> dict[str, Path] | None:
    """The files in `out_dir` when its manifest says they are this scale and seed's, else None."""
    out = Path(out_dir)
    manifest = read_manifest(out)
    if (
        manifest
        and manifest.get("generator_version") == GENERATOR_VERSION
        and manifest.get("seed") == seed
        and manifest.get("scale") == asdict(Scale.for_orders(orders, employees))
        and all((out / name).exists() for name in FILES)
    ):
        return {name: out / name for name in FILES}
    return None


def generate_cached(
    out_dir: Path | str, *, orders: int, seed: int = 42, employees: int | None = None
) -> dict[str, Path]:
    """Like `generate`, but reuses the files in `out_dir` when its manifest says they match."""
    return cached_files(out_dir, orders=orders, seed=seed, employees=employees) or generate(
        out_dir, orders=orders, seed=seed, employees=employees
    )


def write_sized_orders(path: Path | str, *, target_bytes: int, seed: int = 42) -> int:
    """Write an orders export of at least `target_bytes` (e.g. the 100 MB file the profiler is timed on).

    Returns the number of data rows. Deterministic like `generate`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # ~72 bytes per order row: plan enough orders that the dates still span the five years.
    planned = max(1000, target_bytes // 60)
    scale = Scale.for_orders(planned)
    rnd = random.Random(seed)
    hierarchy = _hierarchy(scale.employees, rnd)
    owner: list[int] = []
    price: list[int] = []
    for _ in _customer_rows(rnd, scale, hierarchy, owner):
        pass
    for _ in _product_rows(rnd, scale, price):
        pass
    fh, writer = _open_writer(path)
    rows = 0
    with fh:
        writer.writerow(HEADERS["orders.csv"])
        for order, *_ in _order_rows(rnd, planned, hierarchy, owner, price):
            writer.writerow(order)
            rows += 1
            if rows % 1000 == 0 and fh.tell() >= target_bytes:
                break
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--employees", type=int, help="employees in the hierarchy (default: orders / 2000)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    paths = generate(args.out, orders=args.orders, seed=args.seed, employees=args.employees)
    manifest = read_manifest(args.out) or {}
    for name, path in paths.items():
        print(f"{path}  {manifest.get('rows', {}).get(name, '?')} rows  {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
