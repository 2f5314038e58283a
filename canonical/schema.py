"""The canonical schema as data: what the proposer targets and the execution engine loads.

One entry per canonical table, in dependency order (a table's references come before it). Column
types are the engine's value types: text, date, timestamp, money, number, integer, boolean.
`required` columns must be present (mapped or computed) for a row to load.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # text | date | timestamp | money | number | integer | boolean
    required: bool = False
    references: str | None = None  # canonical table a `*_id` column points at
    description: str = ""
    # A required column is not needed when one of these is mapped (a line's amount stands for its price).
    filled_by: tuple[str, ...] = ()
    computed: str = ""  # how the engine fills a required column left unmapped ("" when it cannot)


@dataclass(frozen=True)
class Table:
    name: str  # db table, e.g. "canonical_orders"
    model: str  # "canonical.Order"
    label: str
    columns: tuple[Column, ...]
    # Columns that identify a referent when a reference is not an external id (tried in order).
    lookup_columns: tuple[str, ...] = ("external_id",)
    description: str = ""
    extra: dict = field(default_factory=dict)

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def references(self) -> dict[str, str]:
        return {c.name: c.references for c in self.columns if c.references}

    def missing_required(self, mapped: set[str] | frozenset[str]) -> list[str]:
        """The required columns a mapping filling `mapped` leaves empty: the one rule for the mapping's
        validation, the proposer and the --auto gate. external_id is never missing (it can be derived)."""
        return [
            c.name
            for c in self.columns
            if c.required
            and c.name != "external_id"
            and c.name not in mapped
            and not c.computed
            and not set(c.filled_by) & set(mapped)
        ]


def _ext(required: bool = True) -> Column:
    return Column("external_id", "text", required=required, description="identifier in the source system")


TABLES: tuple[Table, ...] = (
    Table(
        "canonical_employees",
        "canonical.Employee",
        "Employees",
        (
            _ext(),
            Column("name", "text", required=True, filled_by=("external_id",)),
            Column("email", "text"),
            Column("title", "text"),
            Column("team", "text"),
            Column("manager_id", "text", references="canonical_employees"),
            Column("hire_date", "date"),
        ),
        lookup_columns=("external_id", "email", "name"),
    ),
    Table(
        "canonical_customers",
        "canonical.Customer",
        "Customers",
        (
            _ext(),
            Column("name", "text", required=True, filled_by=("external_id",)),
            Column("email", "text"),
            Column("phone", "text"),
            Column("segment", "text"),
            Column("country", "text"),
            Column("city", "text"),
            Column("sales_rep_id", "text", references="canonical_employees"),
            Column("created_at", "timestamp"),
        ),
        lookup_columns=("external_id", "email", "name"),
    ),
    Table(
        "canonical_suppliers",
        "canonical.Supplier",
        "Suppliers",
        (
            _ext(),
            Column("name", "text", required=True, filled_by=("external_id",)),
            Column("email", "text"),
            Column("phone", "text"),
            Column("country", "text"),
        ),
        lookup_columns=("external_id", "email", "name"),
    ),
    Table(
        "canonical_products",
        "canonical.Product",
        "Products",
        (
            Column("external_id", "text", required=True, description="SKU"),
            Column("name", "text", required=True, filled_by=("external_id",)),
            Column("category", "text"),
            Column("price", "money"),
            Column("cost", "money"),
            Column("supplier_id", "text", references="canonical_suppliers"),
        ),
        lookup_columns=("external_id", "name"),
    ),
    Table(
        "canonical_orders",
        "canonical.Order",
        "Orders",
        (
            _ext(),
            Column("customer_id", "text", references="canonical_customers"),
            Column("sales_rep_id", "text", references="canonical_employees"),
            Column("order_date", "date", required=True),
            Column("status", "text"),
            Column("amount", "money", required=True, computed="the sum of the order's lines"),
            Column("currency", "text"),
            Column("shipped_date", "date"),
            Column("shipping_amount", "money", description="freight / shipping charged on the order"),
            Column("tax_amount", "money", description="tax (VAT, sales tax) on the order"),
            Column("discount_amount", "money", description="discount granted on the whole order"),
        ),
    ),
    Table(
        "canonical_order_lines",
        "canonical.OrderLine",
        "Order lines",
        (
            _ext(required=False),
            Column("order_id", "text", required=True, references="canonical_orders"),
            Column("product_id", "text", references="canonical_products"),
            Column("quantity", "number", required=True),
            Column("unit_price", "money", required=True, filled_by=("amount",)),
            Column("discount", "number"),
            Column(
                "amount",
                "money",
                computed="unit_price * quantity * (1 - discount)",
                description="the line's net total; when the file gives it, it is the line's revenue",
            ),
            Column(
                "supplier_id",
                "text",
                references="canonical_suppliers",
                description="who sold or supplied the line (a marketplace seller, a vendor)",
            ),
        ),
    ),
    Table(
        "canonical_invoices",
        "canonical.Invoice",
        "Invoices",
        (
            _ext(),
            Column("order_id", "text", references="canonical_orders"),
            Column("customer_id", "text", references="canonical_customers"),
            Column("invoice_date", "date", required=True),
            Column("due_date", "date"),
            Column("amount", "money", required=True),
            Column("amount_paid", "money"),
            Column("paid", "boolean"),
            Column("paid_date", "date"),
            Column("currency", "text"),
            Column("status", "text"),
        ),
    ),
    Table(
        "canonical_payments",
        "canonical.Payment",
        "Payments",
        (
            _ext(),
            Column("invoice_id", "text", references="canonical_invoices"),
            Column("order_id", "text", references="canonical_orders", description="the order paid (no invoice)"),
            Column("customer_id", "text", references="canonical_customers"),
            Column("payment_date", "date"),
            Column("amount", "money", required=True),
            Column("method", "text"),
            Column("currency", "text"),
        ),
    ),
    Table(
        "canonical_expenses",
        "canonical.Expense",
        "Expenses",
        (
            _ext(required=False),
            Column("expense_date", "date", required=True),
            Column("category", "text"),
            Column("vendor", "text"),
            Column("department", "text"),
            Column("amount", "money", required=True),
            Column("currency", "text"),
            Column("employee_id", "text", references="canonical_employees"),
        ),
    ),
    Table(
        "canonical_inventory",
        "canonical.Inventory",
        "Inventory",
        (
            _ext(required=False),
            Column("product_id", "text", required=True, references="canonical_products"),
            Column("warehouse", "text"),
            Column("snapshot_date", "date", required=True),
            Column("quantity_on_hand", "number", required=True),
            Column("reorder_level", "number"),
        ),
    ),
)

TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}
TABLE_ORDER: list[str] = [t.name for t in TABLES]


def get_table(name: str) -> Table:
    try:
        return TABLES_BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown canonical table {name!r}; known: {', '.join(TABLE_ORDER)}") from None
