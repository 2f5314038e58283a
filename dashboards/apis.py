"""Dashboard data API (contract section 4). Same access checks and the same row filter as the pages."""

from __future__ import annotations

import time

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboards.filters import dashboard_filters_parse
from dashboards.kpi.kept import KEEP_READY_MS, kept_problem
from dashboards.kpi.question import MAX_LIMIT, Question, question_build
from dashboards.presenters import widget_all_time, widget_period
from dashboards.selectors import (
    PreviewStopped,
    dashboard_get_for_user,
    dashboards_for_user,
    question_preview_for_user,
    question_read_ms,
    user_can_ask_questions,
    widgets_data_for_user,
)
from dashboards.services.questions import (
    QUESTION_CHART_TYPES,
    question_chart_suggest,
    question_keep_ready,
    question_save,
)

# Token first: an anonymous caller gets 401 with `WWW-Authenticate: Token` rather than a bare 403.
AUTHENTICATION = [TokenAuthentication, SessionAuthentication]

FILTER_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.STR, description="Start date, YYYY-MM-DD or YYYY-MM (inclusive)"),
    OpenApiParameter("to", OpenApiTypes.STR, description="End date, YYYY-MM-DD or YYYY-MM (inclusive)"),
    OpenApiParameter(
        "rep",
        OpenApiTypes.STR,
        description="Only this sales rep (canonical employee id), within scope; `unassigned`: rows with no rep",
    ),
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
            undated = serializers.JSONField(
                allow_null=True,
                help_text="Revenue in no month the caller may see, for a view that names it (monthly_revenue): "
                "{revenue, order_count, line_count} of order lines whose order has no date yet; null when none",
            )

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
                    "undated": d.undated,
                }
                for d in data
            ],
        }
        return Response(self.OutputSerializer(payload).data)


def _question_or_400(payload: dict, *, user) -> Question:
    """The question of a request body, or a 400 naming the field; 403 when the caller may see no KPI rows."""
    if not user_can_ask_questions(user):
        raise PermissionDenied("Your account sees no KPI rows: ask an administrator for a role.")
    try:
        return question_build(payload=payload)
    except DjangoValidationError as exc:
        raise ValidationError(_field_errors(exc, "question")) from None


def _field_errors(exc: DjangoValidationError, default: str) -> dict:
    return exc.message_dict if hasattr(exc, "error_dict") else {default: exc.messages}


class QuestionInputSerializer(serializers.Serializer):
    # Items stay JSON: `question_build` checks each against the KPI registry and names the field it refuses.
    source = serializers.CharField(max_length=100)
    dimensions = serializers.ListField(child=serializers.JSONField(), required=False, max_length=20)
    measures = serializers.ListField(child=serializers.JSONField(), required=False, max_length=20)
    filters = serializers.ListField(child=serializers.JSONField(), required=False, max_length=20)
    sort = serializers.ListField(child=serializers.CharField(max_length=100), required=False, max_length=20)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT)

    class Meta:
        ref_name = "QuestionInput"


class QuestionPreviewApi(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]

    class InputSerializer(QuestionInputSerializer):
        class Meta:
            ref_name = "QuestionPreviewInput"

    class OutputSerializer(serializers.Serializer):
        class ColumnSerializer(serializers.Serializer):
            name = serializers.CharField()
            type = serializers.CharField()
            role = serializers.CharField()
            bucket = serializers.CharField(allow_null=True)

            class Meta:
                ref_name = "QuestionColumn"

        columns = ColumnSerializer(many=True)
        rows = serializers.JSONField(help_text="[{column: value}], only the rows the caller may see")
        row_count = serializers.IntegerField()
        elapsed_ms = serializers.FloatField()
        chart_type = serializers.CharField(help_text="The chart the question's shape suggests")

        class Meta:
            ref_name = "QuestionPreview"

    @extend_schema(operation_id="question_preview", request=InputSerializer, responses=OutputSerializer)
    def post(self, request: Request) -> Response:
        """A question's rows over one KPI view, under the caller's row scope (as every KPI read)."""
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        question = _question_or_400(serializer.validated_data, user=request.user)
        started = time.perf_counter()
        try:
            rows = question_preview_for_user(user=request.user, question=question)
        except PreviewStopped as exc:
            # The question is too costly to answer live: a message on the request, never a 500.
            return Response({"non_field_errors": [exc.message], "code": f"preview_{exc.reason}"}, status=400)
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        payload = {
            "columns": question.columns(),
            "rows": rows,
            "row_count": len(rows),
            "elapsed_ms": elapsed,
            "chart_type": question_chart_suggest(question),
        }
        return Response(self.OutputSerializer(payload).data)


class QuestionSaveApi(APIView):
    authentication_classes = AUTHENTICATION
    permission_classes = [IsAuthenticated]

    class InputSerializer(QuestionInputSerializer):
        dashboard = serializers.IntegerField(min_value=1)
        title = serializers.CharField(max_length=200, required=False, allow_blank=True)
        chart_type = serializers.ChoiceField(choices=list(QUESTION_CHART_TYPES), required=False)
        keep_ready = serializers.BooleanField(
            required=False, default=False, help_text="Keep it ready: a summary kept with the KPI views"
        )

        class Meta:
            ref_name = "QuestionSaveInput"

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        dashboard = serializers.IntegerField(source="dashboard_id")
        title = serializers.CharField()
        chart_type = serializers.CharField()
        view_name = serializers.CharField()
        read_ms = serializers.FloatField(help_text="The question's live read for the caller, when saved")
        keep_ready_offered = serializers.BooleanField(
            help_text=f"The read took over {KEEP_READY_MS} ms and the question can be kept ready (keep_ready: true)"
        )
        kept_ready = serializers.BooleanField()

        class Meta:
            ref_name = "QuestionSaved"

    @extend_schema(operation_id="question_save", request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request: Request) -> Response:
        """Save a question as a widget on a dashboard the caller may change; its rows come back in the data API."""
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        dashboard = dashboard_get_for_user(request.user, data.pop("dashboard"), action="change")
        title, chart_type = data.pop("title", ""), data.pop("chart_type", "")
        keep = data.pop("keep_ready", False)
        question = _question_or_400(data, user=request.user)
        read_ms = question_read_ms(user=request.user, question=question)
        try:
            with transaction.atomic():
                widget = question_save(dashboard=dashboard, question=question, title=title, chart_type=chart_type)
                if keep:
                    question_keep_ready(widget=widget, user=request.user, read_ms=read_ms)
        except DjangoValidationError as exc:
            raise ValidationError(_field_errors(exc, "widget")) from None
        widget.read_ms = read_ms
        widget.keep_ready_offered = not keep and read_ms > KEEP_READY_MS and kept_problem(question) is None
        widget.kept_ready = keep
        return Response(self.OutputSerializer(widget).data, status=201)
