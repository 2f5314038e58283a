"""Execution: load a source through its saved mapping into the canonical tables, in one transaction.

`execution_enqueue` creates an ExecutionJob and queues it on Celery; the task calls `mapping_execute`.
Per target table, in dependency order (canonical/schema.py), the engine loads the plan's rows:
`direct_load` (DuckDB reads, transforms and compares; COPY of new rows, UPDATE of changed ones), or
`staged_load` for a table that references itself (through a staging table). Both resolve references
(placeholders or rejects) and return the same result. Either every table changes or none does. After the commit,
`mappings.signals.execution_committed` is sent with the job (its report says what changed).
"""

from __future__ import annotations

import json
import logging
import time

import psycopg
from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from psycopg import sql

from accounts.models import User
from canonical.attributes import attribute_key
from canonical.schema import TABLE_ORDER, TABLES_BY_NAME
from canonical.services import AttributeTypeConflict, AttributeUse, attribute_keys_register
from mappings.engine.collapse import Collapse
from mappings.engine.direct import direct_load
from mappings.engine.plan import TablePlan, plan_build_for, skip_rows_count
from mappings.engine.staged import staged_load
from mappings.engine.staging import Reject, copy_from_duckdb
from mappings.engine.transforms import duckdb_install_macros
from mappings.engine.upsert import TableResult, columns_clear, order_amounts_from_lines, orders_without_amount
from mappings.intake.duck import duckdb_connect_locked
from mappings.models import DataSource, ExecutionJob, Mapping, RejectedRow
from mappings.profiling.grain import nearly_holds
from mappings.selectors import mapping_columns_executed
from mappings.services.jobs import STAGE_DELAYED, execution_job_claim, execution_send, side_connection
from mappings.services.mapping import MappingInvalid, mapping_fields, mapping_validate
from mappings.services.storage import upload_readable_local
from mappings.services.upload import data_source_scan
from mappings.signals import execution_committed

logger = logging.getLogger(__name__)
ADVISORY_LOCK_CLASS = 7_201  # first key of pg_advisory_xact_lock(int, int): "execution of a source"
MAX_REPORTED_ERRORS = 100


class ExecutionFailed(Exception):
    """The execution stopped and changed nothing; the message says why."""


class ExecutionBusy(ExecutionFailed):
    pass


class ExecutionAborted(ExecutionFailed):
    """all_or_nothing and some rows were rejected: nothing was loaded."""


def execution_enqueue(*, source: DataSource, mapping: Mapping | None = None, user: User | None) -> ExecutionJob:
    """Queue an execution of `mapping` (default: the source's latest version) and return its job.

    Raises MappingInvalid when the source has no mapping or the mapping cannot run.
    """
    if mapping is None:
        mapping = source.mappings.order_by("-version").first()
        if mapping is None:
            raise MappingInvalid(["this upload has no saved mapping yet: save one first"])
    if mapping.source_id != source.pk:
        raise MappingInvalid([f"mapping {mapping.pk} belongs to another upload"])
    errors = mapping_validate(source=source, fields=mapping_fields(mapping), options=mapping.options)
    if errors:
        raise MappingInvalid(errors)
    job = ExecutionJob.objects.create(
        source=source,
        mapping=mapping,
        created_by=user if user is not None and user.is_authenticated else None,
        stage="queued",
        report=_empty_report(source, mapping),
    )
    DataSource.objects.filter(pk=source.pk).update(status=DataSource.Status.QUEUED)

    def send() -> None:
        # After commit, so the worker finds the row; a broker outage leaves the job queued as "delayed".
        if not execution_send(str(job.pk)):
            job.stage = STAGE_DELAYED

    transaction.on_commit(send)
    return job


def _empty_report(source: DataSource, mapping: Mapping) -> dict:
    return {"source_id": source.pk, "mapping_id": mapping.pk, "tables": {}, "errors": []}


class _Progress:
    """Writes job stage/progress on its own autocommit connection: the execution's transaction is
    invisible to others until it commits, but progress must be seen while it runs."""

    def __init__(self, job: ExecutionJob, total_units: int):
        self.job_id = job.pk
        self.total = max(total_units, 1)
        self.done = 0
        self.last = 0.0
        self.conn: psycopg.Connection | None = None
        try:
            self.conn = side_connection()
        except psycopg.Error:  # progress is a nicety; never fail an execution for it
            logger.warning("progress connection failed; job progress will jump", exc_info=True)

    def stage(self, stage: str, *, advance: int = 0, force: bool = False) -> None:
        self.done += advance
        now = time.monotonic()
        if self.conn is None or (not force and now - self.last < 0.5):
            return
        self.last = now
        try:
            self.conn.execute(
                "UPDATE execution_jobs SET stage = %s, progress = %s WHERE id = %s",
                (stage[:64], min(self.done / self.total, 0.99), self.job_id),
            )
        except psycopg.Error:
            logger.warning("progress update failed", exc_info=True)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def mapping_execute(*, job: ExecutionJob, refuse_conflicting_keys: bool = False) -> dict:
    """Run `job` (its source through its mapping) and return its report.

    Rows of the file that share a key are reported per table ("collapsed": rows, keys, conflicting_keys,
    example) with a line in "warnings"; with `refuse_conflicting_keys` (`ingest --auto`) a key whose rows
    disagree stops the execution before anything is committed, naming the key column.

    The report is the contract's ingest JSON: {"source_id", "mapping_id", "tables": {TABLE: {"inserted",
    "updated", "unchanged", "rejected"}}, "errors": [...]} plus "warnings", "date_formats" (the one format of
    each "auto" date column), "touched" (per table: months, customer_ids, product_ids, employee_ids that
    changed), "placeholders", "computed", "duration_ms", "rejected_rows", "other_uploads" (the uploads whose
    rows it changed: `other_uploads_named`).
    The job ends `succeeded` or `failed`; a failed job changed no canonical table. The upload's files are read
    through the storage (a local copy while it runs: mappings.services.storage).
    """
    with upload_readable_local(job.source):
        return _execute(job=job, refuse_conflicting_keys=refuse_conflicting_keys)


def _execute(*, job: ExecutionJob, refuse_conflicting_keys: bool) -> dict:
    started = time.monotonic()
    source, mapping = job.source, job.mapping
    job.status, job.stage, job.started_at, job.error = ExecutionJob.Status.RUNNING, "planning", timezone.now(), ""
    job.save(update_fields=["status", "stage", "started_at", "error"])
    DataSource.objects.filter(pk=source.pk).update(status=DataSource.Status.RUNNING)
    report = _empty_report(source, mapping)
    rejects: list[Reject] = []
    progress = None
    try:
        if "ragged" not in source.dialect:  # a big upload not scanned yet: count its rows, find ragged ones
            data_source_scan(source=source)
        # This block's instance (its file_path is the local copy), not mapping.source: auto dates read the file.
        plans = plan_build_for(
            source=source, fields=mapping_fields(mapping), options=mapping.options, dates_counted_by_load=True
        )
        # The one format each "auto" date column was read with (plan.py resolves it over the whole column). These
        # are the plans' own entries: a direct load fills in the read and values it counted (date_counts_record).
        formats = {
            f"{p.name}.{c.label}": c.date_format for p in plans for c in [*p.columns, *p.attributes] if c.date_format
        }
        if formats:
            report["date_formats"] = formats
        skip = mapping.options.get("skip_rows")
        if skip:  # rows are never left out silently: how many and why
            skipped = skip_rows_count(skip, file_path=source.file_path, dialect=source.dialect)
            report["skipped_rows"] = {**skip, "rows": skipped}
            if skipped:
                report.setdefault("warnings", []).append(skipped_rows_warning(skip, skipped))
        progress = _Progress(job, (source.rows or 1) * len(plans))
        with transaction.atomic():
            _lock_source(source.pk)
            rejects = _run_plans(
                plans,
                source=source,
                mapping=mapping,
                report=report,
                progress=progress,
                refuse_conflicting_keys=refuse_conflicting_keys,
            )
            if mapping.options.get("all_or_nothing") and rejects:
                total = sum(t["rejected"] for t in report["tables"].values())
                raise ExecutionAborted(
                    f"all-or-nothing: {total} row(s) were rejected, so nothing was loaded; "
                    "download the rejected rows, fix the file and run again"
                )
            commit_started = time.monotonic()
        # Deferred foreign-key checks run at commit: part of the price of loading.
        report.setdefault("timings_ms", {})["commit"] = _ms(commit_started)
    except (ExecutionFailed, MappingInvalid, psycopg.Error, Exception) as exc:  # noqa: BLE001 - any failure ends the job
        message = "; ".join(exc.errors) if isinstance(exc, MappingInvalid) else str(exc).strip().splitlines()[0]
        if not isinstance(exc, ExecutionFailed | MappingInvalid):
            logger.exception("execution %s failed", job.pk)
        report["errors"] = [message, *_error_lines(rejects)]
        report["tables"] = {t: {**c, "inserted": 0, "updated": 0, "unchanged": 0} for t, c in report["tables"].items()}
        report.pop("touched", None)
        report.pop("cleared", None)
        _finish(job, report, rejects, started, failed=message)
        DataSource.objects.filter(pk=source.pk).update(status=DataSource.Status.FAILED, error=message[:2000])
        return report
    finally:
        if progress is not None:
            progress.close()
    report["errors"] = _error_lines(rejects)
    _finish(job, report, rejects, started)
    DataSource.objects.filter(pk=source.pk).update(status=DataSource.Status.LOADED, error="")
    # Registered outside the atomic block: runs now in autocommit, or when an outer transaction commits.
    transaction.on_commit(lambda: execution_committed.send(sender=ExecutionJob, job=job))
    return report


def _ms(since: float) -> int:
    return int((time.monotonic() - since) * 1000)


def _lock_source(source_id: int) -> None:
    """Serialize executions of one source: a second one waits for the first to commit, then runs
    against its result (so two at once end as one run would). It gives up after
    EXECUTION_LOCK_WAIT_SECONDS."""
    wait_ms = int(settings.EXECUTION_LOCK_WAIT_SECONDS * 1000)
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{wait_ms}ms"])
        try:
            with transaction.atomic():  # a savepoint, so a timeout leaves the outer transaction usable
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ADVISORY_LOCK_CLASS, source_id % 2**31])
        except OperationalError as exc:
            raise ExecutionBusy(
                f"another execution of this upload is running and did not finish within {wait_ms // 1000} s; "
                "try again when it has finished"
            ) from exc
        finally:
            cursor.execute("SELECT set_config('lock_timeout', '0', true)")


class ConflictingKeys(ExecutionFailed):
    """Rows that share a key disagree on other columns, and the execution was told to refuse that."""


def _run_plans(
    plans: list[TablePlan],
    *,
    source: DataSource,
    mapping: Mapping,
    report: dict,
    progress: _Progress,
    refuse_conflicting_keys: bool = False,
) -> list[Reject]:
    connection.ensure_connection()
    pg = connection.connection  # the psycopg connection, inside Django's transaction
    mode = mapping.options.get("on_missing_reference", "placeholder")
    rejects: list[Reject] = []
    touched: dict[str, dict[str, set]] = {}
    placeholders: dict[str, int] = {}
    computed: dict[str, int] = {}
    line_order_ids: set[int] = set()
    timings: dict[str, int] = {}
    orders_amount_source = None
    bulk_tables: list[str] = []
    other_uploads: dict[int | None, dict[str, int]] = {}
    with pg.cursor() as cursor:
        # The staging tables are analyzed only for join planning: a small sample is plenty.
        cursor.execute("SET LOCAL default_statistics_target = 10")
        # Room for the hash joins and aggregates over a whole file's staging rows.
        cursor.execute("SET LOCAL work_mem = '64MB'")

        def stage(text: str) -> None:
            progress.stage(text, force=True)

        def advance(text: str, rows: int) -> None:
            progress.stage(text, advance=rows)

        clears = columns_no_longer_mapped(source=source, mapping=mapping, plans=plans)

        def clear(until: str | None) -> None:
            """Empty what the mapping no longer maps, table by table in dependency order (the order of the locks)."""
            for name in [t for t in TABLE_ORDER if t in clears]:
                if until is not None and TABLE_ORDER.index(name) > TABLE_ORDER.index(until):
                    return
                columns = clears.pop(name)
                plain = [c for c in columns if attribute_key(c) is None]
                keys = [attribute_key(c) for c in columns if attribute_key(c) is not None]
                result = columns_clear(cursor, table=name, columns=plain, source_id=source.pk, attribute_keys=keys)
                report.setdefault("cleared", {})[name] = {"columns": columns, "rows": result.updated}
                if result.updated:
                    report.setdefault("warnings", []).append(
                        f"{name}: {', '.join(columns)} no longer mapped: emptied on {result.updated} rows "
                        "this upload had written"
                    )
                    _merge_touched(touched, name, result.touched, [])
                    line_order_ids.update(result.touched.get("order_ids", []))

        for plan in plans:
            _attributes_register(plan, source)
            clear(plan.name)

            def on_collapse(collapse: Collapse, plan: TablePlan = plan) -> None:
                report.setdefault("warnings", []).append(collapse.line(plan.name))
                # The rows' own table must never merge disagreeing rows; a denormalized parent repeated on
                # each line may disagree in a few keys (data noise: a small share of all the parent's keys in the
                # file, as the proposer's "nearly" allows, and, stricter, of the keys it repeats): the last
                # occurrence wins there, with the warning above.
                row_table = plan is plans[-1]
                noisy_parent = nearly_holds(
                    collapse.conflicting_keys, collapse.all_keys or collapse.keys, collapse.keys, floor=0
                )
                if refuse_conflicting_keys and collapse.conflicting_keys and (row_table or not noisy_parent):
                    report["tables"][plan.name] = {
                        **TableResult().counts(),
                        "collapsed": collapse.report(),
                    }
                    raise ConflictingKeys(
                        f"{plan.name}: key column {collapse.key_column!r} repeats with different values "
                        f"({collapse.rows} rows into {collapse.keys} keys, {collapse.conflicting_keys} "
                        "conflicting): not a key of this table, so nothing was loaded"
                    )

            if plan.self_references:
                # A self-reference (an employee's manager in the same file) needs every row of the file in
                # the table first: those plans go through a staging table.
                loaded = staged_load(
                    cursor, plan=plan, source=source, mode=mode, stage=stage, advance=advance, on_collapse=on_collapse
                )
            else:
                loaded = direct_load(cursor, plan=plan, source=source, mode=mode, stage=stage, on_collapse=on_collapse)
                progress.stage(f"written {plan.name}", advance=source.rows or 0)
            rejects.extend(loaded.rejects)
            timings.update(loaded.timings)
            for upload, rows in loaded.other_uploads.items():
                other_uploads.setdefault(upload, {})[plan.name] = rows
            for referent, created in loaded.placeholders.items():
                placeholders[referent] = placeholders.get(referent, 0) + created
            if loaded.bulk:
                bulk_tables.append(plan.name)
            result = loaded.result
            result.unchanged = max(loaded.rows - result.inserted - result.updated, 0)
            result.rejected = loaded.rejected
            report["tables"][plan.name] = result.counts()
            if loaded.collapse is not None:
                report["tables"][plan.name]["collapsed"] = loaded.collapse.report()
            if loaded.owned_elsewhere:
                report["tables"][plan.name]["owned_elsewhere"] = loaded.owned_elsewhere
                report.setdefault("warnings", []).append(
                    f"{plan.name}: {loaded.owned_elsewhere} rows were described by a file at their own grain (one "
                    f"row per {plan.table.label.lower().rstrip('s')}): this file's values for their columns were "
                    "not written"
                )
            if loaded.overwritten:
                report["tables"][plan.name]["overwritten_from_other_sources"] = loaded.overwritten
                report.setdefault("warnings", []).append(overwritten_line(plan.name, loaded.overwritten))
            if result.inserted or result.updated:
                # An entry (even without keys) tells the KPI refresh that this table changed.
                _merge_touched(touched, plan.name, result.touched, loaded.months_before)
            if plan.name == "canonical_orders" and plan.column("amount") is None:
                orders_amount_source = source.pk
            if plan.name == "canonical_order_lines":
                line_order_ids.update(result.touched.get("order_ids", []))
        clear(None)
        if orders_amount_source or line_order_ids:
            changed = order_amounts_from_lines(
                cursor, order_ids=sorted(line_order_ids), orders_source_id=orders_amount_source
            )
            if changed["updated"]:
                computed["canonical_orders.amount"] = changed["updated"]
                _merge_touched(touched, "canonical_orders", changed, [])
        if line_order_ids:
            _merge_touched(touched, "canonical_order_lines", _orders_keys(cursor, sorted(line_order_ids)), [])
        if "canonical_orders" in report["tables"] or line_order_ids:
            missing = orders_without_amount(cursor, order_ids=sorted(line_order_ids), source_id=source.pk)
            if missing:
                if "canonical_orders" in report["tables"]:
                    report["tables"]["canonical_orders"]["amount_missing"] = missing
                report.setdefault("warnings", []).append(
                    f"canonical_orders: {missing} orders have no amount: the file has no order total and no "
                    "lines were loaded for them (their revenue counts as 0 until lines or a total arrive)"
                )
    report["timings_ms"] = timings
    # Tables loaded in bulk: their indexes rebuilt and foreign keys validated set-wise (upsert.py).
    report["bulk_load"] = bulk_tables
    report["touched"] = {
        table: {key: sorted(values) for key, values in keys.items()} for table, keys in touched.items()
    }
    report["placeholders"] = placeholders
    report["computed"] = computed
    report["other_uploads"] = other_uploads_named(other_uploads)
    return rejects


def overwritten_line(table: str, overwritten: dict) -> str:
    """The warning line of rows whose values another upload had set at the same grain and this one replaced."""
    columns = ", ".join(f"{c} {n}" for c, n in overwritten["columns"].items())
    first = overwritten["examples"][0]
    return (
        f"{table}: {overwritten['rows']} rows that another upload described got different values from this file "
        f"(the last file loaded wins): {columns}; e.g. {first['external_id']}: {first['column']} "
        f"{first['was']!r} from {first['source']} became {first['now']!r}"
    )


def _attributes_register(plan: TablePlan, source: DataSource) -> None:
    """Register the plan's attributes in the execution's transaction (their first upload is this one); a type
    that differs from the registered one stops the execution before anything is written, naming the column."""
    if not plan.attributes:
        return
    uses = [AttributeUse(a.name, a.type, a.source_col or a.label) for a in plan.attributes]
    try:
        attribute_keys_register(table=plan.name, uses=uses, source_id=source.pk)
    except AttributeTypeConflict as exc:
        raise MappingInvalid(exc.errors) from None


def columns_no_longer_mapped(*, source: DataSource, mapping: Mapping, plans: list[TablePlan]) -> dict[str, list[str]]:
    """{table: columns} that an earlier version of the upload's mapping loaded and `mapping` (its `plans`) does not:
    executing it empties them on the rows the upload wrote, so they end as if only this version had run. An
    identifier and a name (a placeholder's is its reference) are never emptied."""
    loading = {f"{p.name}.{c.name}" for p in plans for c in p.columns}
    loading |= {f"{p.name}.attributes.{a.name}" for p in plans for a in p.attributes}
    removed = mapping_columns_executed(source=source, exclude=mapping) - loading
    clears: dict[str, list[str]] = {}
    for table in TABLE_ORDER:
        names = TABLES_BY_NAME[table].column_names
        columns = [c for c in names if f"{table}.{c}" in removed and c not in ("external_id", "name")]
        # Attributes the version no longer keeps leave the rows too (their key only: other uploads' keys stay).
        columns += sorted(t.split(".", 1)[1] for t in removed if t.startswith(f"{table}.attributes."))
        if columns:
            clears[table] = columns
    return clears


def other_uploads_named(changed: dict[int | None, dict[str, int]]) -> list[dict]:
    """[{"source_id", "name", "uploaded_by", "rows", "tables": {table: rows}}] of the uploads whose rows an
    execution changes (or would), most rows first; a deleted upload has source_id None."""
    known = {
        s.pk: s
        for s in DataSource.objects.filter(pk__in=[k for k in changed if k is not None]).select_related("uploaded_by")
    }
    named = []
    for upload, tables in changed.items():
        source = known.get(upload)
        named.append(
            {
                "source_id": upload if source else None,
                "name": source.name if source else "a deleted upload",
                "uploaded_by": source.uploaded_by.username if source and source.uploaded_by else "",
                "rows": sum(tables.values()),
                "tables": tables,
            }
        )
    return sorted(named, key=lambda u: (-u["rows"], u["source_id"] or 0))


def _orders_keys(cursor, order_ids: list[int]) -> dict:
    cursor.execute(
        "SELECT array_agg(DISTINCT to_char(date_trunc('month', order_date), 'YYYY-MM-01')) "
        "FILTER (WHERE order_date IS NOT NULL), "
        "array_agg(DISTINCT customer_id) FILTER (WHERE customer_id IS NOT NULL), "
        "array_agg(DISTINCT sales_rep_id) FILTER (WHERE sales_rep_id IS NOT NULL) "
        "FROM canonical_orders WHERE id = ANY(%s)",
        [order_ids],
    )
    months, customers, reps = cursor.fetchone()
    return {"months": months or [], "customer_ids": customers or [], "employee_ids": reps or []}


def _merge_touched(touched: dict, table: str, keys: dict, months_before: list[str]) -> None:
    entry = touched.setdefault(table, {})
    for key, values in keys.items():
        if key.startswith("_") or key == "updated" or not values:
            continue
        name = key.split(":", 1)[0]
        entry.setdefault(name, set()).update(values)
    if months_before:
        entry.setdefault("months", set()).update(months_before)


def _error_lines(rejects: list[Reject]) -> list[str]:
    lines = [f"{r.table} row {r.source_row}: {r.column}: {r.reason} (value {r.value!r})" for r in rejects]
    if len(lines) > MAX_REPORTED_ERRORS:
        lines = [
            *lines[:MAX_REPORTED_ERRORS],
            f"… and {len(lines) - MAX_REPORTED_ERRORS} more in the rejected-rows CSV",
        ]
    return lines


def _finish(job: ExecutionJob, report: dict, rejects: list[Reject], started: float, failed: str = "") -> None:
    RejectedRow.objects.filter(job=job).delete()
    RejectedRow.objects.bulk_create(
        (
            RejectedRow(
                job=job,
                canonical_table=r.table,
                source_row=r.source_row,
                column=r.column,
                value=r.value,
                reason=r.reason,
            )
            for r in rejects
        ),
        batch_size=2000,
    )
    report["rejected_rows"] = len(rejects)
    report["duration_ms"] = int((time.monotonic() - started) * 1000)
    job.report = report
    job.status = ExecutionJob.Status.FAILED if failed else ExecutionJob.Status.SUCCEEDED
    job.stage = "failed" if failed else "done"
    job.progress = 1.0
    job.error = failed[:4000]
    job.finished_at = timezone.now()
    job.save(update_fields=["report", "status", "stage", "progress", "error", "finished_at"])


def execution_run_now(
    *, source: DataSource, mapping: Mapping | None = None, user: User | None, refuse_conflicting_keys: bool = False
) -> ExecutionJob:
    """Create a job and run it in this process (the ingest command and seed_demo); `refuse_conflicting_keys`
    as mapping_execute's."""
    if mapping is None:
        mapping = source.mappings.order_by("-version").first()
        if mapping is None:
            raise MappingInvalid(["this upload has no saved mapping yet"])
    job = ExecutionJob.objects.create(
        source=source,
        mapping=mapping,
        created_by=user if user is not None and user.is_authenticated else None,
        report=_empty_report(source, mapping),
    )
    # Claimed like a queued job: its lease, renewed by the heartbeat, keeps the stale-job sweeper off it.
    with execution_job_claim(job.pk) as claimed:
        if claimed is not None:
            mapping_execute(job=claimed, refuse_conflicting_keys=refuse_conflicting_keys)
    job.refresh_from_db()
    return job


def transform_preview(
    *, source: DataSource, fields: list[dict], limit: int = 20, options: dict | None = None
) -> list[dict]:
    """The first `limit` rows of the file as the mapping would load them, for the review page.

    One dict per (row, table): {"source_row", "table", "values": {canonical_col: text}, "errors": [...]}.
    References show the identifier text (resolution happens at execution). Raises MappingInvalid.
    """
    with upload_readable_local(source):
        return _transform_preview(source=source, fields=fields, limit=limit, options=options)


PRICED_AT_LOAD = "the product's price, at load"
# How many rows left out by options.skip_rows the preview reads past to fill its rows (balance lines are few).
PREVIEW_SKIPPED_READ_PAST = 1000


def _transform_preview(*, source: DataSource, fields: list[dict], limit: int, options: dict | None) -> list[dict]:
    data_source_scan(source=source)  # once, for a big upload not scanned yet: ragged rows read unshifted
    plans = plan_build_for(source=source, fields=fields, options=options)
    rows: list[dict] = []
    conn = duckdb_connect_locked(source.file_path)
    try:
        duckdb_install_macros(conn)
        for plan in plans:
            query, params = plan.duckdb_query(file_path=source.file_path, dialect=source.dialect)
            # Rows left out by options.skip_rows (no __errors, the engine's mark) are read past, not shown.
            params["preview_limit"] = int(limit) + (PREVIEW_SKIPPED_READ_PAST if plan.skip_rows else 0)
            names = plan.output_columns
            shown_rows = 0
            for number, values in enumerate(conn.execute(f"{query} LIMIT $preview_limit", params).fetchall()):
                if values[-1] is None:  # left out: neither a good row nor a rejected one
                    continue
                if shown_rows == limit:
                    break
                shown_rows += 1
                errors = values[-1]
                shown = {n: (None if v is None else str(v)) for n, v in zip(names, values[:-1], strict=True)}
                for name in plan.priced_at_load:  # read from canonical_products when the lines load
                    shown[name] = PRICED_AT_LOAD
                if plan.attributes:  # one column per attribute, as the JSON holds it (a number unquoted)
                    kept = json.loads(shown.pop("attributes"))
                    for key in plan.attribute_keys:
                        value = kept.get(key)
                        text = value is None or isinstance(value, str)
                        shown[f"attributes.{key}"] = value if text else json.dumps(value)
                rows.append(
                    {
                        "source_row": number + 2,
                        "table": plan.name,
                        "values": shown,
                        "errors": [f"{e['column']}: {e['reason']} (value {e['value']!r})" for e in errors],
                    }
                )
    finally:
        conn.close()
    return rows


def skipped_rows_warning(skip: dict, rows: int) -> str:
    """How the report and the review's preview say which rows `options.skip_rows` leaves out, and why."""
    return (
        f"{rows} row(s) left out, not loaded: {skip.get('reason') or 'options.skip_rows'} "
        f"('{skip['column']}' is {', '.join(map(str, skip['values']))})"
    )


def preview_skipped_rows(*, source: DataSource, options: dict | None) -> dict | None:
    """The rows `options.skip_rows` leaves out of the whole file, as the report counts them, for the review's
    preview: {"rows", "reason", "warning"}; None without the option."""
    skip = (options or {}).get("skip_rows")
    if not skip:
        return None
    with upload_readable_local(source):
        rows = skip_rows_count(skip, file_path=source.file_path, dialect=source.dialect)
    return {"rows": rows, "reason": skip.get("reason") or "", "warning": skipped_rows_warning(skip, rows)}


OVERWRITE_CHECK_MAX_ROWS = 200_000  # the review page checks files up to this size; the report names them always


def mapping_overwrites_preview(*, source: DataSource, mapping: Mapping) -> list[dict] | None:
    """The uploads whose rows an execution of `mapping` would change: rows other uploads loaded with an
    identifier of this file's good rows (whether their values differ is known when it runs), as
    `other_uploads_named`. None when the file is too big to check during a page view. Writes nothing."""
    if source.rows is None or source.rows > OVERWRITE_CHECK_MAX_ROWS:
        return None
    with upload_readable_local(source):  # planning reads the file too ("auto" date columns)
        try:
            plans = plan_build_for(source=source, fields=mapping_fields(mapping), options=mapping.options)
        except MappingInvalid:
            return []
        return _overwrites(source, plans)


def _overwrites(source: DataSource, plans: list[TablePlan]) -> list[dict]:
    changed: dict[int | None, dict[str, int]] = {}
    conn = duckdb_connect_locked(source.file_path)
    try:
        duckdb_install_macros(conn)
        with transaction.atomic():
            connection.ensure_connection()
            with connection.connection.cursor() as cursor:
                for plan in plans:
                    query, params = plan.duckdb_query(file_path=source.file_path, dialect=source.dialect)
                    ids = sql.Identifier(f"ids_{plan.name}")
                    cursor.execute(sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(ids))
                    cursor.execute(sql.SQL("CREATE TEMP TABLE {} (external_id text) ON COMMIT DROP").format(ids))
                    copy_from_duckdb(
                        cursor,
                        sql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(ids),
                        conn,
                        f"SELECT external_id FROM ({query}) WHERE len(__errors) = 0",
                        params,
                    )
                    # A file of another grain leaves rows described at their grain alone (upsert.ownership).
                    cursor.execute(
                        sql.SQL(
                            "SELECT t.source_id, count(*) FROM {} t WHERE NOT t.is_placeholder "
                            "AND t.source_id IS DISTINCT FROM %s AND t.external_id IN (SELECT external_id FROM {}) "
                            "AND (%s OR NOT t.at_grain) GROUP BY 1"
                        ).format(sql.Identifier(plan.name), ids),
                        [source.pk, plan.at_grain],
                    )
                    for upload, rows in cursor.fetchall():
                        changed.setdefault(upload, {})[plan.name] = rows
    finally:
        conn.close()
    return other_uploads_named(changed)
