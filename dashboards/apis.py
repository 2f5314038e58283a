"""Dashboard data API (contract section 4). Same access checks and the same row filter as the pages."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboards.filters import dashboard_filters_parse
from dashboards.presenters import widget_all_time, widget_period
from dashboards.selectors import dashboard_get_for_user, dashboards_for_user, widgets_data_for_user

# Token first: an anonymous caller gets 401 with `WWW-Authenticate: Token` rather than a bare 403.
AUTHENTICATION = [TokenAuthentication, SessionAuthentication]

FILTER_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.STR, description="Start date, YYYY-MM-DD or YYYY-MM (inclusive)"),
    OpenApiParameter("to", OpenApiTypes.STR, description="End date, YYYY-MM-DD or YYYY-MM (inclusive)"),
    OpenApiParameter("rep", OpenApiTypes.INT, description="Only this sales rep (canonical employee id), within scope"),
    OpenApiParameter("team", OpenApiTypes.INT, description="Only this employee's team (subtree), within scope"),
]


class DashboardSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    slug = serializers.CharField()
    description = serializers.CharField()
    url = serializers.CharField(source="get_absolute_url")


class PeriodSerializer(serializers.Serializer):
    # "from" is a Python keyword: declared through the fields dict.
    to = serializers.DateField(allow_null=True)

    class Meta:
        ref_name = "DashboardWidgetPeriod"

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(allow_null=True)
        return {"from": fields.pop("from"), **fields}


class DashboardListApi(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]

    class OutputSerializer(DashboardSummarySerializer):
        widget_count = serializers.IntegerField(source="widgets.count")

        class Meta:
            ref_name = "DashboardListItem"

    @extend_schema(operation_id="dashboards_list", responses=OutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        """The dashboards the caller may view."""
        dashboards = dashboards_for_user(request.user).prefetch_related("widgets")
        return Response(self.OutputSerializer(dashboards, many=True).data)


class DashboardDataApi(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]

    class OutputSerializer(serializers.Serializer):
        class WidgetSerializer(serializers.Serializer):
            id = serializers.IntegerField()
            title = serializers.CharField()
            view_name = serializers.CharField()
            chart_type = serializers.CharField()
            # Rows are already JSON-ready (selectors convert money and dates): passed through as they are,
            # since DRF's per-value DictField costs more than the whole query at a few thousand rows.
            rows = serializers.JSONField(help_text="The view's rows the caller may see: [{column: value}]")
            refreshed_at = serializers.DateTimeField(allow_null=True)
            is_stale = serializers.BooleanField()
            all_time = serializers.BooleanField(
                help_text="The view cannot be filtered by date: its rows are all time, the date filter does not apply"
            )
            period = PeriodSerializer(
                allow_null=True,
                help_text="The date range the rows cover (the filter's, inclusive); null: all time or no range",
            )
            error = serializers.CharField(allow_blank=True)

            class Meta:
                ref_name = "DashboardWidgetData"

        dashboard = DashboardSummarySerializer()
        widgets = WidgetSerializer(many=True)

        class Meta:
            ref_name = "DashboardData"

    @extend_schema(operation_id="dashboard_data", parameters=FILTER_PARAMETERS, responses=OutputSerializer)
    def get(self, request: Request, dashboard_id: int) -> Response:
        """Every widget's rows from its KPI view, filtered to the caller's rows (and the optional filters)."""
        dashboard = dashboard_get_for_user(request.user, dashboard_id)
        try:
            filters = dashboard_filters_parse(request.query_params)
        except DjangoValidationError as exc:
            raise ValidationError({"filters": exc.messages}) from None
        data = widgets_data_for_user(user=request.user, widgets=list(dashboard.widgets.all()), filters=filters)
        payload = {
            "dashboard": dashboard,
            "widgets": [
                {
                    "id": d.widget.pk,
                    "title": d.widget.title,
                    "view_name": d.widget.view_name,
                    "chart_type": d.widget.chart_type,
                    "rows": d.rows,
                    "refreshed_at": d.freshness.get("refreshed_at"),
                    "is_stale": bool(d.freshness.get("is_stale")),
                    "all_time": widget_all_time(d.widget),
                    "period": widget_period(d.widget, filters),
                    "error": d.error,
                }
                for d in data
            ],
        }
        return Response(self.OutputSerializer(payload).data)
