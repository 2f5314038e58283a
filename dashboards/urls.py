from django.urls import path

from dashboards import views

app_name = "dashboards"
urlpatterns = [
    path("", views.dashboard_list, name="list"),
    path("<slug:slug>/", views.dashboard_detail, name="detail"),
    path("<slug:slug>/share/", views.dashboard_share_view, name="share"),
    path("<slug:slug>/widgets/new/", views.widget_editor, name="widget_new"),
    path("<slug:slug>/widgets/<int:widget_id>/", views.widget_partial, name="widget"),
    path("<slug:slug>/widgets/<int:widget_id>/edit/", views.widget_editor, name="widget_edit"),
    path("<slug:slug>/widgets/<int:widget_id>/export.csv", views.widget_export_csv, name="widget_csv"),
]
