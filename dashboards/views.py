"""Dashboard pages. Access: `dashboard_get_for_user` (403/404); KPI rows: `widgets_data_for_user` only."""

from __future__ import annotations

import csv
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotModified,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.html import escape
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from accounts.selectors import user_can_manage_data
from canonical.csv_export import csv_safe_cell
from canonical.selectors import DATA_CURRENCY_KEY
from dashboards import presenters
from dashboards.cache import CacheReads
from dashboards.filters import DashboardFilters, dashboard_filters_parse
from dashboards.forms import WidgetEditorForm
from dashboards.inflight import computed_once
from dashboards.kpi.query import kpi_views_for_picker
from dashboards.models import Widget
from dashboards.polling import dashboard_poll_for_user, poll_cache_keys
from dashboards.presenters import chart_payload, option_selected, widget_display, widget_etag
from dashboards.selectors import (
    dashboard_get_for_user,
    dashboard_viewing_for_user,
    dashboards_for_user,
    employee_picker_key,
    employee_picker_options,
    kept_partial_set,
    kept_partials_get,
    kpi_read_context,
    read_context_cache_keys,
    user_can_ask_questions,
    user_can_change_dashboard,
    user_can_create_dashboard,
    user_can_share_dashboard,
    viewing_cache_keys,
    widget_get_for_user,
    widget_views,
    widgets_data_for_user,
)
from dashboards.services.dashboards import SHARE_LEVELS, dashboard_create, dashboard_share
from dashboards.services.promote import quickviz_chart_promote, quickviz_promote_target
from dashboards.services.widgets import (
    widget_create,
    widget_delete,
    widget_update,
)
from dashboards.viewer_format import ViewerFormat, viewer_format_for
from mappings.selectors import data_source_get_for_user

POLL_SECONDS_MAX = 10  # an unchanged widget answers 304, so open pages see a finished refresh within seconds
# A widget partial's HTML is kept this long under its ETag: viewers of the same scope, filters and language get it
# without reading and formatting the rows again. Short: the partial says how long ago the data was refreshed.
PARTIAL_CACHE_SECONDS = 60


def _filters_or_400(request: HttpRequest, *, page: bool = False) -> DashboardFilters | HttpResponse:
    """The page's filters, or a 400 that shows the bad value as text, never as markup.

    The message repeats what was typed in the URL: a page gets it autoescaped in a template; partials and
    the CSV export get text/plain (with nosniff), so a link with `?from=<meta ...>` cannot inject HTML.
    """
    try:
        return dashboard_filters_parse(request.GET)
    except ValidationError as exc:
        message = "Bad filter: " + "; ".join(exc.messages)
    if page and not request.htmx:
        return render(request, "dashboards/bad_filter.html", {"message": message}, status=400)
    # Escaped even as text: a browser that sniffs past the content type still finds no markup.
    return HttpResponseBadRequest(escape(message), content_type="text/plain; charset=utf-8")


@login_required
def dashboard_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        if not user_can_create_dashboard(request.user):
            raise PermissionDenied("You may not create dashboards.")
        try:
            dashboard = dashboard_create(
                title=request.POST.get("title", ""),
                description=request.POST.get("description", ""),
                owner=request.user,
            )
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
            return redirect("dashboards:list")
        return redirect(dashboard)
    dashboards = dashboards_for_user(request.user).select_related("owner")
    return render(
        request,
        "dashboards/list.html",
        {
            "dashboards": dashboards,
            "can_create": user_can_create_dashboard(request.user),
            "can_ask": user_can_ask_questions(request.user),
        },
    )


def _viewer_reads(request: HttpRequest, slug: str) -> CacheReads:
    """What a dashboard page or widget partial reads from the cache before its scope is known, in one round trip:
    the dashboard as the user may view it, the user's scope, the views' freshness and the data's currency. Each
    selector still checks what it finds (access generation, freshness) as it does when it reads alone."""
    user = request.user
    return CacheReads([*viewing_cache_keys(user, slug), *read_context_cache_keys(user), DATA_CURRENCY_KEY])


@login_required
def dashboard_detail(request: HttpRequest, slug: str) -> HttpResponse:
    reads = _viewer_reads(request, slug)
    viewing = dashboard_viewing_for_user(request.user, slug, reads=reads)
    dashboard, widgets = viewing.dashboard, viewing.widgets
    filters = _filters_or_400(request, page=True)
    if isinstance(filters, HttpResponse):
        return filters
    query = urlencode(filters.as_query())
    # Scope and freshness of every widget's views, cached, as the widgets' reads take them.
    context = kpi_read_context(user=request.user, view_names=widget_views(widgets), reads=reads)
    can_change = user_can_change_dashboard(request.user, dashboard)
    # A widget whose partial someone of the same scope, filters and language drew a moment ago comes in the page
    # itself: one request instead of one per widget; the others load after the page, as before.
    filters_key = viewer_filters_key(filters, viewer_format_for(request, reads=reads))
    keys = {w.pk: _kept_key(dashboard.slug, can_change, _partial_etag(w, context, filters_key)) for w in widgets}
    # What depends on the scope, in a second round trip: the pickers' options and the kept partials.
    scoped = CacheReads([employee_picker_key(request.user, context.scope), *keys.values()])
    options = employee_picker_options(request.user, context.scope, reads=scoped)  # the rep and team pickers
    kept = kept_partials_get(list(keys.values()), reads=scoped)
    inline = {pk: kept[key] for pk, key in keys.items() if key in kept}
    return render(
        request,
        "dashboards/detail.html",
        {
            "dashboard": dashboard,
            "widgets": [(w, inline.get(w.pk)) for w in widgets],  # with the partial kept for this reader, if any
            "filters": filters,
            "query": query,
            "rep_options": option_selected(options, filters.rep),
            "team_options": option_selected(options, filters.team),
            "sees_unassigned": context.scope.all_rows,  # rows with no rep: only every-row scopes see them
            "can_change": can_change,
            "can_share": user_can_share_dashboard(request.user, dashboard),
            "share_levels": list(SHARE_LEVELS),
            "poll_seconds": min([POLL_SECONDS_MAX, *(int(w.refresh_interval.total_seconds()) for w in widgets)]),
        },
    )


def viewer_filters_key(filters: DashboardFilters, fmt: ViewerFormat) -> str:
    """What a widget's ETag varies by besides data and scope: its filters and what the numbers are written in."""
    return f"{urlencode(filters.as_query())}|{fmt.tag}|{fmt.currency}"


def _partial_etag(widget: Widget, context, filters_key: str) -> str:
    """The ETag of a widget's HTMX partial for a reader with this scope and freshness (`kpi_read_context`)."""
    views = widget_views([widget])
    return widget_etag(
        widget,
        context.freshness[widget.view_name],
        scope_key=context.scope.cache_key(),
        filters_key=filters_key,
        also=tuple(context.freshness[name] for name in views[1:]),
    )


def _kept_key(slug: str, can_change: bool, etag: str) -> str:
    return f"dashboards:partial:{slug}:{int(can_change)}:{etag}"


@login_required
def widget_partial(request: HttpRequest, slug: str, widget_id: int) -> HttpResponse:
    """One widget's content (HTMX partial; also a plain page when opened directly), with an ETag."""
    reads = _viewer_reads(request, slug)
    viewing = dashboard_viewing_for_user(request.user, slug, reads=reads)
    dashboard, widget = viewing.dashboard, viewing.widget(widget_id)
    filters = _filters_or_400(request, page=True)
    if isinstance(filters, HttpResponse):
        return filters
    # Scope and freshness are read once per request (from the cache when it holds them): the ETag needs them, and so
    # does the read. `using`: the standby, unless this user's own upload is not replayed there yet.
    context = kpi_read_context(user=request.user, view_names=widget_views([widget]), reads=reads)
    scope, freshness, using = context.scope, context.freshness, context.using
    fmt = viewer_format_for(request, reads=reads)
    etag = _partial_etag(widget, context, viewer_filters_key(filters, fmt))
    if not request.htmx:  # the page is another body than the partial at the same URL: another validator
        etag = etag[:-1] + '-page"'
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponseNotModified()
        response["ETag"] = etag
        patch_vary_headers(response, ["HX-Request", "Accept-Language"])
        return response
    can_change = user_can_change_dashboard(request.user, dashboard)
    # The partial (not the page: it carries the request's CSP nonce) is the same HTML for everyone whose ETag (data,
    # spec, scope, filters, language) and right to edit are the same; a partial asking for an upload is not kept
    # (whether it offers the upload link is the caller's).
    kept_key = _kept_key(dashboard.slug, can_change, etag) if request.htmx else None
    html = kept_partials_get([kept_key]).get(kept_key) if kept_key else None
    if html is not None:
        return _widget_response(HttpResponse(html), etag)

    def draw() -> tuple[HttpResponse, str | None]:
        """The response, and its HTML when it may be kept for others (then it is)."""
        (data,) = widgets_data_for_user(
            user=request.user,
            widgets=[widget],
            filters=filters,
            scope=scope,
            freshness=freshness,
            using=using,
            shown_rows=presenters.TABLE_MAX_ROWS,
        )
        display = widget_display(data, filters, fmt)
        context = {
            "dashboard": dashboard,
            "widget": widget,
            "display": display,
            "can_upload": bool(display.needs_data) and user_can_manage_data(request.user),
            "data": data,
            "etag": etag,
            "chart": chart_payload(widget, data.rows, fmt),
            "chart_id": f"widget-data-{widget.pk}",
            "query": urlencode(filters.as_query()),
            "can_change": can_change,
            "poll_seconds": min(POLL_SECONDS_MAX, int(widget.refresh_interval.total_seconds())),
        }
        template = "dashboards/widget.html#widget-content" if request.htmx else "dashboards/widget.html"
        response = render(request, template, context)
        if kept_key and not display.needs_data and not data.error:
            kept = response.content.decode()
            kept_partial_set(kept_key, kept, PARTIAL_CACHE_SECONDS)
            return response, kept
        return response, None

    if kept_key is None:
        return _widget_response(draw()[0], etag)
    # Viewers asking for the same kept partial at once (a refresh, a page's first viewers) wait for one draw in this
    # process instead of each drawing it: the HTML they get is the one kept under the same key.
    drawn: list[HttpResponse] = []

    def draw_for_everyone() -> str | None:
        response, kept = draw()
        drawn.append(response)
        return kept

    html, _ = computed_once(kept_key, draw_for_everyone)
    if drawn:
        return _widget_response(drawn[0], etag)
    if html is not None:
        return _widget_response(HttpResponse(html), etag)
    return _widget_response(draw()[0], etag)


def _widget_response(response: HttpResponse, etag: str) -> HttpResponse:
    response["ETag"] = etag
    # The partial and the page share a URL: without Vary and distinct ETags the browser revalidates the
    # page with the partial's ETag, gets 304 and shows the bare fragment (no scripts, no chart).
    patch_vary_headers(response, ["HX-Request", "Accept-Language"])
    response["Cache-Control"] = "private, no-cache"
    return response


@login_required
def dashboard_changes(request: HttpRequest, slug: str) -> HttpResponse:
    """One poll per open dashboard: 304 when no widget changed, else {"widgets": {id: ETag}} so the page
    re-fetches only the widgets whose ETag it does not hold. Access, scope and freshness come from the cache
    (dashboards.polling): an idle poll costs the session and the user, nothing else."""
    filters = _filters_or_400(request)
    if isinstance(filters, HttpResponse):
        return filters
    session_key = request.session.session_key or f"user:{request.user.pk}"
    # The poll's cached context and freshness and the data's currency in one round trip.
    reads = CacheReads([*poll_cache_keys(session_key, slug), DATA_CURRENCY_KEY], what="poll cache unavailable")
    poll = dashboard_poll_for_user(
        user=request.user,
        session_key=session_key,
        slug=slug,
        filters_key=viewer_filters_key(filters, viewer_format_for(request, reads=reads)),
        reads=reads,
    )
    if poll.etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponseNotModified()
    else:
        response = JsonResponse({"widgets": {str(pk): etag for pk, etag in poll.widgets.items()}})
    response["ETag"] = poll.etag
    response["Cache-Control"] = "private, no-cache"
    return response


@login_required
def widget_export_csv(request: HttpRequest, slug: str, widget_id: int) -> HttpResponse:
    dashboard = dashboard_get_for_user(request.user, slug)
    widget = widget_get_for_user(request.user, dashboard, widget_id)
    filters = _filters_or_400(request)
    if isinstance(filters, HttpResponse):
        return filters
    (data,) = widgets_data_for_user(user=request.user, widgets=[widget], filters=filters)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slugify(widget.title) or "widget"}.csv"'
    columns = list(data.rows[0]) if data.rows else []
    writer = csv.writer(response)
    writer.writerow([csv_safe_cell(c) for c in columns])
    for row in data.rows:
        writer.writerow([csv_safe_cell(row.get(c)) for c in columns])
    return response


@login_required
@require_POST
def dashboard_share_view(request: HttpRequest, slug: str) -> HttpResponse:
    dashboard = dashboard_get_for_user(request.user, slug)
    if not user_can_share_dashboard(request.user, dashboard):
        raise PermissionDenied("Only the owner may share this dashboard.")
    try:
        who = dashboard_share(
            dashboard=dashboard,
            level=request.POST.get("level", "view"),
            username=request.POST.get("username", ""),
            group_name=request.POST.get("group", ""),
        )
    except ValidationError as exc:
        messages.error(request, "Not shared: " + "; ".join(exc.messages))
    else:
        messages.success(request, f"Shared with {who}.")
    return redirect(dashboard)


@login_required
def widget_editor(request: HttpRequest, slug: str, widget_id: int | None = None) -> HttpResponse:
    """Create or change a widget: KPI view + chart type + fields, or a raw Vega-Lite spec for experts."""
    dashboard = dashboard_get_for_user(request.user, slug, action="change")
    widget = widget_get_for_user(request.user, dashboard, widget_id) if widget_id is not None else None
    if request.method == "POST" and request.POST.get("delete") and widget is not None:
        widget_delete(widget=widget)
        messages.success(request, f"Removed {widget.title}.")
        return redirect(dashboard)
    initial = WidgetEditorForm.initial_for(widget)
    form = WidgetEditorForm(request.POST if request.method == "POST" else None, initial=initial)
    if form.is_bound and form.is_valid():
        try:
            if widget is None:
                widget_create(dashboard=dashboard, **form.cleaned_data["widget"])
            else:
                widget_update(widget=widget, **form.cleaned_data["widget"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Widget saved.")
            return redirect(dashboard)
    errors = form.messages() if form.is_bound else []
    status = 400 if errors else 200
    return render(
        request,
        "dashboards/widget_form.html",
        {
            "dashboard": dashboard,
            "widget": widget,
            "values": form.values(),
            "form": form,
            "errors": errors,
            "views": kpi_views_for_picker(),
            "chart_types": Widget.ChartType.choices,
        },
        status=status,
    )


def _posted_dashboard_id(request: HttpRequest) -> int:
    """The promote form posts the dashboard's id; anything but ASCII digits is no dashboard (404)."""
    text = request.POST.get("dashboard", "")
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise Http404("No such dashboard")
    return int(text)


@login_required
def quickviz_promote(request: HttpRequest, source_id: int, chart: int) -> HttpResponse:
    """Turn a Quick Viz chart of an executed upload into a widget on a dashboard the user may change."""
    if not user_can_manage_data(request.user):
        raise PermissionDenied("Uploads are for executives, analysts and admins.")  # as the upload pages say
    source = data_source_get_for_user(request.user, source_id)
    error = ""
    try:
        target = quickviz_promote_target(source=source, chart_index=chart)
    except ValidationError as exc:
        target, error = None, "; ".join(exc.messages)
    dashboards = [d for d in dashboards_for_user(request.user) if user_can_change_dashboard(request.user, d)]
    if request.method == "POST" and target is not None:
        dashboard = dashboard_get_for_user(request.user, _posted_dashboard_id(request), action="change")
        try:
            widget = quickviz_chart_promote(source=source, chart_index=chart, dashboard=dashboard)
        except ValidationError as exc:
            error = "; ".join(exc.messages)
        else:
            messages.success(request, f"Added “{widget.title}” to {dashboard.title}.")
            return redirect(dashboard)
    return render(
        request,
        "dashboards/promote.html",
        {"source": source, "chart": chart, "target": target, "error": error, "dashboards": dashboards},
        status=400 if error and request.method == "POST" else 200,
    )
