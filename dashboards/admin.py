import json

from django.contrib import admin, messages
from django.db import connection
from guardian.admin import GuardedModelAdmin
from psycopg import sql

from dashboards.forms import WidgetAdminForm
from dashboards.kpi.kept import kept_tables
from dashboards.models import Dashboard, KeptQuestion, KpiAlert, KpiPendingRefresh, KpiViewState, RefreshJob, Widget
from dashboards.services.kept import kept_question_drop


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


@admin.register(KeptQuestion)
class KeptQuestionAdmin(admin.ModelAdmin):
    """Questions kept ready: what each summary holds and costs. Read-only; "Drop summary" (and Delete) go through
    `kept_question_drop`: tables, snapshot and row together, and the widgets read their source again."""

    list_display = ("question_text", "source", "rows", "last_refresh", "size", "created_by", "created_at")
    list_filter = ("source",)
    search_fields = ("name", "source")
    readonly_fields = (
        "name",
        "source",
        "question_text",
        "rows",
        "last_refresh",
        "size",
        "read_ms",
        "created_by",
        "created_at",
        "declaration",
    )
    fields = readonly_fields
    actions = ["drop_summary"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # a plain delete would leave the tables: "Drop summary" instead
        return actions

    @admin.display(description="question")
    def question_text(self, obj: KeptQuestion) -> str:
        return json.dumps(obj.question, sort_keys=True)[:300]

    def _tables(self, obj: KeptQuestion) -> list[str]:
        return kept_tables(obj.name, obj.declaration)

    @admin.display(description="rows")
    def rows(self, obj: KeptQuestion) -> str:
        counts = []
        with connection.cursor() as cursor:
            for table in self._tables(obj):
                cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
                if not cursor.fetchone()[0]:
                    counts.append("missing")
                    continue
                cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
                counts.append(f"{cursor.fetchone()[0]:,}")
        return " + ".join(counts) + (" (team rows)" if len(counts) > 1 else "")

    @admin.display(description="last refresh")
    def last_refresh(self, obj: KeptQuestion):
        # Kept with its source, in the source's refresh.
        state = KpiViewState.objects.filter(view_name=obj.source).first()
        return state.last_success_at if state else None

    @admin.display(description="size")
    def size(self, obj: KeptQuestion) -> str:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT coalesce(sum(pg_total_relation_size(to_regclass(t))), 0) FROM unnest(%s::text[]) AS t",
                [self._tables(obj)],
            )
            size = cursor.fetchone()[0]
        return f"{size / 1024:,.0f} kB"

    def delete_model(self, request, obj: KeptQuestion) -> None:
        kept_question_drop(kept=obj)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            kept_question_drop(kept=obj)

    @admin.action(description="Drop summary (its widgets read their source again)", permissions=["delete"])
    def drop_summary(self, request, queryset) -> None:
        names = []
        for obj in queryset:
            kept_question_drop(kept=obj)
            names.append(obj.name)
        self.message_user(
            request, f"Dropped {len(names)} kept summar{'y' if len(names) == 1 else 'ies'}.", messages.SUCCESS
        )
