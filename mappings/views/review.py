"""The review page: proposals per source column, edited by the user, previewed, saved, executed."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from canonical.attributes import attribute_key, attribute_key_free
from canonical.schema import TABLES_BY_NAME
from mappings.forms import (
    GRAIN_CHOICES,
    MAX_ROWS,
    PII_CHOICES,
    STEP_LABELS,
    TARGET_CHOICES,
    DateOrderForm,
    MappingReviewForm,
    int_or_none,
)
from mappings.intake.dialect import DELIMITERS
from mappings.models import DataSource, Mapping
from mappings.profiling.profile import ProfileError
from mappings.proposer.attributes import attribute_table
from mappings.proposer.gate import auto_accepted, auto_decision
from mappings.proposer.scoring import CONFIDENT
from mappings.proposer.structure import row_label
from mappings.proposer.tables import missing_required_targets
from mappings.selectors import (
    data_source_get_for_user,
    job_get_for_user,
    require_data_manager,
    source_executions,
    source_last_executed_mapping,
)
from mappings.services.execute import (
    execution_enqueue,
    mapping_overwrites_preview,
    preview_skipped_rows,
    transform_preview,
)
from mappings.services.mapping import (
    MappingInvalid,
    mapping_fields,
    mapping_fields_diff,
    mapping_grain,
    mapping_grain_option,
    mapping_save,
    mapping_version_restore,
)
from mappings.services.propose import mapping_grain_proposed, mapping_propose
from mappings.services.sources import ENCODINGS, data_source_dialect_override, data_source_set_date_order
from mappings.services.upload import UploadRejected
from mappings.views.jobs import job_detail_context, other_uploads_context
from mappings.views.steps import row_steps


def _attribute_targets(proposals: list[dict]) -> dict[str, str]:
    """{source column: the "Keep as attribute" target its row offers}: its own attribute when it is one, else a
    free key on the table at the file's grain (proposer/attributes.py)."""
    table = attribute_table(proposals)
    if table is None:
        return {}
    targets: dict[str, str] = {}
    taken: set[str] = set()
    for p in proposals:
        key = attribute_key(p["canonical_col"]) if p["canonical_table"] == table else None
        if key is not None and p["source_col"]:
            targets[p["source_col"]] = f"{table}.attributes.{key}"
            taken.add(key)
    for p in proposals:
        name = p["source_col"]
        if name and name not in targets:
            key = attribute_key_free(table, name, taken)
            taken.add(key)
            targets[name] = f"{table}.attributes.{key}"
    return targets


def _rows_from_proposals(source: DataSource, proposals: list[dict], *, fresh: bool = False) -> list[dict]:
    """Review rows: a proposal plus what the profile knows about its column. A fresh proposal below
    the auto-accept threshold is shown as a suggestion, not pre-selected: a person chooses it (unless the whole
    file confirms it, as `ingest --auto` would load it: proposer.gate.auto_accepted)."""
    profiles = {c["name"]: c for c in source.profile.get("columns", [])}
    threshold = settings.MAPPING_AUTO_CONFIDENCE
    confirmed = (
        {
            (p["source_col"], p["canonical_table"], p["canonical_col"]): p
            for p in auto_accepted(proposals=proposals, profile=source.profile, threshold=threshold)
            if (p["confidence"] or 0) < threshold
        }
        if fresh
        else {}
    )
    columns = list(source.dialect.get("columns") or [])
    attribute_targets = _attribute_targets(proposals)
    rows = []
    for index, p in enumerate(proposals):
        column = profiles.get(p["source_col"] or "", {})
        pii = column.get("pii")
        target = f"{p['canonical_table']}.{p['canonical_col']}" if p["canonical_table"] else ""
        key = (p["source_col"], p["canonical_table"], p["canonical_col"])
        p = confirmed.get(key, p)  # its reason then carries the file's evidence
        unsure = fresh and target and (p["confidence"] or 0) < threshold and key not in confirmed
        rows.append(
            {
                **p,
                "target": "" if unsure else target,
                "suggested": target if unsure else "",
                "dates_undecided": bool((column.get("date_evidence") or {}).get("undecided")),
                "column": column,
                "pii": pii,
                "pii_choice": p.get("pii_choice") or "keep",
                "confident": bool(p["canonical_table"]) and (p["confidence"] or 0) >= CONFIDENT,
                # A saved attribute of another table than the file's grain keeps its own target.
                "attribute_target": target
                if attribute_key(p["canonical_col"])
                else attribute_targets.get(p["source_col"] or "", ""),
            }
        )
        rows[-1]["index"] = index
        rows[-1]["steps"] = row_steps(rows[-1], index=index, columns=columns)
    return rows


COLUMNS_SHOWN = 150  # a review row posts 6 fields: the page must stay under DATA_UPLOAD_MAX_NUMBER_FIELDS


def _postable_rows() -> int:
    """How many review rows one post may carry (Django refuses a post of more fields with a 400)."""
    return max((settings.DATA_UPLOAD_MAX_NUMBER_FIELDS or 100_000) - 20, 6) // 6


def _numbered(rows: list[dict]) -> list[dict]:
    """The rows the page renders, numbered 0… as the form posts them (their step forms too)."""
    for index, row in enumerate(rows):
        if row["index"] != index:
            row["index"] = index
            for step in row["steps"]:
                step.update(row=index, prefix=f"{index}-{step['key']}")
    return rows


def _rows_shown(rows: list[dict], query: str) -> list[dict]:
    """The review rows the page renders: the first COLUMNS_SHOWN (or those whose header contains `query`;
    "*" for all), and always every row mapped to a canonical column and every row with a PII choice. Rows
    kept as attributes past them are not shown (a wide file's every column is one: the page could not be
    posted), so saving the page as shown leaves those columns unmapped; the page says so."""
    query = query.strip().casefold()
    if query == "*" and len(rows) <= min(MAX_ROWS, _postable_rows()):
        return rows

    def wanted(index: int, row: dict) -> bool:
        if query and query != "*":
            return query in (row["source_col"] or "").casefold()
        return index < COLUMNS_SHOWN

    def mapped(row: dict) -> bool:
        return bool(row["canonical_table"]) and attribute_key(row.get("canonical_col")) is None

    return [r for i, r in enumerate(rows) if wanted(i, r) or mapped(r) or r["pii_choice"] != "keep"]


def _saved_proposals(mapping: Mapping, columns: list[str]) -> list[dict]:
    """A saved version's rows, one per field, plus every column of the file it does not name (versions
    saved before every column was kept), unmapped: the page always offers every column, in file order."""
    dropped = set(mapping.options.get("drop_columns", []))
    proposals = []
    for f in mapping.fields.order_by("position"):
        transform = f.transform or None
        hashed = bool(transform) and transform[-1].get("op") == "hash"
        mapped = bool(f.canonical_table)
        proposals.append(
            {
                "source_col": f.source_col,
                "canonical_table": f.canonical_table,
                "canonical_col": f.canonical_col,
                "transform": transform[:-1] or None if hashed else transform,
                "confidence": f.confidence if f.confidence is not None else (1.0 if mapped else None),
                "reason": f.reason or (f"saved in version {mapping.version}" if mapped else ""),
                "pii_choice": "drop" if f.source_col in dropped else "hash" if hashed else "keep",
            }
        )
    named = {p["source_col"] for p in proposals}
    for column in columns:
        if column not in named:
            proposals.append(
                {"source_col": column, "canonical_table": None, "canonical_col": None, "transform": None,
                 "confidence": None, "reason": "", "pii_choice": "drop" if column in dropped else "keep"}
            )  # fmt: skip
    order = {c: i for i, c in enumerate(columns)}
    return sorted(proposals, key=lambda p: order.get(p["source_col"], len(order)))


def _with_every_column(fields: list[dict], columns: list[str]) -> list[dict]:
    """`fields` plus every column of the file they do not name, unmapped: a saved version lists the whole
    file, so a page showing only part of a wide file, or a column mapped later, loses no other edit."""
    named = {f.get("source_col") for f in fields}
    unmapped = [
        {"source_col": c, "canonical_table": None, "canonical_col": None, "transform": None, "confidence": None,
         "reason": ""}
        for c in columns if c not in named
    ]  # fmt: skip
    return [*fields, *unmapped]


def _baseline(source: DataSource, latest: Mapping | None) -> tuple[Mapping | None, str]:
    """The version the screen is compared with: the one last executed (what the loaded rows come from),
    else the latest saved."""
    executed = source_last_executed_mapping(source)
    if executed is not None:
        return executed, "last executed"
    return latest, "latest saved"


@login_required
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, source_id: int) -> HttpResponse:
    """GET: the latest saved version (or, with ?fresh=1 or none saved, a fresh proposal). POST: save what is
    on screen as a new version and redirect back here (POST/redirect/GET: reloading saves nothing twice); with
    action=execute, then run it (the latest version again when the screen is the same) and redirect to its job
    page, so that reloading it runs nothing twice. A post that cannot be saved shows the page again as posted,
    with its errors."""
    require_data_manager(request.user)
    source = data_source_get_for_user(request.user, source_id)
    context: dict = {"source": source, "errors": [], "target_choices": TARGET_CHOICES}
    status = 200
    latest = source.mappings.order_by("-version").first()
    columns = list(source.dialect.get("columns") or [])
    fresh = False  # proposals straight from the proposer (not posted back, not a saved version)
    if request.method == "POST":
        form = MappingReviewForm(request.POST)
        fields, options, errors, posted = form.read()
        context["grain_errors"] = form.grain_errors
        if not errors:
            try:
                return _save_or_execute(request, source, latest, _with_every_column(fields, columns), options)
            except MappingInvalid as exc:
                errors = list(getattr(exc, "errors", None) or [str(exc)])
        context["errors"] = errors
        status = 400
        proposals = posted
        context["options"] = options
        context["edited"] = True
    elif latest is not None and request.GET.get("fresh") != "1":
        proposals = _saved_proposals(latest, columns)
        context["options"] = latest.options
    else:
        try:
            notes: list[str] = []
            proposals = mapping_propose(
                source=source, domain_hint=request.GET.get("domain") or None, user=request.user, notes=notes
            )["proposals"]
            context["notes"] = notes
            fresh = True
        except ProfileError as exc:
            context["errors"] = [f"The upload cannot be profiled: {exc}"]
            proposals = []
            status = 400
        context["options"] = {}
    if latest is not None:
        context["overwrites"] = mapping_overwrites_preview(source=source, mapping=latest)
        context.update({f"overwrite_{k}": v for k, v in other_uploads_context(context["overwrites"]).items()})
    rows = _rows_from_proposals(source, proposals, fresh=fresh)
    context.update(_grain_context(source, rows, context["options"], fresh=fresh))
    shown = rows if request.method == "POST" else _rows_shown(rows, request.GET.get("columns", ""))
    questions, auto_left_out = _auto_questions(source, proposals, shown) if fresh else ([], [])
    context.update(
        rows=_numbered(shown),
        questions=questions,
        auto_left_out=auto_left_out,
        fresh=fresh,
        step_labels=STEP_LABELS.items(),
        columns_total=len(rows),
        columns_hidden=len(rows) - len(shown),
        columns_query=request.GET.get("columns", ""),
        show_all_allowed=len(rows) <= min(MAX_ROWS, _postable_rows()),
        latest=latest,
        versions=source.mappings.select_related("created_by").order_by("-version")[:20],
        executions=source_executions(source, limit=10),
        missing=missing_required_targets([r for r in rows if r["canonical_table"] and r["pii_choice"] != "drop"]),
        pii_choices=PII_CHOICES,
        auto_threshold=settings.MAPPING_AUTO_CONFIDENCE,
        undecided_dates=[
            c["name"] for c in source.profile.get("columns", []) if (c.get("date_evidence") or {}).get("undecided")
        ],
        date_order_form=DateOrderForm(initial={"date_order": source.dialect.get("date_order")}),
        **_dialect_choices(source),
    )
    return render(request, "mappings/review.html", context, status=status)


def _auto_questions(source: DataSource, proposals: list[dict], shown: list[dict]) -> tuple[list[dict], list[str]]:
    """What `ingest --auto` would stop on for this proposal, each with the review row to jump to, and the tables it
    would leave out (proposer.gate.auto_decision, the very decision `--auto` takes)."""
    decision = auto_decision(proposals=proposals, profile=source.profile, threshold=settings.MAPPING_AUTO_CONFIDENCE)
    rows = {}
    for row in shown:
        rows.setdefault(row["source_col"], row["index"])
    questions = [
        {
            "where": p.source_col or p.target or "",
            "problem": p.problem,
            "row": rows.get(p.source_col) if p.source_col else None,
        }
        for p in decision.problems
    ]
    return questions, [left.line() for left in decision.left_out]


def _grain_context(source: DataSource, rows: list[dict], options: dict, *, fresh: bool) -> dict:
    """The grain select: its choices, the automatic table (the last the rows fill), the proposer's reading of the
    file with its reason, and which choice is selected. A fresh proposal selects the proposer's table when it is
    not the automatic one (so that a version saved as proposed says nothing it does not need to)."""
    mapped = [
        {"source_col": r["source_col"], "canonical_table": r["canonical_table"], "canonical_col": r["canonical_col"]}
        for r in rows
        if r["canonical_table"] and r["target"] and r["pii_choice"] != "drop"
    ]
    automatic = mapping_grain(mapped)
    proposed = mapping_grain_proposed(source=source) if source.profile.get("columns") else None
    table = (proposed or {}).get("table")
    proposed = {**proposed, "label": row_label(table)} if table else None
    selected = options.get("grain") or ""
    option = mapping_grain_option(mapped, table) if fresh else None
    if option:
        selected = options["grain"] = option
    # Rows the proposer reads as no row of the table (a statement's balance lines): offered, left out when fresh.
    offered = options.get("skip_rows") or (proposed or {}).get("skip_rows")
    if fresh and offered and "skip_rows" not in options:
        options["skip_rows"] = offered
    return {
        "grain_choices": GRAIN_CHOICES,
        "grain_selected": selected,
        "grain_automatic": automatic,
        "grain_proposed": proposed,
        "skip_rows_offered": offered,
    }


def _save_or_execute(request: HttpRequest, source: DataSource, latest: Mapping | None, fields: list[dict], options):
    """Save the posted mapping (Save), or run it (Execute): a screen that differs from the latest version is
    saved as a new version first. Returns the redirect to the review page (Save) or to the new job's page."""
    executing = request.POST.get("action") == "execute"
    same = (
        executing
        and latest is not None
        and mapping_fields_diff(
            before=mapping_fields(latest), after=fields, before_options=latest.options, after_options=options
        )["same"]
    )
    mapping = latest if same else mapping_save(source=source, fields=fields, options=options, user=request.user)
    if not executing:
        messages.success(request, f"Saved as version v{mapping.version}.")
        return redirect("mappings:review", source_id=source.pk)
    job = execution_enqueue(source=source, mapping=mapping, user=request.user)
    if not same:
        messages.success(request, f"Saved as version v{mapping.version}; its execution is queued.")
    return redirect("mappings:job-detail", job_id=job.pk)


@login_required
@require_POST
def review_date_order(request: HttpRequest, source_id: int) -> HttpResponse:
    """Read the dates no value decides day-first or month-first, then propose afresh."""
    require_data_manager(request.user)
    source = data_source_get_for_user(request.user, source_id)
    form = DateOrderForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose day first or month first.")
    else:
        try:
            data_source_set_date_order(source=source, date_order=form.cleaned_data["date_order"])
        except (UploadRejected, ProfileError) as exc:
            messages.error(request, str(exc))
        else:
            order = "day first" if form.cleaned_data["date_order"] == "dmy" else "month first"
            messages.success(request, f"Dates no value could decide are read {order}; proposals are fresh.")
    return redirect(f"{reverse('mappings:review', args=[source.pk])}?fresh=1")


@login_required
@require_POST
def review_preview(request: HttpRequest, source_id: int) -> HttpResponse:
    """The first 20 rows as the edited mapping would load them (HTMX partial)."""
    require_data_manager(request.user)
    source = data_source_get_for_user(request.user, source_id)
    fields, options, errors, posted = MappingReviewForm(request.POST).read()
    preview: list[dict] = []
    skipped = None
    grain = mapping_grain(fields, options)
    if not errors and fields:
        try:
            preview = transform_preview(source=source, fields=fields, limit=20, options=options)
            skipped = preview_skipped_rows(source=source, options=options)  # the rows the preview leaves out too
        except MappingInvalid as exc:
            errors = list(exc.errors)
    latest = source.mappings.order_by("-version").first()
    baseline, baseline_label = _baseline(source, latest)
    diff = None
    if baseline is not None:
        diff = mapping_fields_diff(
            before=mapping_fields(baseline), after=fields, before_options=baseline.options, after_options=options
        )
    context = {
        "source": source,
        "errors": errors,
        "diff": diff,
        "baseline": baseline,
        "baseline_label": baseline_label,
        "preview_tables": _preview_tables(preview),
        "skipped": skipped,
        "grain": TABLES_BY_NAME.get(grain),
        "grain_chosen": bool(options.get("grain")),
        "missing": missing_required_targets([r for r in posted if r["canonical_table"] and r["pii_choice"] != "drop"]),
    }
    # 200 even with errors: htmx swaps only successful responses, and the errors are the content here.
    return render(request, "mappings/review.html#preview", context)


@login_required
@require_POST
def review_execute(request: HttpRequest, source_id: int) -> HttpResponse:
    """Queue an execution of the latest saved mapping (or the posted mapping id); shows its progress."""
    require_data_manager(request.user)
    source = data_source_get_for_user(request.user, source_id)
    mapping = source.mappings.order_by("-version").first()
    if request.POST.get("mapping_id"):
        mapping = source.mappings.filter(pk=int_or_none(request.POST["mapping_id"])).first()
    if mapping is None:
        return _job_refused(request, source, "Save the mapping first.")
    try:
        job = execution_enqueue(source=source, mapping=mapping, user=request.user)
    except MappingInvalid as exc:  # e.g. the file was read again another way: its columns changed
        return _job_refused(request, source, "This mapping cannot run: " + "; ".join(exc.errors))
    if request.htmx:
        return _job_response(request, source, job)
    return redirect("mappings:job-detail", job_id=job.pk)  # POST/redirect/GET: reloading runs nothing twice


@login_required
@require_POST
def review_restore(request: HttpRequest, source_id: int, version: int) -> HttpResponse:
    """Restore an older version: saved again as the newest version (nothing is deleted)."""
    require_data_manager(request.user)
    source = data_source_get_for_user(request.user, source_id)
    if not source.mappings.filter(version=version).exists():
        raise Http404("No such version")
    try:
        mapping = mapping_version_restore(source=source, version=version, user=request.user)
    except MappingInvalid as exc:
        messages.error(request, f"v{version} cannot be restored: " + "; ".join(exc.errors))
    else:
        messages.success(request, f"v{version} restored as v{mapping.version}.")
    return redirect("mappings:review", source_id=source.pk)


def _job_refused(request: HttpRequest, source: DataSource, message: str) -> HttpResponse:
    """Why an execution was not queued: in the page's job panel (HTMX), or on the review page."""
    if request.htmx:
        # 200: htmx swaps only successful responses, and the error is the content here.
        return render(request, "mappings/review.html#job", {"source": source, "job_error": message})
    messages.error(request, message)
    return redirect("mappings:review", source_id=source.pk)


@login_required
def job_progress(request: HttpRequest, source_id: int, job_id) -> HttpResponse:
    require_data_manager(request.user)
    source = data_source_get_for_user(request.user, source_id)
    job = job_get_for_user(request.user, job_id)
    if job.source_id != source.pk:
        raise Http404("No such job")
    return _job_response(request, source, job)


@login_required
@require_POST
def review_dialect(request: HttpRequest, source_id: int) -> HttpResponse:
    """Override how the file is read (delimiter, quote, header, encoding), then propose afresh."""
    require_data_manager(request.user)
    source = data_source_get_for_user(request.user, source_id)
    delimiter = {"tab": "\t"}.get(request.POST.get("delimiter", ""), request.POST.get("delimiter", ""))
    try:
        data_source_dialect_override(
            source=source,
            delimiter=delimiter,
            quote=request.POST.get("quote", ""),
            header=request.POST.get("header") == "on",
            encoding=request.POST.get("encoding", ""),
        )
    except (UploadRejected, ProfileError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "The file was read again with your settings; proposals are fresh.")
    return redirect(f"{reverse('mappings:review', args=[source.pk])}?fresh=1")


DELIMITER_LABELS = {",": "comma ,", ";": "semicolon ;", "\t": "tab", "|": "pipe |"}


def _dialect_choices(source: DataSource) -> dict:
    """The choices of the "how the file is read" form, the current ones selected."""
    delimiter = source.dialect.get("delimiter", ",")
    return {
        "delimiters": [("tab" if d == "\t" else d, DELIMITER_LABELS[d]) for d in DELIMITERS],
        "current_delimiter": "tab" if delimiter == "\t" else delimiter,
        "encodings": ENCODINGS,
    }


def _preview_tables(preview: list[dict]) -> list[dict]:
    """transform_preview's rows grouped per canonical table, as header + rows for the template."""
    tables: dict[str, dict] = {}
    for row in preview:
        table = tables.setdefault(row["table"], {"name": row["table"], "headers": list(row["values"]), "rows": []})
        table["rows"].append(
            {"source_row": row["source_row"], "cells": [row["values"].get(h) for h in table["headers"]],
             "errors": row["errors"]}
        )  # fmt: skip
    return list(tables.values())


def _job_response(request: HttpRequest, source, job) -> HttpResponse:
    """The review page's job partial for HTMX; otherwise the one job page (mappings/views/jobs.py)."""
    if request.htmx:
        context = {"source": source, "job": job, **other_uploads_context((job.report or {}).get("other_uploads"))}
        return render(request, "mappings/review.html#job", context)
    return render(request, "mappings/job_detail.html", job_detail_context(job))
