from django.urls import path

from dashboards import apis

urlpatterns = [
    path("dashboards/", apis.DashboardListApi.as_view(), name="api-dashboards"),
    path("dashboard/<int:dashboard_id>/data", apis.DashboardDataApi.as_view(), name="api-dashboard-data"),
    path("questions/preview", apis.QuestionPreviewApi.as_view(), name="api-question-preview"),
    path("questions/", apis.QuestionSaveApi.as_view(), name="api-question-save"),
]
