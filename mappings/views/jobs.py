"""Execution job pages: progress (polled with HTMX), the rejected rows (a page and a CSV download)."""

from __future__ import annotations

import csv

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from canonical.csv_export import csv_safe_cell
from mappings.models import ExecutionJob
from mappings.selectors import job_get_for_user, job_rejected_rows, job_totals, require_data_manager

REJECTED_PER_PAGE = 50


def _job_for(request: HttpRequest, job_id) -> ExecutionJob:
    require_data_manager(request.user)
    return job_get_for_user(request.user, job_id)


@login_required
def job_detail(request: HttpRequest, job_id) -> HttpResponse:
    """The job's status, stage and progress; while it runs, the progress partial polls itself."""
    job = _job_for(request, job_id)
    template = "mappings/job_detail.html#progress" if request.htmx else "mappings/job_detail.html"
    return render(request, template, job_detail_context(job))


def job_detail_context(job: ExecutionJob) -> dict:
    """What the job page shows; the review page's execute button lands on the same page."""
    return {
        "job": job,
        "running": job.status in (ExecutionJob.Status.QUEUED, ExecutionJob.Status.RUNNING),
        "percent": int(round(job.progress * 100)),
        "tables": (job.report or {}).get("tables", {}),
        "errors": (job.report or {}).get("errors", []),
        "rejected_count": job.rejected_rows.count(),
        "totals": job_totals(job),
        **other_uploads_context((job.report or {}).get("other_uploads")),
    }


def other_uploads_context(uploads: list[dict] | None) -> dict:
    """For mappings/_other_uploads.html: the uploads whose rows change and how many rows in all."""
    uploads = uploads or []
    return {"other_uploads": uploads, "other_rows": sum(u["rows"] for u in uploads)}


@login_required
def job_rejected(request: HttpRequest, job_id) -> HttpResponse:
    """The job's rejected rows, a page at a time: row number, table, column, value, reason."""
    job = _job_for(request, job_id)
    tables = sorted(set(job.rejected_rows.values_list("canonical_table", flat=True)))
    table = request.GET.get("table") if request.GET.get("table") in tables else None
    rows = Paginator(job_rejected_rows(job, table=table), REJECTED_PER_PAGE).get_page(request.GET.get("page"))
    context = {"job": job, "rows": rows, "tables": tables, "table": table, "total": rows.paginator.count}
    return render(request, "mappings/job_rejected.html", context)


class _Echo:
    def write(self, value: str) -> str:
        return value


@login_required
def job_rejected_csv(request: HttpRequest, job_id) -> StreamingHttpResponse:
    """Every rejected row of the job: table, row number, column, value, reason."""
    job = _job_for(request, job_id)
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(["table", "row", "column", "value", "reason"])
        for r in job.rejected_rows.order_by("source_row", "pk").iterator(chunk_size=2000):
            cells = [r.canonical_table, r.source_row, r.column, r.value, r.reason]
            yield writer.writerow([csv_safe_cell(c) for c in cells])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="rejected-rows-{job.pk}.csv"'
    return response
