from django.contrib import admin
from guardian.admin import GuardedModelAdmin

from dashboards.forms import WidgetAdminForm
from dashboards.models import Dashboard, KpiAlert, KpiPendingRefresh, KpiViewState, RefreshJob, Widget


class WidgetInline(admin.StackedInline):
    model = Widget
    form = WidgetAdminForm
    extra = 0
    fields = ("title", "chart_type", "position", "width", "height", "data_source", "vega_spec")


@admin.register(Dashboard)
class DashboardAdmin(GuardedModelAdmin):
    """Object permissions (view_dashboard / change_dashboard per user or group) under "Object permissions"."""

    list_display = ("title", "slug", "owner", "updated_at")
    search_fields = ("title", "slug")
    prepopulated_fields = {"slug": ("title",)}
    inlines = [WidgetInline]


@admin.register(Widget)
class WidgetAdmin(admin.ModelAdmin):
    form = WidgetAdminForm
    list_display = ("title", "dashboard", "chart_type", "position")
    list_filter = ("chart_type", "dashboard")


# --- KPI refresh engine ------------------------------------------------------------------------------
@admin.register(RefreshJob)
class RefreshJobAdmin(admin.ModelAdmin):
    list_display = ("view_name", "mode", "status", "last_run", "duration_ms", "rows", "attempt", "source")
    list_filter = ("status", "mode", "view_name")
    search_fields = ("view_name", "error")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in RefreshJob._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(KpiViewState)
class KpiViewStateAdmin(admin.ModelAdmin):
    list_display = ("view_name", "last_success_at", "last_mode", "last_duration_ms", "rows", "data_through")
    list_display += ("consecutive_failures",)
    readonly_fields = [f.name for f in KpiViewState._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(KpiAlert)
class KpiAlertAdmin(admin.ModelAdmin):
    list_display = ("view_name", "kind", "raised_at", "resolved_at", "emailed", "message")
    list_filter = ("kind", ("resolved_at", admin.EmptyFieldListFilter))
    actions = ["resolve"]

    @admin.action(description="Mark the selected alerts resolved")
    def resolve(self, request, queryset):
        from django.utils import timezone

        queryset.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())


@admin.register(KpiPendingRefresh)
class KpiPendingRefreshAdmin(admin.ModelAdmin):
    list_display = ("view_name", "months", "full", "source", "created_at")
    list_filter = ("view_name", "full")
