"""Staged load: a table plan's rows go through a staging table in PostgreSQL, then are upserted.

Used for plans with self-references (an employee's manager in the same file): every row of the file
must be in the table before the references between its rows can be resolved. Returns what
`direct_load` returns, so an execution treats both paths alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from psycopg import sql

from mappings.engine.collapse import collapse_count
from mappings.engine.direct import BULK_END_LAP, DirectLoad
from mappings.engine.plan import ColumnPlan, TablePlan
from mappings.engine.staging import Reject, missing_reason, stage_rows
from mappings.engine.upsert import (
    TableResult,
    bulk_load_begin,
    bulk_load_end,
    old_months,
    other_uploads_changed,
    other_uploads_snapshot,
    owned_elsewhere,
    references_resolve,
    self_references_update,
    staging_counts,
    staging_create,
    upsert_table,
)


def _ms(since: float) -> int:
    return int((time.monotonic() - since) * 1000)


def staged_load(
    cursor,
    *,
    plan: TablePlan,
    source,
    mode: str,
    stage: Callable[[str], None],
    advance: Callable[[str, int], None],
    on_collapse: Callable | None = None,
) -> DirectLoad:
    """Load `plan`'s rows of `source`'s file into its table through a staging table on `cursor`'s
    transaction. `mode` is the mapping's on_missing_reference; `stage(text)` reports a new stage and
    `advance(text, rows)` the rows read so far; `on_collapse` as direct_load's."""
    loaded = DirectLoad(result=TableResult(), rows=0, rejected=0)
    staging = staging_create(cursor, plan)
    stage(f"reading {plan.name}")
    clock = time.monotonic()
    staged = stage_rows(
        cursor,
        plan=plan,
        staging=staging,
        file_path=source.file_path,
        dialect=source.dialect,
        on_progress=lambda n: advance(f"reading {plan.name}", n),
    )
    loaded.rejects.extend(staged.rejects)
    loaded.rejected = staged.rejected
    loaded.timings[f"{plan.name}: read + copy"] = _ms(clock)
    clock = time.monotonic()
    stage(f"writing {plan.name}")
    # Temporary tables have no statistics until analyzed; without them the planner may pick
    # nested loops over the staging rows.
    cursor.execute(sql.SQL("ANALYZE {}").format(staging))
    maps = {}
    for col in plan.references:
        map_name, created, ref_rejects = references_resolve(
            cursor, plan=plan, staging=staging, column=col.name, mode=mode, source_id=source.pk
        )
        maps[col.name] = map_name
        if created:
            loaded.placeholders[col.references] = loaded.placeholders.get(col.references, 0) + created
        loaded.rejected += len(ref_rejects)
        loaded.rejects.extend(
            Reject(plan.name, row, col.source_col or col.name, value or "", missing_reason(col.references, value))
            for row, value in ref_rejects
        )
    loaded.timings[f"{plan.name}: references"] = _ms(clock)
    clock = time.monotonic()
    rows, distinct = staging_counts(cursor, plan=plan, staging=staging)
    loaded.rows = distinct
    if distinct < rows and not plan.derived_external_id:

        def fetch(query: str) -> list[tuple]:
            cursor.execute(query)
            return cursor.fetchall()

        loaded.collapse = collapse_count(plan, staging.as_string(cursor), fetch)
        if loaded.collapse is not None and on_collapse is not None:
            on_collapse(loaded.collapse)
    loaded.months_before = old_months(cursor, plan=plan, staging=staging)
    others = other_uploads_snapshot(cursor, plan=plan, staging=staging, source_id=source.pk)
    loaded.owned_elsewhere = owned_elsewhere(cursor, plan=plan, staging=staging)
    loaded.bulk = bulk_load_begin(cursor, plan=plan, staging=staging, rows=distinct)
    result = upsert_table(
        cursor,
        plan=plan,
        staging=staging,
        maps=maps,
        source_id=source.pk,
        repeated_ids=distinct < rows,
    )
    loaded.overwritten = result.overwritten
    loaded.timings[f"{plan.name}: upsert"] = _ms(clock)
    for col in plan.self_references:
        _self_reference_pass(cursor, plan, staging, col, mode, source, result, loaded)
    loaded.other_uploads = other_uploads_changed(cursor, plan=plan, snapshot=others, source_id=source.pk)
    if loaded.bulk:
        clock = time.monotonic()
        stage(f"indexing {plan.name}")
        bulk_load_end(cursor, plan=plan)
        loaded.timings[f"{plan.name}: {BULK_END_LAP}"] = _ms(clock)
    loaded.result = result
    return loaded


def _self_reference_pass(
    cursor, plan: TablePlan, staging, col: ColumnPlan, mode: str, source, result: TableResult, loaded: DirectLoad
) -> None:
    map_name, created, ref_rejects = references_resolve(
        cursor,
        plan=plan,
        staging=staging,
        column=col.name,
        mode="placeholder" if mode != "reject" else mode,
        source_id=source.pk,
    )
    if created:
        loaded.placeholders[plan.name] = loaded.placeholders.get(plan.name, 0) + created
    for row, value in ref_rejects:
        # The row itself is loaded already; with "reject" its reference stays empty and is reported.
        loaded.rejects.append(
            Reject(plan.name, row, col.source_col or col.name, value or "", missing_reason(plan.name, value))
        )
    changed_ids = self_references_update(cursor, plan=plan, staging=staging, column=col.name, map_name=map_name)
    # Rows inserted or updated by the first pass are counted already; other rows that changed are updates.
    counted = set(result.touched.get("_written_ids", []))
    result.updated += len(set(changed_ids) - counted)
