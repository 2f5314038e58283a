from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("", include("accounts.urls")),
    path("uploads/", include("mappings.urls")),
    path("dashboards/", include("dashboards.urls")),
    # One login door for everybody, throttled: the admin's own login page sends people there.
    path("admin/login/", RedirectView.as_view(url="/login/", query_string=True)),
    path("admin/", admin.site.urls),
    path("api/", include("accounts.apis_urls")),
    path("api/", include("mappings.apis_urls")),
    path("api/", include("dashboards.apis_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Split view: Swagger UI's start-up script is a file (?script), not inline, so the CSP lets it run.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

handler404 = "config.errors.not_found"
handler500 = "config.errors.server_error"
