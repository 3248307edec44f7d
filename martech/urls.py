"""The console's URLs: browser pages, the REST API under /api/v1/, and the probes."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from martech.common import health
from martech.common import views as common_views

api_v1 = [
    path("", include("apps.accounts.api.urls")),
    path("", include("apps.access.api.urls")),
    path("", include("apps.audit.api.urls")),
    path("", include("apps.tools.api.urls")),
    path("", include("apps.intake.api.urls")),
    path("", include("apps.identity.api.urls")),
    path("", include("apps.consent.api.urls")),
    path("", include("apps.schemas.api.urls")),
    path("", include("apps.destinations.api.urls")),
    path("", include("apps.events.api.urls")),
    path("", include("apps.syncs.api.urls")),
    path("", include("apps.erasure.api.urls")),
]

urlpatterns = [
    path("", common_views.DashboardView.as_view(), name="dashboard"),
    path("palette/", common_views.palette, name="palette"),
    path("healthz", health.healthz, name="healthz"),
    path("", include("apps.events.collect_urls")),
    path("", include("apps.provisioning.urls")),
    path("readyz", health.readyz, name="readyz"),
    path("", include("apps.accounts.urls")),
    path("", include("apps.access.urls")),
    path("", include("apps.audit.urls")),
    path("", include("apps.tools.urls")),
    path("", include("apps.intake.urls")),
    path("", include("apps.identity.urls")),
    path("", include("apps.consent.urls")),
    path("", include("apps.schemas.urls")),
    path("destinations/", include("apps.destinations.urls")),
    path("", include("apps.events.urls")),
    path("", include("apps.syncs.urls")),
    path("", include("apps.erasure.urls")),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

handler400 = "martech.common.views.bad_request"
handler403 = "martech.common.views.permission_denied"
handler404 = "martech.common.views.page_not_found"
handler500 = "martech.common.views.server_error"
