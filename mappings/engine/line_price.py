"""Order lines priced by their product: a `product_price` step (docs/TRANSFORMS.md).

A lines file with a product and a quantity but no price takes each line's unit price from its product's
`price` in canonical_products, read once per load after the product references are resolved. The value is
copied into the line (provenance: the product's price at load time); a later change of the product's price
does not rewrite lines already loaded. A line whose product is not in canonical_products, or has no price,
is a rejected row with its reason: never a line priced 0 or left without a price. With this step the
product reference never creates a placeholder product (it could not have a price).
"""

from __future__ import annotations

from decimal import Decimal

from psycopg import sql

from mappings.engine.plan import TablePlan, line_amount_sql
from mappings.engine.sql_files import sql_file
from mappings.engine.transforms import SqlParams, compile_steps, duckdb_install_macros, transform_parse
from mappings.intake.duck import duckdb_connect_locked, quote_ident, read_csv_relation_bound

PRICES = "ll_prices"  # DuckDB table (ref, price) of the referenced products that have a price
# Markers in the load's table of missing rows (direct.py's ll_missing.k), beside reference indexes 0, 1, ...
NO_PRODUCT, UNKNOWN_PRODUCT, NO_PRICE = -1, -2, -3


def reference_mode(plan: TablePlan, column: str, mode: str) -> str:
    """The on_missing_reference mode of one reference column: a product that prices the line must exist."""
    return "reject" if plan.price_from_product is not None and column == "product_id" else mode


def product_prices_fetch(cursor, conn, *, map_name: sql.Identifier, fetch) -> None:
    """DuckDB table `ll_prices` (ref, price) from the product map resolved in PostgreSQL. `fetch` is
    direct.py's `_fetch_into_duckdb`."""
    fetch(
        cursor,
        sql_file("product_prices.sql", map=map_name),
        conn,
        PRICES,
        [("ref", "VARCHAR"), ("price", "DECIMAL(14, 2)")],
    )


def unpriced_rows_sql(product_map: str) -> str:
    """An INSERT into ll_missing of the good rows the product's price cannot price, with the marker of why;
    rows already missing a reference keep their first reason."""
    product = quote_ident("product_id")
    return (
        f"INSERT INTO ll_missing SELECT g.source_row, g.{product}, CASE "
        f"WHEN g.{product} IS NULL THEN {NO_PRODUCT} "
        f"WHEN NOT EXISTS (SELECT 1 FROM {product_map} m WHERE m.ref = g.{product}) THEN {UNKNOWN_PRODUCT} "
        f"ELSE {NO_PRICE} END FROM ll_good g "
        f"WHERE NOT EXISTS (SELECT 1 FROM {PRICES} p WHERE p.ref = g.{product}) "
        "AND NOT EXISTS (SELECT 1 FROM ll_missing x WHERE x.source_row = g.source_row)"
    )


def unpriced_reason(marker: int, value: str) -> str:
    """Why a line the product's price was to price is rejected."""
    if marker == NO_PRODUCT:
        return "the line names no product, and its unit price is its product's price"
    if marker == UNKNOWN_PRODUCT:
        return (
            f"no canonical_products row has external id or name {value!r}: the line's unit price is its "
            "product's price (load the products file first)"
        )
    return f"product {value!r} has no price in canonical_products: the line's unit price is its product's price"


def priced_expressions(plan: TablePlan, row: str = "g") -> tuple[str, dict[str, str]]:
    """(the JOIN of the prices, {column: expression}) for the rows to load: the unit price, and the line amount
    computed from it when the file has none."""
    product = quote_ident("product_id")
    join = f"LEFT JOIN {PRICES} pp ON pp.ref = {row}.{product}"
    exprs = {plan.price_from_product.name: "pp.price"}
    amount = plan.column("amount")
    if amount is not None and amount.computed == "line_amount":
        discount = f"{row}.{quote_ident('discount')}" if plan.column("discount") else None
        exprs["amount"] = line_amount_sql("pp.price", f"{row}.{quote_ident('quantity')}", discount)
    return join, exprs


def file_distinct_values(
    *, file_path: str, dialect: dict, column: str, transform: list | None, limit: int
) -> list[str]:
    """Up to `limit` distinct non-blank values of one column of the file, after its transform steps (the
    proposer measures how many of a lines file's product keys the catalogue prices)."""
    params = SqlParams()
    expr = compile_steps(column, transform_parse(transform, columns=list(dialect.get("columns") or [])), params)
    relation, _ = read_csv_relation_bound(dialect, file_path, params.bind)
    query = (
        f"SELECT DISTINCT CAST({expr.sql} AS VARCHAR) AS v FROM {relation} "
        f"WHERE {expr.sql} IS NOT NULL LIMIT {int(limit)}"
    )
    conn = duckdb_connect_locked(file_path)
    try:
        duckdb_install_macros(conn)
        return [v for (v,) in conn.execute(query, params.used_by(query)).fetchall()]
    finally:
        conn.close()


def file_money_by_key(
    *, file_path: str, dialect: dict, key: str, key_transform: list | None, money: str, total: bool, limit: int
) -> dict[str, Decimal]:
    """Up to `limit` keys of the file (after their steps) with the money of `money` (read as parse_number
    "auto"): per key the sum of its rows when `total` (payments of an order), else its one value (a product's
    price on every line; a key whose rows disagree is left out). Nothing of the mapping reaches SQL as text."""
    params = SqlParams()
    expr = compile_steps(key, transform_parse(key_transform, columns=list(dialect.get("columns") or [])), params)
    relation, _ = read_csv_relation_bound(dialect, file_path, params.bind)
    value = f"ll_num_auto(ll_blank_null({quote_ident(money)}))"
    agg = f"sum({value})" if total else f"CASE WHEN min({value}) = max({value}) THEN min({value}) END"
    query = (
        f"SELECT CAST({expr.sql} AS VARCHAR) AS k, {agg} AS m FROM {relation} "
        f"WHERE {expr.sql} IS NOT NULL GROUP BY 1 LIMIT {int(limit)}"
    )
    conn = duckdb_connect_locked(file_path)
    try:
        duckdb_install_macros(conn)
        rows = conn.execute(query, params.used_by(query)).fetchall()
    finally:
        conn.close()
    return {k: Decimal(str(m)) for k, m in rows if m is not None}
