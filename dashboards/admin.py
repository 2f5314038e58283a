from django.contrib import admin
from guardian.admin import GuardedModelAdmin

from dashboards.models import Dashboard, Widget


class WidgetInline(admin.StackedInline):
    model = Widget
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
    list_display = ("title", "dashboard", "chart_type", "position")
    list_filter = ("chart_type", "dashboard")
