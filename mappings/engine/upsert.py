"""PostgreSQL side of an execution: staging tables, reference resolution, upserts, computed amounts.

Everything here runs on the execution's one transaction. SQL text comes from mappings/sql/*.sql;
table and column names are filled in with psycopg's `sql.Identifier`, values are bound parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db import models
from psycopg import sql

from canonical.schema import TABLES_BY_NAME
from mappings.engine.plan import ColumnPlan, TablePlan
from mappings.engine.sql_files import sql_file, sql_text


@dataclass
class TableResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    touched: dict = field(default_factory=dict)
    overwritten: dict = field(default_factory=dict)  # overwrites_from_other_sources

    def counts(self) -> dict:
        return {
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
        }


def staging_create(cursor, plan: TablePlan) -> sql.Identifier:
    name = sql.Identifier(f"stg_{plan.name}")
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(col), sql.SQL(pg_type)) for col, pg_type in plan.staging_columns
    )
    # ON COMMIT DROP cleans up after a transaction; inside an outer one (a savepoint) a previous run's
    # table may still exist in this session.
    cursor.execute(sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(name))
    cursor.execute(sql.SQL("CREATE TEMP TABLE {} ({}) ON COMMIT DROP").format(name, columns))
    return name


def references_resolve(
    cursor, *, plan: TablePlan, staging: sql.Identifier, column: str, mode: str, source_id: int
) -> tuple[sql.Identifier, int, list[tuple[int, str]]]:
    """Map the distinct values of a reference column to referent ids.

    Returns (map table, placeholders created, rejected (source_row, value) pairs). With mode
    "reject", rows naming a missing referent are removed from staging and returned as rejected.
    """
    referent_table = TABLES_BY_NAME[plan.table.column(column).references]
    referent = sql.Identifier(referent_table.name)
    map_name = sql.Identifier(f"map_{plan.name}_{column}")
    cursor.execute(
        sql_file(
            "reference_resolve.sql", map=map_name, column=sql.Identifier(column), staging=staging, referent=referent
        )
    )
    if mode == "reject":
        reference_map_complete(cursor, referent_table=referent_table, map_name=map_name, mode=mode, source_id=source_id)
        cursor.execute(
            sql.SQL(
                "DELETE FROM {staging} s USING {map} m WHERE m.ref = s.{column} AND m.id IS NULL "
                "RETURNING s.source_row, s.{column}"
            ).format(staging=staging, map=map_name, column=sql.Identifier(column))
        )
        return map_name, 0, [(row, value) for row, value in cursor.fetchall()]
    created = reference_map_complete(
        cursor, referent_table=referent_table, map_name=map_name, mode=mode, source_id=source_id
    )
    return map_name, created, []


def reference_map_complete(cursor, *, referent_table, map_name: sql.Identifier, mode: str, source_id: int) -> int:
    """Fill the ids a map table (ref, id: resolved by external id already) still lacks: by each lookup
    column (email, name), then, unless `mode` is "reject", with placeholder rows. Returns how many
    placeholders were created; with "reject" the refs left without an id are the missing ones."""
    referent = sql.Identifier(referent_table.name)
    for lookup in referent_table.lookup_columns:
        if lookup == "external_id":
            continue
        # Each lookup reads the whole referent table: skip it once every value is resolved.
        cursor.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE id IS NULL)").format(map_name))
        if not cursor.fetchone()[0]:
            break
        cursor.execute(sql_file("reference_lookup.sql", map=map_name, lookup=sql.Identifier(lookup), referent=referent))
    if mode == "reject":
        return 0
    has_name = "name" in referent_table.column_names
    cursor.execute(
        sql_file(
            "reference_placeholders.sql",
            referent=referent,
            map=map_name,
            name_columns=sql.SQL("name,") if has_name else sql.SQL(""),
            # A placeholder's name is the identifier it was referenced by, cut to the column's size.
            name_values=sql.SQL("left(m.ref, 255),") if has_name else sql.SQL(""),
        ),
        {"source_id": source_id},
    )
    return cursor.rowcount


def not_null_default(model: type[models.Model], column: str):
    """The database default a NOT NULL column takes for a missing value, or models.NOT_PROVIDED."""
    try:
        django_field = model._meta.get_field(column)
    except Exception:  # noqa: BLE001 - `*_id` names of relations
        return models.NOT_PROVIDED
    if django_field.null or isinstance(django_field, models.ForeignKey):
        return models.NOT_PROVIDED
    db_default = getattr(django_field, "db_default", models.NOT_PROVIDED)
    if db_default is models.NOT_PROVIDED:
        return models.NOT_PROVIDED
    return getattr(db_default, "value", db_default)


def _not_null_default(model: type[models.Model], column: str) -> sql.Composable | None:
    value = not_null_default(model, column)
    return None if value is models.NOT_PROVIDED else sql.Literal(value)


def upsert_table(
    cursor,
    *,
    plan: TablePlan,
    staging: sql.Identifier,
    maps: dict[str, sql.Identifier],
    source_id: int,
    repeated_ids: bool = False,
) -> TableResult:
    """Insert new rows and update changed ones; returns counts and what changed (for KPI refresh).

    `repeated_ids`: staging holds some identifier more than once (see `staging_counts`); the last
    occurrence in the file wins.

    Self-references are left out here and written by `self_references_update` once every row exists.
    """
    model = plan.model
    self_refs = {c.name for c in plan.self_references}
    value_cols = [c for c in plan.columns if c.name != "external_id" and c.name not in self_refs]
    joins, values = [], []
    for col in value_cols:
        ident = sql.Identifier(col.name)
        if col.references:
            alias = sql.Identifier(f"m_{col.name}")
            joins.append(
                sql.SQL("LEFT JOIN {map} {alias} ON {alias}.ref = s.{col}").format(
                    map=maps[col.name], alias=alias, col=ident
                )
            )
            values.append(sql.SQL("{alias}.id AS {col}").format(alias=alias, col=ident))
            continue
        default = _not_null_default(model, col.name)
        if default is not None:
            values.append(sql.SQL("coalesce(s.{col}, {default}) AS {col}").format(col=ident, default=default))
        else:
            values.append(sql.SQL("s.{col}").format(col=ident))
    if plan.derived_external_id:
        # Identical id-less rows (two equal expense lines) are distinct rows: number the repeats.
        external = sql.SQL(
            "s.external_id || CASE WHEN row_number() OVER w > 1 THEN ':' || row_number() OVER w ELSE '' END"
        )
        window = sql.SQL(" WINDOW w AS (PARTITION BY s.external_id ORDER BY s.source_row)")
    else:
        external, window = sql.SQL("s.external_id"), sql.SQL("")
    extra_names = ["source_id", "source_row", "is_placeholder"]
    extra_values = [sql.Literal(source_id), sql.SQL("s.source_row"), sql.SQL("false")]
    compared = [c.name for c in value_cols]
    for flag, value in plan.flags.items():
        extra_names.append(flag)
        extra_values.append(sql.Literal(value))
        compared.append(flag)
    if plan.attributes:
        extra_names.append("attributes")
        extra_values.append(sql.SQL("s.attributes"))
        compared.append("attributes")
    select_list = sql.SQL(", ").join(
        [
            *(sql.SQL("{} AS {}").format(v, sql.Identifier(n)) for n, v in zip(extra_names, extra_values, strict=True)),
            sql.SQL("{} AS external_id").format(external),
            *values,
        ]
    )
    insert_names = ["external_id", *extra_names, *(c.name for c in value_cols)]
    columns = sql.SQL(", ").join(map(sql.Identifier, insert_names))
    resets, guard = ownership(plan)
    assignments = _assignments(plan, insert_names, resets)
    current = sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(n)) for n in compared)
    incoming = sql.SQL(", ").join(incoming_value(plan, n) for n in compared)
    returning_names = ["external_id", *_touch_columns(plan)]
    returning = sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(n)) for n in returning_names)
    keys, folding = _folding(plan)
    staged = sql.SQL("SELECT {select_list} FROM {staging} s {joins}{window}").format(
        select_list=select_list, staging=staging, joins=sql.SQL(" ").join(joins), window=window
    )
    if repeated_ids:
        # The file repeats an identifier (a denormalized export lists a customer once per order): the
        # last occurrence wins. Only then pay for the DISTINCT ON sort.
        staged = sql.SQL(
            "SELECT DISTINCT ON (external_id) * FROM ({staged}) d ORDER BY external_id, source_row DESC"
        ).format(staged=staged)
    # Executions of other uploads writing this table wait until this one commits (readers do not): no
    # identifier can appear between the UPDATE and the INSERT.
    cursor.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(sql.Identifier(plan.name)))
    rows = sql.SQL("({})").format(staged)
    overwritten = overwrites_from_other_sources(cursor, plan=plan, incoming=rows, source_id=source_id)
    cursor.execute(
        sql_file(
            "upsert.sql",
            staged=staged,
            table=sql.Identifier(plan.name),
            columns=columns,
            assignments=assignments,
            current=current,
            incoming=incoming,
            returning=returning,
            guard=guard,
            **folding,
        )
    )
    result = folded_result(cursor.fetchone(), keys)
    result.overwritten = overwritten
    return result


def _folding(plan: TablePlan) -> tuple[list[str], dict[str, sql.Composable]]:
    """The touched keys and the SQL parts (`grouped`, `named`, `sets`, `folded`) that fold the written
    rows `upserted u` (with a boolean `inserted`) into one row: inserted, updated, one array per key."""
    keys, key_exprs = touched_keys(plan)
    exprs = [sql.SQL("u.inserted"), *key_exprs]
    # GROUPING(…) has a bit per expression, set when the row is not grouped by it.
    full = (1 << len(exprs)) - 1
    only = [full ^ (1 << (len(exprs) - 1 - i)) for i in range(len(exprs))]
    folded = [
        sql.SQL("coalesce(sum(n) FILTER (WHERE mask = {} AND g0), 0)::bigint").format(sql.Literal(only[0])),
        sql.SQL("coalesce(sum(n) FILTER (WHERE mask = {} AND NOT g0), 0)::bigint").format(sql.Literal(only[0])),
        *(
            sql.SQL("array_agg({g}) FILTER (WHERE mask = {m} AND {g} IS NOT NULL)").format(
                g=sql.Identifier(f"g{i}"), m=sql.Literal(only[i])
            )
            for i in range(1, len(exprs))
        ),
    ]
    return keys, {
        "grouped": sql.SQL(", ").join(exprs),
        "named": sql.SQL(", ").join(
            sql.SQL("{} AS {}").format(e, sql.Identifier(f"g{i}")) for i, e in enumerate(exprs)
        ),
        "sets": sql.SQL(", ").join(sql.SQL("({})").format(e) for e in exprs),
        "folded": sql.SQL(", ").join(folded),
    }


def folded_result(row: tuple, keys: list[str]) -> TableResult:
    inserted, updated, *arrays = row
    result = TableResult(inserted=inserted, updated=updated)
    for key, values in zip(keys, arrays, strict=True):
        values = values or []
        if key == "months":
            values = [month.strftime("%Y-%m-01") for month in values]
        result.touched[key] = sorted(values)
    return result


def incoming_value(plan: TablePlan, name: str) -> sql.Composable:
    """The value an UPDATE from staging `s` gives column `name` of row `t`: the staged one, except for the
    attributes, merged by key: the keys this plan writes are replaced (a blank cell removes its key), the
    row's other keys (other files' attributes) stay."""
    if name == "attributes":
        return sql.SQL("(t.attributes - {}::text[]) || s.attributes").format(sql.Literal(plan.attribute_keys))
    return sql.SQL("s.{}").format(sql.Identifier(name))


def _assignments(plan: TablePlan, names: list[str], resets: list[sql.Composable]) -> sql.Composable:
    """SET `name = incoming value` for the written columns, then `resets` (`ownership`)."""
    return sql.SQL(", ").join(
        [sql.SQL("{} = {}").format(sql.Identifier(n), incoming_value(plan, n)) for n in names if n != "external_id"]
        + resets
    )


def update_changed(cursor, *, plan: TablePlan, staging: sql.Identifier, columns: list[str]) -> TableResult:
    """UPDATE the rows of `plan`'s table whose values differ from `staging`'s (resolved values, one row per
    external_id, the table's own column names `columns`) or that are placeholders. Counts and touched keys
    as `upsert_table`'s (nothing inserted). Rows are written as `ownership` allows."""
    compared = [c for c in columns if c not in ("external_id", "source_id", "source_row", "is_placeholder")]
    keys, folding = _folding(plan)
    returning_names = ["external_id", *_touch_columns(plan)]
    resets, guard = ownership(plan)
    cursor.execute(
        sql_file(
            "update_changed.sql",
            table=sql.Identifier(plan.name),
            staging=staging,
            assignments=_assignments(plan, columns, resets),
            current=sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(n)) for n in compared),
            incoming=sql.SQL(", ").join(incoming_value(plan, n) for n in compared),
            returning=sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(n)) for n in returning_names),
            guard=guard,
            **folding,
        )
    )
    return folded_result(cursor.fetchone(), keys)


def ownership(plan: TablePlan) -> tuple[list[sql.Composable], sql.Composable]:
    """Who may write which stored row (docs/SCHEMA.md, "Who owns a column"), as the SQL parts of an UPDATE of the
    table `t`: (assignments, condition).

    A file at the table's grain writes every row it names; a row that no file at its grain described before
    (a placeholder, or a row a lines file wrote to an orders table) loses the values of the columns this file
    does not map, so it ends as if only files at its grain had described it, whatever the order of the loads.
    A file of another grain writes only rows that no file at their grain described (`NOT t.at_grain`)."""
    if not plan.at_grain:
        return [], sql.SQL(" AND NOT t.at_grain")
    resets = []
    for name in plan.unmapped_columns:
        default = _not_null_default(plan.model, name)
        resets.append(
            sql.SQL("{0} = CASE WHEN t.at_grain THEN t.{0} ELSE {1} END").format(
                sql.Identifier(name), default if default is not None else sql.SQL("NULL")
            )
        )
    return resets, sql.SQL("")


OVERWRITE_EXAMPLES = 5


def overwrites_from_other_sources(cursor, *, plan: TablePlan, incoming: sql.Composable, source_id: int) -> dict:
    """Before the write: the rows of `plan`'s table that another upload described at the same grain and whose
    stored values this execution replaces with different ones (two files of one grain disagreeing: the last one
    wins, never silently). `incoming` is the relation of the rows as they will be written (references resolved,
    one per external_id). Returns {} when there are none, else {"rows", "columns": {column: rows}, "examples":
    [{"external_id", "column", "was", "now", "source"}]} (a few, references shown by the referent's external id).

    A row's provenance is the upload that wrote it last: "another upload" is one other than this row's last
    writer. Filling an empty value (NULL, or the column's default) is no overwrite; a file of another grain only
    writes rows no file at their grain described, so it is compared with those."""
    differences = []
    for col in plan.columns:
        if col.name == "external_id" or col.references == plan.name:
            continue  # self-references are written after every row exists
        ident = sql.Identifier(col.name)
        stored, new = sql.SQL("t.{}").format(ident), sql.SQL("s.{}").format(ident)
        default = _not_null_default(plan.model, col.name)
        if default is None:
            filled = sql.SQL("{} IS NOT NULL").format(stored)
        else:
            filled = sql.SQL("{} IS DISTINCT FROM {}").format(stored, default)
        if col.references:
            referent = sql.Identifier(col.references)
            was = sql.SQL("(SELECT r.external_id FROM {} r WHERE r.id = {})").format(referent, stored)
            now = sql.SQL("(SELECT r.external_id FROM {} r WHERE r.id = {})").format(referent, new)
        else:
            was, now = sql.SQL("{}::text").format(stored), sql.SQL("{}::text").format(new)
        differences.append(
            sql.SQL("({}, {}, {}, {} AND {} IS DISTINCT FROM {})").format(
                sql.Literal(col.name), was, now, filled, stored, new
            )
        )
    for key in plan.attribute_keys:
        k = sql.Literal(key)
        differences.append(
            sql.SQL("({}, t.attributes ->> {}, s.attributes ->> {}, t.attributes ? {} AND ").format(
                sql.Literal(f"attributes.{key}"), k, k, k
            )
            + sql.SQL("t.attributes -> {} IS DISTINCT FROM s.attributes -> {})").format(k, k)
        )
    if not differences:
        return {}
    cursor.execute(
        sql_file(
            "overwrites_from_other_sources.sql",
            table=sql.Identifier(plan.name),
            incoming=incoming,
            differences=sql.SQL(", ").join(differences),
        ),
        {"source_id": source_id, "at_grain": plan.at_grain, "examples": OVERWRITE_EXAMPLES},
    )
    rows, columns, examples = cursor.fetchone()
    if not rows:
        return {}
    return {"rows": rows, "columns": dict(sorted(columns.items())), "examples": examples}


def owned_elsewhere(cursor, *, plan: TablePlan, staging: sql.Identifier) -> int:
    """Rows of `staging` that `plan` (not at its table's grain) leaves alone: a file at their grain described them."""
    if plan.at_grain:
        return 0
    cursor.execute(
        sql.SQL(
            "SELECT count(*) FROM {} t WHERE t.at_grain AND t.external_id IN (SELECT s.external_id FROM {} s)"
        ).format(sql.Identifier(plan.name), staging)
    )
    return cursor.fetchone()[0]


def columns_clear(
    cursor, *, table: str, columns: list[str], source_id: int, attribute_keys: list[str] = ()
) -> TableResult:
    """Empty `columns` of `table` (NULL, or the column's default when it has one) on the rows upload `source_id`
    wrote: what a new version of its mapping no longer maps; `attribute_keys` are removed from their attributes
    the same way. Returns the rows changed (as updated) and the keys the KPI refresh needs, the months the rows'
    dates had before included."""
    spec = TABLES_BY_NAME[table]
    plan = TablePlan(
        table=spec,
        columns=[ColumnPlan(name=c.name, type=c.type, source_col=None, references=c.references) for c in spec.columns],
        derived_external_id=False,
        key_columns=[],
    )
    identifier = sql.Identifier(table)
    cursor.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(identifier))
    months_before = []
    if plan.date_column in columns:
        cursor.execute(
            sql.SQL(
                "SELECT DISTINCT to_char(date_trunc('month', {d}), 'YYYY-MM-01') FROM {t} "
                "WHERE source_id = %s AND {d} IS NOT NULL"
            ).format(d=sql.Identifier(plan.date_column), t=identifier),
            [source_id],
        )
        months_before = [r[0] for r in cursor.fetchall()]
    emptied = []
    for name in columns:
        default = _not_null_default(plan.model, name)
        emptied.append(default if default is not None else sql.SQL("NULL"))
    columns = list(columns)
    if attribute_keys:  # the keys are bound, never spliced in
        columns.append("attributes")
        emptied.append(sql.SQL("t.attributes - %(attribute_keys)s::text[]"))
    keys, folding = _folding(plan)
    cursor.execute(
        sql_file(
            "columns_clear.sql",
            table=identifier,
            assignments=sql.SQL(", ").join(
                sql.SQL("{} = {}").format(sql.Identifier(n), e) for n, e in zip(columns, emptied, strict=True)
            ),
            current=sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(n)) for n in columns),
            cleared=sql.SQL(", ").join(emptied),
            returning=sql.SQL(", ").join(
                sql.SQL("t.{}").format(sql.Identifier(n)) for n in ["external_id", *_touch_columns(plan)]
            ),
            **folding,
        ),
        {"source_id": source_id, "attribute_keys": list(attribute_keys)},
    )
    result = folded_result(cursor.fetchone(), keys)
    if result.updated and months_before:
        result.touched["months"] = sorted(set(result.touched.get("months", [])) | set(months_before))
    return result


def other_uploads_snapshot(cursor, *, plan: TablePlan, staging: sql.Identifier, source_id: int) -> sql.Identifier:
    """Before the write: the rows of `plan`'s table that other uploads loaded and `staging` has the identifier
    of, as temporary table (id, source_id). `other_uploads_changed` tells after the write which changed."""
    name = sql.Identifier(f"others_{plan.name}")
    cursor.execute(sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(name))
    cursor.execute(
        sql.SQL(
            "CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT t.id, t.source_id FROM {} t "
            "WHERE NOT t.is_placeholder AND t.source_id IS DISTINCT FROM %s "
            "AND t.external_id IN (SELECT s.external_id FROM {} s)"
        ).format(name, sql.Identifier(plan.name), staging),
        [source_id],
    )
    return name


def other_uploads_changed(cursor, *, plan: TablePlan, snapshot: sql.Identifier, source_id: int) -> dict:
    """After the write: {other upload's id (None: a deleted upload): rows of it this execution changed}.
    A written row takes the writing upload's source_id; an unchanged one keeps its own."""
    cursor.execute(
        sql.SQL(
            "SELECT o.source_id, count(*) FROM {} o JOIN {} t ON t.id = o.id WHERE t.source_id = %s GROUP BY 1"
        ).format(snapshot, sql.Identifier(plan.name)),
        [source_id],
    )
    return dict(cursor.fetchall())


def staging_counts(cursor, *, plan: TablePlan, staging: sql.Identifier) -> tuple[int, int]:
    """(staged rows, rows the table receives from this file): one per identifier, so repeats of one
    customer count once. Derived identifiers are numbered apart, so they never repeat."""
    if plan.derived_external_id:
        cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(staging))
        rows = cursor.fetchone()[0]
        return rows, rows
    # GROUP BY can hash; count(DISTINCT) always sorts.
    cursor.execute(
        sql.SQL(
            "SELECT (SELECT count(*) FROM {s}), (SELECT count(*) FROM (SELECT external_id FROM {s} GROUP BY 1) g)"
        ).format(s=staging)
    )
    rows, distinct = cursor.fetchone()
    return rows, distinct


def _touch_columns(plan: TablePlan) -> list[str]:
    cols = []
    if plan.date_column:
        cols.append(plan.date_column)
    for col in plan.columns:
        if col.references and col.references != plan.name and col.name in _KEY_OF_REFERENCE:
            cols.append(col.name)
    if plan.name == "canonical_order_lines" and plan.column("order_id"):
        cols.append("order_id")
    return list(dict.fromkeys(cols))


_KEY_OF_REFERENCE = {
    "customer_id": "customer_ids",
    "product_id": "product_ids",
    "sales_rep_id": "employee_ids",
    "employee_id": "employee_ids",
}


def touched_keys(plan: TablePlan) -> tuple[list[str], list[sql.Composable]]:
    """What the KPI refresh needs to know about the written rows (months of the date column, referenced
    ids, order ids of lines; for self-references the ids written), as expressions over `upserted u`."""
    keys, exprs = [], []
    if plan.date_column:
        keys.append("months")
        exprs.append(sql.SQL("date_trunc('month', u.{})::date").format(sql.Identifier(plan.date_column)))
    for col in plan.columns:
        if col.references and col.references != plan.name and col.name in _KEY_OF_REFERENCE:
            keys.append(f"{_KEY_OF_REFERENCE[col.name]}:{col.name}")
            exprs.append(sql.SQL("u.{}").format(sql.Identifier(col.name)))
    if plan.name == "canonical_order_lines" and plan.column("order_id"):
        keys.append("order_ids")
        exprs.append(sql.SQL("u.order_id"))
    if plan.self_references:
        # The self-reference pass counts rows it changes that the first pass did not write.
        keys.append("_written_ids")
        exprs.append(sql.SQL("u.id"))
    return keys, exprs


def old_months(cursor, *, plan: TablePlan, staging: sql.Identifier) -> list[str]:
    """Months of the stored dates that this file will change (the KPI rows there must be recomputed too)."""
    if not plan.date_column or plan.derived_external_id:
        return []
    cursor.execute(
        sql.SQL(
            "SELECT DISTINCT to_char(date_trunc('month', t.{d}), 'YYYY-MM-01') FROM {table} t "
            "JOIN {staging} s ON s.external_id = t.external_id "
            "WHERE t.{d} IS NOT NULL AND t.{d} IS DISTINCT FROM s.{d}"
        ).format(d=sql.Identifier(plan.date_column), table=sql.Identifier(plan.name), staging=staging)
    )
    return [r[0] for r in cursor.fetchall()]


def self_references_update(
    cursor, *, plan: TablePlan, staging: sql.Identifier, column: str, map_name: sql.Identifier
) -> list[int]:
    """Point self-references (manager_id) at their rows; returns ids of the rows that changed."""
    cursor.execute(
        sql_file(
            "self_reference_update.sql",
            staging=staging,
            map=map_name,
            table=sql.Identifier(plan.name),
            column=sql.Identifier(column),
            guard=ownership(plan)[1],
        )
    )
    return list(cursor.fetchone()[0] or [])


def order_amounts_from_lines(cursor, *, order_ids: list[int], orders_source_id: int | None) -> dict:
    """Recompute amounts of orders that take them from their lines; returns count and what changed.

    Placeholder orders of `order_ids` (created by a lines file) take theirs from their lines too, until a
    file describing them says otherwise."""
    if order_ids:
        cursor.execute(
            "UPDATE canonical_orders SET amount_from_lines = true "
            "WHERE id = ANY(%s) AND is_placeholder AND amount IS NULL AND NOT amount_from_lines",
            [order_ids],
        )
    cursor.execute(sql_text("order_amounts.sql"), {"order_ids": order_ids, "orders_source_id": orders_source_id or -1})
    count, months, customers, reps = cursor.fetchone()
    return {
        "updated": count,
        "months": sorted(months or []),
        "customer_ids": sorted(customers or []),
        "employee_ids": sorted(reps or []),
    }


# A load is "bulk" when it inserts at least this many rows and at least this share of the table it
# leaves: then dropping the table's secondary indexes and foreign keys and re-creating them once
# (sorted index builds, one anti-join per key) is cheaper than maintaining them row by row once the
# load is a big enough share of the table (bench/README.md, "Ingest").
BULK_TABLE_SHARE = 0.25
_BULK_SAMPLE_ROWS = 2_000


def bulk_load_begin(cursor, *, plan: TablePlan, staging: sql.Identifier, rows: int) -> bool:
    """If this load is bulk, drop the table's foreign keys and secondary indexes (in the load's
    transaction: a failure restores them) and return True; `bulk_load_end` puts them back."""
    if rows < settings.EXECUTION_BULK_MIN_ROWS:
        return False
    table = sql.Identifier(plan.name)
    # Share of the staged identifiers that are new, from a sample (re-running a file inserts nothing).
    percent = min(100.0, 100.0 * _BULK_SAMPLE_ROWS / rows)
    cursor.execute(
        sql.SQL(
            "SELECT count(*), count(*) FILTER (WHERE NOT EXISTS "
            "(SELECT 1 FROM {table} t WHERE t.external_id = s.external_id)) "
            "FROM {staging} s TABLESAMPLE BERNOULLI (%s) REPEATABLE (0)"
        ).format(table=table, staging=staging),
        [percent],
    )
    sampled, new = cursor.fetchone()
    new_rows = rows * new / sampled if sampled else rows
    return bulk_load_begin_for(cursor, plan=plan, new_rows=int(new_rows))


def bulk_load_begin_for(cursor, *, plan: TablePlan, new_rows: int, table_rows: int | None = None) -> bool:
    """`bulk_load_begin` for a known number of new rows (and, when known, of rows in the table)."""
    if new_rows < settings.EXECUTION_BULK_MIN_ROWS:
        return False
    cap = int(new_rows * (1 - BULK_TABLE_SHARE) / BULK_TABLE_SHARE) + 1
    if table_rows is None:
        # Rows already in the table, counted only as far as the decision needs.
        cursor.execute(
            sql.SQL("SELECT count(*) FROM (SELECT 1 FROM {} LIMIT %s) x").format(sql.Identifier(plan.name)), [cap]
        )
        table_rows = cursor.fetchone()[0]
    if table_rows >= cap:
        return False
    cursor.execute("SELECT ll_bulk_load_begin(%s::regclass)", [plan.name])
    return True


def bulk_load_unique_drop(cursor, *, plan: TablePlan) -> list[tuple[str, str]]:
    """Drop the table's unique constraint on external_id (in the load's transaction) and return (name, definition)
    for `bulk_load_end` to add back. Only for a bulk load of new rows alone, whose identifiers DuckDB found
    distinct and absent from the table it holds locked: inserting a million keys one by one into the unique index
    costs the COPY more than one sorted build after it, which checks every key again."""
    cursor.execute(sql_file("unique_external_id.sql"), [plan.name])
    saved = cursor.fetchall()
    for name, _definition in saved:
        cursor.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(sql.Identifier(plan.name), sql.Identifier(name))
        )
    return saved


def bulk_load_end(cursor, *, plan: TablePlan, unique: list[tuple[str, str]] = ()) -> None:
    """Re-create what `bulk_load_begin` dropped: the indexes, then each foreign key NOT VALID (checked for every
    write from now on). The rows of the load reference only ids it resolved in this transaction against the
    referent tables, which it holds locked; `canonical.services.canonical_foreign_keys_validate` proves it for
    every row after the commit (queued by canonical/receivers.py), instead of one more scan per key here.
    `unique`: the constraints `bulk_load_unique_drop` dropped, added back under their names (a repeated key
    fails the load here)."""
    cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
    cursor.execute("SELECT ll_bulk_load_end(%s::regclass, false)", [plan.name])
    for name, definition in unique:  # the definition is the catalog's (pg_get_constraintdef), never user text
        cursor.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                sql.Identifier(plan.name), sql.Identifier(name), sql.SQL(definition)
            )
        )


def orders_without_amount(cursor, *, order_ids: list[int], source_id: int) -> int:
    """Orders of this execution (written from `source_id`, or the orders of its lines) left with no amount."""
    cursor.execute(
        "SELECT count(*) FROM canonical_orders WHERE amount IS NULL AND (source_id = %s OR id = ANY(%s))",
        [source_id, order_ids],
    )
    return cursor.fetchone()[0]
