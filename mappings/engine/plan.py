"""Execution plans: which canonical tables a mapping fills, and the DuckDB query that produces each one.

For every target table the plan holds one DuckDB SELECT over the uploaded file that yields the typed
values of the mapped canonical columns and, per row, the list of problems (`__errors`) that make the
row a rejected row. The query is three layers: the transform steps (`pre`), conversion to the column's
type with range/length limits (`val`), then the checks. Values are named parameters throughout.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.db import models

from canonical.attributes import attribute_key
from canonical.schema import TABLE_ORDER, TABLES_BY_NAME, Column, Table
from mappings.engine.dates import DateColumn, date_formats_resolve, load_count_sql
from mappings.engine.transforms import (
    AUTO_DATE_FORMATS,
    Expr,
    ParseDate,
    SqlParams,
    cast_to,
    compile_steps,
    duckdb_install_macros,
    transform_parse,
)
from mappings.intake.duck import duckdb_connect_locked, quote_ident, read_csv_relation_bound
from mappings.models import DataSource, Mapping
from mappings.services.mapping import (
    MappingInvalid,
    attribute_type,
    mapping_fields,
    mapping_grain,
    mapping_validate,
)

# Value type of a canonical column → PostgreSQL type of its staging column.
STAGING_TYPES = {
    "text": "text",
    "date": "date",
    "timestamp": "timestamptz",
    "money": "numeric",
    "number": "numeric",
    "integer": "bigint",
    "boolean": "boolean",
}
# An attribute's type → the value type its cell is converted to before it becomes JSON (attribute_json).
ATTRIBUTE_VALUE_TYPES = {"text": "text", "number": "number", "date": "date", "boolean": "boolean"}
# Natural keys for tables whose files usually have no identifier: the derived external id hashes these
# (when mapped) rather than every value, so that a corrected quantity updates the line in place.
NATURAL_KEYS = {  # table: (columns that must all be mapped, columns added when mapped)
    "canonical_order_lines": (("order_id", "product_id"), ()),
    "canonical_inventory": (("product_id", "snapshot_date"), ("warehouse",)),
}
# Computed columns whose values come from the database at load time, not from the file (engine/line_price.py).
DEFERRED = ("product_price",)
# The date column whose months the KPI refresh needs to know about.
DATE_COLUMNS = {
    "canonical_orders": "order_date",
    "canonical_invoices": "invoice_date",
    "canonical_payments": "payment_date",
    "canonical_expenses": "expense_date",
    "canonical_inventory": "snapshot_date",
}


@dataclass
class ColumnPlan:
    name: str  # canonical column (a `*_id` reference keeps the referent's identifier text here)
    type: str  # value type from canonical/schema.py
    source_col: str | None
    steps: list = field(default_factory=list)
    references: str | None = None
    computed: str = ""  # "", "line_amount", "name_from_external_id" or "product_price" (DEFERRED)
    date_format: dict | None = None  # the format "auto" resolved to over the whole column (dates.py), for the report
    # Its `read` and `values` are counted by the direct load, as it parses the column (dates.load_count_sql).
    date_counted_by_load: bool = False
    attribute: bool = False  # an attribute: `name` is its key, `type` its attribute type (canonical/attributes.py)

    @property
    def staging_type(self) -> str:
        return "text" if self.references else STAGING_TYPES[self.type]

    @property
    def label(self) -> str:
        """How the report and the preview name the target: the column, or attributes.<key>."""
        return f"attributes.{self.name}" if self.attribute else self.name


@dataclass
class TablePlan:
    table: Table
    columns: list[ColumnPlan]
    derived_external_id: bool  # no external_id mapped: derive it from the mapped values
    key_columns: list[str]
    ragged_rows: str = "reject"  # rows with more fields than the header: "reject" or "repair" (options)
    # Rows left out, neither loaded nor rejected (options.skip_rows: a statement's balance lines), counted.
    skip_rows: dict | None = None
    # Columns of the file kept as attributes of the rows: one jsonb column, `attributes`, merged by key.
    attributes: list[ColumnPlan] = field(default_factory=list)
    # The file is at this table's grain (one row per row of the table): it owns the rows it writes. A parent table
    # of the file's rows (a lines file's orders) fills only rows that no file at their grain described.
    at_grain: bool = True

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.table.model)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnPlan | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def staging_columns(self) -> list[tuple[str, str]]:
        cols = [("source_row", "bigint"), ("external_id", "text")]
        cols += [(c.name, c.staging_type) for c in self.columns if c.name != "external_id"]
        return cols + ([("attributes", "jsonb")] if self.attributes else [])

    @property
    def attribute_keys(self) -> list[str]:
        """The keys this plan writes: on an existing row they are replaced (a blank cell removes its key), and
        every other key of the row, from other files, stays."""
        return [a.name for a in self.attributes]

    @property
    def price_from_product(self) -> ColumnPlan | None:
        """The unit price column taken from each line's product (a product_price step), if this plan has one."""
        return next((c for c in self.columns if c.computed == "product_price"), None)

    @property
    def priced_at_load(self) -> list[str]:
        """The columns the product's price gives (the unit price, and the line amount computed from it)."""
        if self.price_from_product is None:
            return []
        return [c.name for c in self.columns if c.computed in (*DEFERRED, "line_amount")]

    @property
    def self_references(self) -> list[ColumnPlan]:
        return [c for c in self.columns if c.references == self.name]

    @property
    def references(self) -> list[ColumnPlan]:
        return [c for c in self.columns if c.references and c.references != self.name]

    @property
    def flags(self) -> dict[str, bool]:
        """Boolean columns the engine writes, the same for every row: who owns the row, how its amount came to be."""
        amount = self.column("amount")
        flags = {"at_grain": self.at_grain}
        if self.name == "canonical_orders":
            # No order total in the file: the order's amount is kept as the sum of its lines.
            flags["amount_from_lines"] = amount is None
        if self.name == "canonical_order_lines":
            # Computed here from quantity x unit price (rounded): the revenue rule recomputes it exactly.
            flags["amount_computed"] = amount is not None and amount.computed == "line_amount"
        return flags

    @property
    def unmapped_columns(self) -> list[str]:
        """The table's columns this plan does not write: a row it takes over from a file of another grain loses
        their values (empty, as if only files at the row's grain had described it)."""
        return [c for c in self.table.column_names if c != "external_id" and self.column(c) is None]

    @property
    def date_column(self) -> str | None:
        name = DATE_COLUMNS.get(self.name)
        return name if name and self.column(name) else None

    def duckdb_query(
        self, *, file_path: str, dialect: dict, attribute_values: bool = False, date_counts: bool = False
    ) -> tuple[str, dict]:
        """The SELECT producing this table's staging values and `__errors`, with its named parameters. With
        `attribute_values`, the attributes' converted values as columns `__a0`, `__a1`, … (`attributes_json`
        makes them the `attributes` JSON where it is read) instead of their JSON. With `date_counts`, a column
        `__d0`, `__d1`, … per column of `date_counted` (dates.load_count_sql: what `date_counts_record` takes)."""
        params = SqlParams()
        model = self.model
        pre, val, checks, counts = [], [], [], []
        out_cols = [c for c in self.columns if not c.computed]
        for i, col in enumerate([*out_cols, *self.attributes]):
            first_problem = len(params.problems)
            expr = compile_steps(col.source_col, col.steps, params)
            # A value present in the file that does not survive its conversion makes the row rejected;
            # steps that may empty a value on purpose (map_values to null, split_part) are judged after them.
            judged_raw = col.source_col and not any(s.op in ("map_values", "split_part") for s in col.steps)
            raw = f"ll_blank_null({quote_ident(col.source_col)})" if judged_raw else expr.sql
            # A step's own problem (division by zero, not a number) is the row's reason, the first in step order.
            problems = params.problems[first_problem:]
            # Each layer computes only what can differ: the raw text is the value itself when no step changed it,
            # and a column without steps that can fail has no step problem to carry (bench/RESULTS-attributes.md).
            same_raw = raw == expr.sql and expr.type == "text"
            pre.append(f"{expr.sql} AS c{i}" + ("" if same_raw else f", CAST({raw} AS VARCHAR) AS r{i}"))
            if date_counts and col.date_counted_by_load:
                # c{i} is the parse_date step's result (its last step: _resolve_auto_dates), read from this text:
                # the raw cell r{i} when no step comes before it.
                text = compile_steps(col.source_col, col.steps[:-1], params).sql
                from_raw = text == raw and not same_raw
                if not from_raw:
                    pre.append(f"{text} AS t{i}")
                count = load_count_sql(f"r{i}" if from_raw else f"t{i}", f"c{i}", params)
                val.append(f"{count} AS d{i}")
                counts.append(f"d{i} AS __d{len(counts)}")
            if problems:
                whens = " ".join(f"WHEN {cond} THEN {reason}" for cond, reason in problems)
                pre.append(f"CASE {whens} END AS e{i}")
            target = "text" if col.references else ATTRIBUTE_VALUE_TYPES[col.type] if col.attribute else col.type
            converted = cast_to(Expr(f"c{i}", expr.type), target, params)
            if col.attribute:
                # A number beyond DECIMAL(38, 6) is unreadable like any other (NULL, so the row is rejected).
                fitted = f"TRY_CAST({converted.sql} AS DECIMAL(38, 6))" if target == "number" else converted.sql
            else:
                fitted = _limit(converted, model, col)
            raw_out = f"c{i} AS r{i}" if same_raw else f"r{i}"
            val.append(f"{fitted} AS v{i}, {raw_out}" + (f", e{i}" if problems else ""))
            name = params.bind(col.source_col or col.name)
            reason_type = params.bind(f"cannot read the value as {target}{_limit_note(model, col)}")
            step_problem = (
                f"WHEN e{i} IS NOT NULL THEN {{'column': {name}, 'value': coalesce(r{i}, ''), 'reason': e{i}}} "
                if problems
                else ""
            )
            checks.append(
                f"CASE {step_problem}WHEN v{i} IS NULL AND r{i} IS NOT NULL THEN "
                f"{{'column': {name}, 'value': r{i}, 'reason': {reason_type}}} END"
            )
            if target == "text":  # PostgreSQL text cannot hold a NUL byte: one such cell rejects its row only
                reason_nul = params.bind("the value contains a NUL byte (shown as \u2400), which cannot be stored")
                checks.append(
                    f"CASE WHEN contains(v{i}, chr(0)) THEN "
                    f"{{'column': {name}, 'value': v{i}, 'reason': {reason_nul}}} END"
                )
            # A mapped required column is required on every row (filled_by only spares the mapping).
            if not col.attribute and self.table.column(col.name).required and not col.computed:
                reason = params.bind("required value missing")
                checks.append(
                    f"CASE WHEN v{i} IS NULL AND r{i} IS NULL THEN "
                    f"{{'column': {name}, 'value': '', 'reason': {reason}}} END"
                )
        outputs = [f"v{i} AS {quote_ident(col.name)}" for i, col in enumerate(out_cols)]
        by_name = {col.name: f"v{i}" for i, col in enumerate(out_cols)}
        for col in self.columns:
            if col.name in self.priced_at_load:
                # Known once the product references are resolved: the load computes them (engine/line_price.py).
                outputs.append(f"CAST(NULL AS DECIMAL(14, 2)) AS {quote_ident(col.name)}")
            elif col.computed == "line_amount":
                amount = line_amount_sql(by_name["unit_price"], by_name["quantity"], by_name.get("discount"))
                outputs.append(f"{amount} AS {quote_ident(col.name)}")
            elif col.computed == "name_from_external_id":
                outputs.append(f"{by_name['external_id']} AS {quote_ident(col.name)}")
        if self.derived_external_id:
            parts = ", ".join(f"coalesce(CAST({by_name[k]} AS VARCHAR), '')" for k in self.key_columns)
            outputs.append(f"'h:' || left(sha256(concat_ws(chr(31), {parts})), 40) AS external_id")
        elif "external_id" not in by_name:  # pragma: no cover - plan_build guarantees one or the other
            raise MappingInvalid([f"{self.name}: no external_id"])
        if self.attributes and attribute_values:
            outputs += [f"v{len(out_cols) + k} AS __a{k}" for k in range(len(self.attributes))]
        elif self.attributes:
            values = [(a, f"v{len(out_cols) + k}") for k, a in enumerate(self.attributes)]
            outputs.append(f"{attribute_json(values, params)} AS attributes")
        outputs += counts
        rel_sql, ragged = read_csv_relation_bound(dialect, file_path, params.bind, ragged_rows=self.ragged_rows)
        checks_sql = (
            ", ".join(checks) if checks else 'CAST(NULL AS STRUCT("column" VARCHAR, value VARCHAR, reason VARCHAR))'
        )
        errors = f"list_filter([{checks_sql}], lambda x: x IS NOT NULL)"
        if ragged:  # a row with more fields than the header is rejected for that alone
            pre.append("__ragged")
            val.append("__ragged")
            errors = f"CASE WHEN __ragged IS NOT NULL THEN [__ragged] ELSE {errors} END"
        if self.skip_rows:
            # A row left out has no __errors at all (NULL): neither a good row nor a rejected one.
            pre.append(f"{skip_rows_sql(self.skip_rows, params)} AS __skip")
            val.append("__skip")
            errors = f"CASE WHEN __skip THEN NULL ELSE {errors} END"
        sql = (
            f"SELECT {', '.join(outputs)}, {errors} AS __errors "
            f"FROM (SELECT {', '.join(val)} FROM (SELECT {', '.join(pre)} FROM {rel_sql}))"
        )
        return sql, params.values

    @property
    def output_columns(self) -> list[str]:
        """Column names of `duckdb_query`'s result, before `__errors`."""
        names = [c.name for c in self.columns if not c.computed]
        names += [c.name for c in self.columns if c.computed]
        if self.derived_external_id:
            names.append("external_id")
        if self.attributes:
            names.append("attributes")
        return names

    @property
    def date_counted(self) -> list[ColumnPlan]:
        """The "auto" date columns whose `read` and `values` the load counts (`duckdb_query(date_counts=True)`)."""
        return [c for c in [*self.columns, *self.attributes] if c.date_counted_by_load and not c.computed]

    def date_counts_record(self, counts: list[tuple[int, int]]) -> None:
        """Record the load's (read, values) of each column of `date_counted`, in order, in its `date_format`
        (the report's entry for it)."""
        for col, (read, values) in zip(self.date_counted, counts, strict=True):
            col.date_format.update(read=int(read), values=int(values))

    def attributes_json(self) -> str:
        """The attributes' JSON (attribute_json) over the columns `__a0`, `__a1`, … of `duckdb_query(attribute_values=
        True)`, for a view (which takes no parameters): each key, a registered [a-z0-9_] key, is a quoted literal."""
        values = [(a, f"__a{k}") for k, a in enumerate(self.attributes)]
        return attribute_json(values, _Literals())


class _Literals:
    """SqlParams' `bind` for a view: the value as a quoted literal (only for keys already checked by
    canonical.attributes.attribute_key_problem)."""

    def bind(self, value: str) -> str:
        return "'" + value.replace("'", "''") + "'"


def skip_rows_sql(skip: dict, params) -> str:
    """Whether a row is one `options.skip_rows` leaves out: its column (quoted) holds one of the values (bound)."""
    cell = f"trim(ll_blank_null({quote_ident(skip['column'])}))"
    return f"coalesce(list_contains({params.bind([str(v).strip() for v in skip['values']])}, {cell}), false)"


def skip_rows_count(skip: dict, *, file_path: str, dialect: dict) -> int:
    """How many rows of the file `options.skip_rows` leaves out (the report says it: never a silent drop)."""
    params = SqlParams()
    relation, _ = read_csv_relation_bound(dialect, file_path, params.bind)
    query = f"SELECT count(*) FROM {relation} WHERE {skip_rows_sql(skip, params)}"
    conn = duckdb_connect_locked(file_path)
    try:
        duckdb_install_macros(conn)
        return int(conn.execute(query, params.used_by(query)).fetchone()[0])
    finally:
        conn.close()


def line_amount_sql(unit_price: str, quantity: str, discount: str | None) -> str:
    """A line's amount when the file has none: unit price x quantity x (1 - discount), rounded to the cent."""
    discount = f"coalesce({discount}, 0)" if discount else "0"
    return f"CAST(round({unit_price} * {quantity} * (1 - {discount}), 2) AS DECIMAL(14, 2))"


def attribute_json(values: list[tuple[ColumnPlan, str]], params: SqlParams) -> str:
    """The DuckDB expression of a row's attributes as JSON text, from (attribute, expression of its converted
    value) pairs: numbers as JSON numbers without trailing zeros, dates as "YYYY-MM-DD", booleans, text
    escaped by to_json. A blank value leaves its key out ('{}' when all are blank); literal text is bound.

    The text is the one PostgreSQL prints for the jsonb value (keys by length then bytes, ", " and ": "), so
    that a re-run finds a stored row unchanged by comparing texts (direct.py), without parsing JSON.

    A row with every value present (most rows) is written by one concat of all its pieces; only the others
    join the members present (`concat_ws`), each made on its own: 0.28 against 0.45 s of CPU per 1M rows of
    five attributes (bench/RESULTS-attributes.md)."""
    members = []  # per attribute: its value, and its member's pieces ((True, literal text) or (False, SQL))
    for col, value in sorted(values, key=lambda pair: (len(pair[0].name), pair[0].name)):
        if col.type == "number":
            json = [(False, f"ll_json_number(CAST({value} AS DECIMAL(38, 6)))")]
        elif col.type == "date":
            json = [(True, '"'), (False, f"strftime({value}, '%Y-%m-%d')"), (True, '"')]
        elif col.type == "boolean":
            json = [(False, f"CASE WHEN {value} THEN 'true' ELSE 'false' END")]
        else:
            json = [(False, f"CAST(to_json({value}) AS VARCHAR)")]
        # A registered key is [a-z0-9_]: nothing to escape.
        members.append((value, [(True, '"' + col.name + '": '), *json]))

    def concat(pieces: list[tuple[bool, str]]) -> str:
        merged: list[tuple[bool, str]] = []
        for literal, text in pieces:  # adjacent literals as one
            if literal and merged and merged[-1][0]:
                merged[-1] = (True, merged[-1][1] + text)
            else:
                merged.append((literal, text))
        return f"concat({', '.join(params.bind(text) if literal else text for literal, text in merged)})"

    each = [f"CASE WHEN {value} IS NOT NULL THEN {concat(pieces)} END" for value, pieces in members]
    some = f"concat('{{', concat_ws(', ', {', '.join(each)}), '}}')"
    every: list[tuple[bool, str]] = [(True, "{")]
    for k, (_, pieces) in enumerate(members):
        every += [(True, ", ")] * bool(k) + pieces
    present = " AND ".join(f"{value} IS NOT NULL" for value, _ in members)
    return f"(CASE WHEN {present} THEN {concat([*every, (True, '}')])} ELSE {some} END)"


def _limit(expr: Expr, model: type[models.Model], col: ColumnPlan) -> str:
    """Fit a converted value to its PostgreSQL column; a value that does not fit becomes NULL (rejected)."""
    if col.references:
        return f"CASE WHEN length({expr.sql}) <= 255 THEN {expr.sql} END"
    try:
        django_field = model._meta.get_field(col.name)
    except Exception:  # noqa: BLE001 - columns named like a relation (`*_id`) are handled above
        return expr.sql
    if isinstance(django_field, models.DecimalField):
        digits, places = int(django_field.max_digits), int(django_field.decimal_places)
        bound = 10 ** (digits - places)
        fitted = f"CAST(round({expr.sql}, {places}) AS DECIMAL({digits}, {places}))"
        return f"CASE WHEN abs({expr.sql}) < {bound} THEN {fitted} END"
    if isinstance(django_field, models.CharField) and django_field.max_length:
        return f"CASE WHEN length({expr.sql}) <= {int(django_field.max_length)} THEN {expr.sql} END"
    return expr.sql


def _limit_note(model: type[models.Model], col: ColumnPlan) -> str:
    if col.references:
        return ""
    try:
        django_field = model._meta.get_field(col.name)
    except Exception:  # noqa: BLE001
        return ""
    if isinstance(django_field, models.DecimalField):
        return f" (at most {django_field.max_digits - django_field.decimal_places} digits before the point)"
    if isinstance(django_field, models.CharField) and django_field.max_length:
        return f" (at most {django_field.max_length} characters)"
    return ""


def plan_build(mapping: Mapping) -> list[TablePlan]:
    """The tables a saved mapping fills, in dependency order. Raises MappingInvalid if it cannot run."""
    return plan_build_for(source=mapping.source, fields=mapping_fields(mapping), options=mapping.options)


def plan_build_for(
    *, source: DataSource, fields: list[dict], options: dict | None, dates_counted_by_load: bool = False
) -> list[TablePlan]:
    """Plans for unsaved field mappings (the review page's preview uses this too). With `dates_counted_by_load`
    (an execution), the "auto" date columns a direct load reads as the date pass does are counted by that load
    when the file's first rows decide their format (`ColumnPlan.date_counted_by_load`, dates.py)."""
    errors = mapping_validate(source=source, fields=fields, options=options)
    if errors:
        raise MappingInvalid(errors)
    options = options or {}
    dropped = set(options.get("drop_columns") or [])
    columns = list(source.dialect.get("columns") or [])
    by_table: dict[str, list[ColumnPlan]] = {}
    attributes: dict[str, list[ColumnPlan]] = {}
    for f in fields:
        if not f["canonical_table"] or not f["canonical_col"] or (f["source_col"] and f["source_col"] in dropped):
            continue
        table = TABLES_BY_NAME[f["canonical_table"]]
        key = attribute_key(f["canonical_col"])
        if key is not None:
            steps = transform_parse(f["transform"], columns=columns)
            kind = attribute_type(f["source_col"], steps)
            attributes.setdefault(table.name, []).append(
                ColumnPlan(name=key, type=kind, source_col=f["source_col"], steps=steps, attribute=True)
            )
            continue
        schema_col: Column = table.column(f["canonical_col"])
        steps = transform_parse(f["transform"], columns=columns)
        by_table.setdefault(table.name, []).append(
            ColumnPlan(
                name=schema_col.name,
                type=schema_col.type,
                source_col=f["source_col"],
                steps=steps,
                references=schema_col.references,
                computed="product_price" if steps and steps[0].op == "product_price" else "",
            )
        )
    # A load reads the file's values as the date pass does unless it repairs ragged rows the pass leaves empty.
    same_values = (options.get("ragged_rows") or "reject") == "reject" or not source.dialect.get("ragged")
    _resolve_auto_dates(by_table, source, attributes, counted_by_load=dates_counted_by_load and same_values)
    plans = []
    # The file's grain is the row's own table: the mapping's option, else the last of its tables in dependency order
    # (a lines file's orders, customers and products come before its lines).
    grain = mapping_grain(fields, options)
    for name in TABLE_ORDER:
        if name not in by_table:
            continue
        table = TABLES_BY_NAME[name]
        cols = by_table[name]
        mapped = {c.name for c in cols}
        if name == "canonical_order_lines" and "amount" not in mapped and {"unit_price", "quantity"} <= mapped:
            cols.append(ColumnPlan(name="amount", type="money", source_col=None, computed="line_amount"))
        if "name" in table.column_names and "name" not in mapped and "external_id" in mapped:
            cols.append(ColumnPlan(name="name", type="text", source_col=None, computed="name_from_external_id"))
        derived = "external_id" not in mapped
        needed, optional = NATURAL_KEYS.get(name, ((), ()))
        if needed and set(needed) <= mapped:
            keys = [*needed, *(k for k in optional if k in mapped)]
        else:
            keys = sorted(c.name for c in cols if not c.computed)
        plans.append(
            TablePlan(
                table=table,
                columns=cols,
                derived_external_id=derived,
                key_columns=keys,
                ragged_rows=options.get("ragged_rows") or "reject",
                skip_rows=options.get("skip_rows") or None,
                attributes=attributes.get(name, []),
                at_grain=name == grain,
            )
        )
    return plans


def _auto_date_step(col: ColumnPlan) -> int | None:
    """Where `col` parses dates with "auto": the index of its parse_date step, len(steps) when its value
    reaches a date column as text (converted with every candidate format), None when it needs no choice."""
    for i, step in enumerate(col.steps):
        if step.op == "parse_date":
            return i if step.format == "auto" else None
    if col.references or col.type not in ("date", "timestamp") or any(s.op == "cast" for s in col.steps):
        return None
    return len(col.steps) if compile_steps(col.source_col, col.steps, SqlParams()).type == "text" else None


def _resolve_auto_dates(
    by_table: dict[str, list[ColumnPlan]],
    source: DataSource,
    attributes: dict[str, list[ColumnPlan]],
    *,
    counted_by_load: bool = False,
) -> None:
    """Give every column that parses dates with "auto" the one format that reads most of its values
    (dates.py): an explicit parse_date step replaces the "auto" one or is added before the conversion.
    With `counted_by_load`, a column of a direct load (no self-reference: staged.py loads those) whose parse_date
    step is its last, on text, may leave its `read` and `values` to the load (`date_counted_by_load`)."""
    wanted: list[tuple[ColumnPlan, int, DateColumn]] = []
    for table in {*by_table, *attributes}:
        direct = not any(c.references == table for c in by_table.get(table, []))
        for col in [*by_table.get(table, []), *attributes.get(table, [])]:
            at = _auto_date_step(col)
            if at is not None:
                last = at >= len(col.steps) - 1
                on_text = compile_steps(col.source_col, col.steps[:at], SqlParams()).type == "text"
                key = DateColumn(
                    key=f"{table}.{col.label}",
                    source_col=col.source_col,
                    steps=tuple(col.steps[:at]),
                    counted_by_load=counted_by_load and direct and last and on_text,
                )
                wanted.append((col, at, key))
    if not wanted or not source.file_path:
        return
    chosen = date_formats_resolve([w[2] for w in wanted], file_path=source.file_path, dialect=source.dialect)
    for col, at, key in wanted:
        resolved = chosen[key.key]
        # No candidate reads a plausible date: the first one stands, and the values are rejected as unreadable.
        step = ParseDate(op="parse_date", format=resolved.format or AUTO_DATE_FORMATS[0])
        col.steps = [*col.steps[:at], step, *col.steps[at + 1 :]]
        col.date_format = resolved.report(col.source_col)
        col.date_counted_by_load = resolved.read is None
