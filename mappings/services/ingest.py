"""Ingest: upload + (propose) + save + execute in one call; the `ingest` command and `seed_demo` use it."""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.conf import settings

from accounts.models import User
from canonical.models import AttributeKey
from mappings.intake.upload import file_scan
from mappings.models import DataSource, ExecutionJob, Mapping
from mappings.profiling.profile import ProfileError
from mappings.proposer.gate import LeftOut, NeedsReview, auto_decision
from mappings.services.execute import execution_run_now
from mappings.services.mapping import MappingInvalid, mapping_fields, mapping_grain_option, mapping_save
from mappings.services.profile import data_source_profile
from mappings.services.propose import mapping_grain_proposed, mapping_propose
from mappings.services.upload import data_source_create, data_source_find_duplicate, data_source_scan


class IngestFailed(Exception):
    """Ingest could not run; the message is the one-line reason for stderr."""


class AutoRefused(IngestFailed):
    """`--auto` found columns that need a person; nothing was loaded. `problems` lists them."""

    def __init__(self, source: DataSource, problems: list[NeedsReview]):
        self.source = source
        self.problems = problems
        first = problems[0].line()
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"--auto stopped before loading {source.name}: {first}{more}; review upload {source.pk}")


def mapping_from_proposals(
    *, source: DataSource, user: User | None, domain: str = "", left_out: list[LeftOut] | None = None
) -> list[dict]:
    """Fields from the proposer at or above settings.MAPPING_AUTO_CONFIDENCE (or confirmed by the whole file:
    proposer.gate.auto_accepted), when the whole file passes the gate (proposer.gate.auto_decision: an entity the
    rows refer to that no confident proposal fills is left out, its columns kept as attributes, and appended to
    `left_out`); raises AutoRefused naming each column that needs a person otherwise."""
    result = mapping_propose(source=source, domain_hint=domain or None, user=user)
    registered = {(t, k): kind for t, k, kind in AttributeKey.objects.values_list("table", "key", "type")}
    decision = auto_decision(
        proposals=result.get("proposals", []),
        profile=source.profile,
        threshold=settings.MAPPING_AUTO_CONFIDENCE,
        registered=registered,
    )
    if decision.problems:
        raise AutoRefused(source, decision.problems)
    if left_out is not None:
        left_out += decision.left_out
    return decision.fields


def ingest_file(
    *,
    path: Path | str,
    user: User | None,
    fields: list[dict] | None = None,
    mapping_id: int | None = None,
    auto: bool = False,
    options: dict | None = None,
    domain: str = "",
    reuse_loaded: bool = False,
    date_order: str | None = None,
) -> tuple[DataSource, ExecutionJob | None]:
    """Upload `path`, save its mapping (given fields, a copy of mapping `mapping_id`, or the proposer's with
    `auto`) and execute it here. With `reuse_loaded`, a file already loaded with the same content and the
    same mapping is not loaded again (returns its source and no job): `seed_demo` is idempotent that way.
    `date_order` ("dmy", "mdy" or a locale) reads the dates whose day and month no value decides.
    """
    path = Path(path)
    if not path.is_file():
        raise IngestFailed(f"no such file: {path}")
    if mapping_id is not None:
        base = Mapping.objects.filter(pk=mapping_id).first()
        if base is None:
            raise IngestFailed(f"no mapping with id {mapping_id}")
        fields, options = mapping_fields(base), {**base.options, **(options or {})}
    if reuse_loaded and fields is not None:
        loaded = _already_loaded(path, user=user, fields=fields, options=options)
        if loaded is not None:
            return loaded, None
    # Executed at once below: no scan queued for a worker. A big file's scan (rows, ragged rows: the execution
    # needs it) runs in a thread while the file is profiled, as a worker would beside the upload page.
    source = data_source_create(file=path, name=path.name, user=user, domain=domain, scan_later=False)
    if date_order:
        # Read before the profile: dates no value decides are read in this order (profiling.dates).
        source.dialect = {**source.dialect, "date_order": date_order}
        source.save(update_fields=["dialect"])
    with ThreadPoolExecutor(max_workers=1) as pool:
        scan = None if "ragged" in source.dialect else pool.submit(file_scan, source.file_path, source.dialect)
        # Profiled like an upload from the page, so the source's page shows its profile and Quick Viz too.
        try:
            data_source_profile(source=source)
        except ProfileError as exc:
            raise IngestFailed(f"cannot read {path.name} as a table: {exc}") from exc
        if scan is not None and scan.exception() is None:  # else the execution scans and reports the error
            data_source_scan(source=source, scanned=scan.result())
    left_out: list[LeftOut] = []
    if auto:
        fields = mapping_from_proposals(source=source, user=user, domain=domain, left_out=left_out)
        # The proposer's reading of what a row is, as the review page selects it for a fresh proposal; a given
        # option wins.
        proposed = mapping_grain_proposed(source=source)
        grain = mapping_grain_option(fields, proposed.get("table"))
        options = {"grain": grain, **(options or {})} if grain else options
        # Rows the proposer read as no row of the table (a statement's balance lines): left out, and counted.
        if proposed.get("skip_rows"):
            options = {"skip_rows": proposed["skip_rows"], **(options or {})}
    if fields is None:
        raise IngestFailed("no mapping: pass --auto, --mapping ID or --mapping-file FILE")
    try:
        mapping = mapping_save(source=source, fields=fields, options=options, user=user, note="ingest")
    except MappingInvalid as exc:
        raise IngestFailed("mapping invalid: " + "; ".join(exc.errors)) from exc
    # --auto trusts no key the file contradicts: rows that share it but disagree stop the run.
    job = execution_run_now(source=source, mapping=mapping, user=user, refuse_conflicting_keys=auto)
    if left_out and job is not None:
        # What --auto did not load, in the report the user reads (the ingest JSON, the job's page).
        job.report = {**(job.report or {}), "auto_left_out": [t.as_json() for t in left_out]}
        job.save(update_fields=["report"])
    return source, job


def _already_loaded(path: Path, *, user: User | None, fields: list[dict], options: dict | None) -> DataSource | None:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    previous = data_source_find_duplicate(sha256=digest.hexdigest(), user=user)
    if previous is None or previous.status != DataSource.Status.LOADED:
        return None
    mapping = previous.mappings.order_by("-version").first()
    if mapping is None or _normalized(mapping_fields(mapping)) != _normalized(fields):
        return None
    if any(mapping.options.get(k) != v for k, v in (options or {}).items()):
        return None
    return previous


def _normalized(fields: list[dict]) -> list[tuple]:
    keys = ("source_col", "canonical_table", "canonical_col", "transform")
    # JSONB does not keep key order: compare canonical JSON text.
    return [tuple(json.dumps(f.get(k), sort_keys=True) for k in keys) for f in fields]


def ingest_report(source: DataSource, job: ExecutionJob | None) -> dict:
    """The contract's ingest JSON for a job (or for the already-loaded source's last job)."""
    if job is None:
        job = source.jobs.filter(status=ExecutionJob.Status.SUCCEEDED).order_by("-created_at").first()
    report = dict(job.report) if job else {}
    # The ids a run touched feed the KPI refresh; the user gets their counts, not the ids themselves.
    touched = report.pop("touched", None) or {}
    base = {"source_id": source.pk, "mapping_id": job.mapping_id if job else None, "tables": {}, "errors": []}
    summary = {table: {key: len(ids) for key, ids in keys.items()} for table, keys in touched.items()}
    return {**base, **report, **({"touched_counts": summary} if summary else {})}
