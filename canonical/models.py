"""Canonical schema v1 (shared/CONTRACT.md section 2) with the v2 additions (docs/SCHEMA.md): order
shipping/tax/discount amounts, a line's supplier, payments by order with an optional date, and
`order_lines.amount_computed` (the engine's own mark).

Every table has a surrogate `id`, provenance (`source_id`, `source_row`) and a unique `external_id`
(the source system's identifier, or a deterministic one derived from the mapped values).
`at_grain` says whether a file at the table's own grain described the row (docs/SCHEMA.md, "Who owns a column").
References (`*_id`) hold the referenced row's surrogate id; mappings fill them with the referent's
external id / name / email and the execution engine resolves them. A referent that did not exist
is created as a placeholder row (`is_placeholder`), unless the mapping asks to reject such rows.
Money is numeric(14,2); dates are dates; timestamps are timezone-aware.
"""

from __future__ import annotations

from django.contrib.postgres.indexes import BrinIndex
from django.db import models

MONEY = {"max_digits": 14, "decimal_places": 2}


class CanonicalModel(models.Model):
    external_id = models.CharField(max_length=255, unique=True)
    # Provenance, not a business reference: no database constraint, because its per-row check at commit
    # would cost every bulk load as much as the index writes. Django applies SET_NULL on deletion.
    source = models.ForeignKey(
        "mappings.DataSource",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,  # a BRIN index instead (Meta)
    )
    source_row = models.IntegerField(null=True, blank=True)
    is_placeholder = models.BooleanField(
        default=False, db_default=False, help_text="Created to satisfy a reference; no source row described it yet."
    )
    # Every other column of the files that described the row, typed (docs/SCHEMA.md, "Attributes"): keys are
    # registered in canonical_attribute_keys; sources merge by key, so one file's attributes never erase another's.
    attributes = models.JSONField(default=dict, blank=True, db_default=models.Value({}, models.JSONField()))
    # Who owns the row's columns (docs/SCHEMA.md, "Who owns a column"): a file at this table's grain (one row per
    # row of this table) owns them; a file of another grain (a lines file's orders) fills only rows no such file has.
    at_grain = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Described by a file at this table's grain: files of other grains no longer write its columns.",
    )

    class Meta:
        abstract = True
        # Lookups by source (the KPI refresh finds the rows an execution wrote; deleting an upload clears its
        # provenance) use a BRIN index: an execution's rows are appended together, so the index is a summary
        # per block range, built by one pass over the table instead of a sort. A bulk load rebuilds every
        # secondary index, and a B-tree on source_id costs a sort of the table where BRIN costs one scan.
        # No index on `attributes`: every read of them goes through the datasets and kept summaries (dashboards/kpi),
        # never a containment search of a canonical table, and a GIN index cost a 1M-row load with five attributes
        # more than the copy of their values (bench/RESULTS-attributes.md).
        indexes = [BrinIndex(fields=["source"], name="%(class)s_source_brin")]

    def __str__(self) -> str:
        return getattr(self, "name", None) or self.external_id


class Employee(CanonicalModel):
    name = models.CharField(max_length=255, blank=True, default="", db_default="")
    email = models.CharField(max_length=255, blank=True, default="", db_default="")
    title = models.CharField(max_length=255, blank=True, default="", db_default="")
    team = models.CharField(max_length=255, blank=True, default="", db_default="")
    manager = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports")
    hire_date = models.DateField(null=True, blank=True)

    class Meta(CanonicalModel.Meta):
        db_table = "canonical_employees"


class Customer(CanonicalModel):
    name = models.CharField(max_length=255, blank=True, default="", db_default="")
    email = models.CharField(max_length=255, blank=True, default="", db_default="")
    phone = models.CharField(max_length=64, blank=True, default="", db_default="")
    segment = models.CharField(max_length=128, blank=True, default="", db_default="")
    country = models.CharField(max_length=128, blank=True, default="", db_default="")
    city = models.CharField(max_length=128, blank=True, default="", db_default="")
    sales_rep = models.ForeignKey(Employee, null=True, blank=True, on_delete=models.SET_NULL, related_name="customers")
    created_at = models.DateTimeField(null=True, blank=True)

    class Meta(CanonicalModel.Meta):
        db_table = "canonical_customers"


class Supplier(CanonicalModel):
    name = models.CharField(max_length=255, blank=True, default="", db_default="")
    email = models.CharField(max_length=255, blank=True, default="", db_default="")
    phone = models.CharField(max_length=64, blank=True, default="", db_default="")
    country = models.CharField(max_length=128, blank=True, default="", db_default="")

    class Meta(CanonicalModel.Meta):
        db_table = "canonical_suppliers"


class Product(CanonicalModel):
    name = models.CharField(max_length=255, blank=True, default="", db_default="")
    category = models.CharField(max_length=128, blank=True, default="", db_default="")
    price = models.DecimalField(null=True, blank=True, **MONEY)
    cost = models.DecimalField(null=True, blank=True, **MONEY)
    supplier = models.ForeignKey(Supplier, null=True, blank=True, on_delete=models.SET_NULL, related_name="products")

    class Meta(CanonicalModel.Meta):
        db_table = "canonical_products"


class Order(CanonicalModel):
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="orders")
    # One plain index on the rep (orders_sales_rep_idx), for the foreign key's checks when an employee is
    # deleted: nothing reads orders by rep and date (the KPI tables carry the rep), and every index costs the
    # bulk loads (the (sales_rep, order_date) index it replaces took longer to build at every load).
    sales_rep = models.ForeignKey(
        Employee, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders", db_index=False
    )
    order_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=64, blank=True, default="", db_default="")
    amount = models.DecimalField(null=True, blank=True, **MONEY)
    currency = models.CharField(max_length=3, blank=True, default="", db_default="")
    shipped_date = models.DateField(null=True, blank=True)
    # Schema v2: the parts of an order's total that files carry beside it (freight, VAT, an order-level discount).
    shipping_amount = models.DecimalField(null=True, blank=True, **MONEY)
    tax_amount = models.DecimalField(null=True, blank=True, **MONEY)
    discount_amount = models.DecimalField(null=True, blank=True, **MONEY)
    # True when the source had no order amount: the engine keeps `amount` = the sum of the lines' amounts.
    amount_from_lines = models.BooleanField(default=False, db_default=False)

    class Meta(CanonicalModel.Meta):
        db_table = "canonical_orders"
        indexes = [
            *CanonicalModel.Meta.indexes,
            models.Index(fields=["order_date"], name="orders_order_date_idx"),
            models.Index(fields=["sales_rep"], name="orders_sales_rep_idx"),
        ]


class OrderLine(CanonicalModel):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.PROTECT, related_name="order_lines")
    # Schema v2: who sold or supplied the line (a marketplace seller, a vendor), when it is not the product's supplier.
    supplier = models.ForeignKey(Supplier, null=True, blank=True, on_delete=models.SET_NULL, related_name="order_lines")
    quantity = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    unit_price = models.DecimalField(null=True, blank=True, **MONEY)
    discount = models.DecimalField(max_digits=6, decimal_places=4, default=0, db_default=0)
    amount = models.DecimalField(null=True, blank=True, **MONEY)
    # True when the source had no line amount and the engine computed it (rounded) from quantity, unit price
    # and discount: the revenue rule then uses the exact product; a line amount from the file is the truth.
    amount_computed = models.BooleanField(default=False, db_default=False)

    class Meta(CanonicalModel.Meta):
        db_table = "canonical_order_lines"


class Invoice(CanonicalModel):
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="invoices")
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="invoices")
    invoice_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    amount = models.DecimalField(null=True, blank=True, **MONEY)
    amount_paid = models.DecimalField(null=True, blank=True, **MONEY)
    paid = models.BooleanField(null=True, blank=True)
    paid_date = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="", db_default="")
    status = models.CharField(max_length=64, blank=True, default="", db_default="")

    class Meta(CanonicalModel.Meta):
        db_table = "canonical_invoices"
        indexes = [
            *CanonicalModel.Meta.indexes,
            models.Index(fields=["invoice_date"], name="invoices_date_idx"),
            models.Index(fields=["due_date"], name="invoices_due_idx"),
        ]


class Payment(CanonicalModel):
    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.SET_NULL, related_name="payments")
    # Schema v2: a payment of an order directly (files with no invoices: a marketplace's payments by order id).
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="payments")
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="payments")
    payment_date = models.DateField(null=True, blank=True)
    amount = models.DecimalField(null=True, blank=True, **MONEY)
    method = models.CharField(max_length=64, blank=True, default="", db_default="")
    currency = models.CharField(max_length=3, blank=True, default="", db_default="")

    class Meta(CanonicalModel.Meta):
        db_table = "canonical_payments"
        indexes = [*CanonicalModel.Meta.indexes, models.Index(fields=["payment_date"], name="payments_date_idx")]


class Expense(CanonicalModel):
    expense_date = models.DateField(null=True, blank=True)
    category = models.CharField(max_length=128, blank=True, default="", db_default="")
    vendor = models.CharField(max_length=255, blank=True, default="", db_default="")
    department = models.CharField(max_length=128, blank=True, default="", db_default="")
    amount = models.DecimalField(null=True, blank=True, **MONEY)
    currency = models.CharField(max_length=3, blank=True, default="", db_default="")
    employee = models.ForeignKey(Employee, null=True, blank=True, on_delete=models.SET_NULL, related_name="expenses")

    class Meta(CanonicalModel.Meta):
        db_table = "canonical_expenses"
        indexes = [*CanonicalModel.Meta.indexes, models.Index(fields=["expense_date"], name="expenses_date_idx")]


class Inventory(CanonicalModel):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="inventory")
    warehouse = models.CharField(max_length=128, blank=True, default="", db_default="")
    snapshot_date = models.DateField(null=True, blank=True)
    quantity_on_hand = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    reorder_level = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)

    class Meta(CanonicalModel.Meta):
        db_table = "canonical_inventory"
        verbose_name_plural = "inventory"
        indexes = [
            *CanonicalModel.Meta.indexes,
            models.Index(fields=["product", "snapshot_date"], name="inventory_product_date_idx"),
        ]


class AttributeKey(models.Model):
    """The registry of attributes: per canonical table and key, the value type every file must keep, and the
    upload that introduced it (written by the execution that first loads the key, in its transaction)."""

    class Type(models.TextChoices):
        TEXT = "text"
        NUMBER = "number"
        DATE = "date"
        BOOLEAN = "boolean"

    table = models.CharField(max_length=64, help_text="The canonical table, e.g. canonical_orders.")
    key = models.CharField(max_length=64, help_text="Lower snake case, never a column name of the table.")
    type = models.CharField(max_length=16, choices=Type.choices)
    label = models.CharField(max_length=255, blank=True, default="", help_text="The header it first came from.")
    source = models.ForeignKey(
        "mappings.DataSource", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "canonical_attribute_keys"
        ordering = ["table", "key"]
        constraints = [models.UniqueConstraint(fields=["table", "key"], name="attribute_key_table_key_uniq")]

    def __str__(self) -> str:
        return f"{self.table}.attributes.{self.key} ({self.type})"
