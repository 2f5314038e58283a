from django.urls import path

from dashboards import views, views_questions, views_status

app_name = "dashboards"
urlpatterns = [
    path("", views.dashboard_list, name="list"),
    path("promote/<int:source_id>/<int:chart>/", views.quickviz_promote, name="promote"),
    path("questions/", views_questions.question_builder, name="question_builder"),  # before <slug>/, as status/
    path("questions/cancel/", views_questions.question_preview_cancel_view, name="question_preview_cancel"),
    path("status/", views_status.kpi_status, name="kpi_status"),  # before <slug>/: "status" is not a dashboard
    path("<slug:slug>/", views.dashboard_detail, name="detail"),
    path("<slug:slug>/share/", views.dashboard_share_view, name="share"),
    path("<slug:slug>/changes/", views.dashboard_changes, name="changes"),
    path("<slug:slug>/widgets/new/", views.widget_editor, name="widget_new"),
    path("<slug:slug>/widgets/<int:widget_id>/", views.widget_partial, name="widget"),
    path("<slug:slug>/widgets/<int:widget_id>/edit/", views.widget_editor, name="widget_edit"),
    path("<slug:slug>/widgets/<int:widget_id>/export.csv", views.widget_export_csv, name="widget_csv"),
    path("<slug:slug>/widgets/<int:widget_id>/rows/", views_questions.widget_rows, name="widget_rows"),
    path("<slug:slug>/widgets/<int:widget_id>/keep/", views_questions.question_keep_ready_view, name="widget_keep"),
]
