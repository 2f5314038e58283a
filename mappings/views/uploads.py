"""Upload pages: the upload form and list, an upload's profile with Quick Viz, the mappings list."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from mappings.forms import SourceReadForm
from mappings.models import DataSource, Mapping
from mappings.profiling.profile import ProfileError
from mappings.selectors import (
    data_source_get_for_user,
    data_sources_for_user,
    data_sources_with_last_run,
    require_data_manager,
    source_executions,
)
from mappings.services.convert import data_source_read_as
from mappings.services.sources import data_source_upload
from mappings.services.upload import UploadRejected


@login_required
@require_http_methods(["GET", "POST"])
def upload_list(request: HttpRequest) -> HttpResponse:
    require_data_manager(request.user)
    context: dict = {"error": None, "duplicate": None}
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            context["error"] = "Choose a CSV, TSV or Excel file to upload."
        else:
            try:
                result = data_source_upload(
                    file=upload, name=upload.name, user=request.user, domain=request.POST.get("domain", "")
                )
            except (UploadRejected, ProfileError) as exc:
                context["error"] = str(exc)
            else:
                if not result.duplicate:
                    messages.success(request, f"{result.source.name}: {result.message}")
                    if result.source.dialect.get("mixed_encoding"):
                        messages.warning(
                            request,
                            "This file mixes UTF-8 text and bytes that are not UTF-8 (read as cp1252): "
                            "check its accents, and choose one encoding on the review page if they look wrong.",
                        )
                    return redirect("mappings:source", source_id=result.source.pk)
                context["duplicate"] = result
    context["sources"] = data_sources_with_last_run(request.user).select_related("uploaded_by")[:100]
    context["upload_limit_mb"] = settings.UPLOAD_MAX_BYTES // (1024 * 1024)
    status = 400 if context["error"] else 200
    return render(request, "mappings/uploads.html", context, status=status)


@login_required
def source_detail(request: HttpRequest, source_id: int) -> HttpResponse:
    require_data_manager(request.user)
    source = data_source_get_for_user(request.user, source_id)
    template = "mappings/source_detail.html"
    if request.htmx and request.GET.get("partial") == "quickviz":
        template += "#quickviz"
    if request.htmx and request.GET.get("partial") == "conversion":
        if source.status != DataSource.Status.CONVERTING:  # done: the whole page, with the profile
            return HttpResponse(headers={"HX-Refresh": "true"})
        template += "#conversion"
    context = {
        "read_form": SourceReadForm(source=source),
        "source": source,
        "columns": source.profile.get("columns", []),
        "charts": [{"id": f"qv-spec-{i}", "spec": spec} for i, spec in enumerate(source.profile.get("charts", []))],
        "mappings": source.mappings.order_by("-version")[:10],
        "executions": source_executions(source),
    }
    return render(request, template, context)


@login_required
def mapping_list(request: HttpRequest) -> HttpResponse:
    require_data_manager(request.user)
    mappings = (
        Mapping.objects.filter(source__in=data_sources_for_user(request.user))
        .select_related("source", "created_by")
        .order_by("-created_at")[:200]
    )
    return render(request, "mappings/mappings.html", {"mappings": mappings})


@login_required
@require_POST
def source_read_as(request: HttpRequest, source_id: int) -> HttpResponse:
    """Read an upload again from another sheet or header row (the upload page and the review page)."""
    require_data_manager(request.user)
    source = data_source_get_for_user(request.user, source_id)
    form = SourceReadForm(request.POST, source=source)
    back = reverse("mappings:source", args=[source.pk])
    if request.POST.get("next") == "review":
        back = f"{reverse('mappings:review', args=[source.pk])}?fresh=1"
    if not form.is_valid():
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
        return redirect(back)
    try:
        source = data_source_read_as(source=source, **form.choices())
    except (UploadRejected, ProfileError) as exc:
        messages.error(request, str(exc))
    else:
        if source.status == DataSource.Status.CONVERTING:
            messages.info(request, "Reading the file again: this page shows the progress.")
            return redirect("mappings:source", source_id=source.pk)
        where = f"sheet {source.dialect['sheet']!r}, " if source.dialect.get("sheet") else ""
        messages.success(request, f"Read again from {where}header on row {source.dialect.get('header_row', 0) + 1}.")
    return redirect(back)
