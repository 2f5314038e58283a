"""Upload pages: the upload form and list, an upload's profile with Quick Viz, the mappings list."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from mappings.models import Mapping
from mappings.profiling.profile import ProfileError
from mappings.selectors import data_source_get_for_user, data_sources_for_user, require_data_manager
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
                    messages.success(request, f"{result.source.name} uploaded and profiled.")
                    if result.source.dialect.get("mixed_encoding"):
                        messages.warning(
                            request,
                            "This file mixes UTF-8 text and bytes that are not UTF-8 (read as cp1252): "
                            "check its accents, and choose one encoding on the review page if they look wrong.",
                        )
                    return redirect("mappings:source", source_id=result.source.pk)
                context["duplicate"] = result
    context["sources"] = data_sources_for_user(request.user).select_related("uploaded_by")[:100]
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
    context = {
        "source": source,
        "columns": source.profile.get("columns", []),
        "charts": [{"id": f"qv-spec-{i}", "spec": spec} for i, spec in enumerate(source.profile.get("charts", []))],
        "mappings": source.mappings.order_by("-version")[:10],
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
