"""URL wiring: pages per app, the API under /api/v1/, schema and docs, admin, i18n."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from activity.api import api_urlpatterns as activity_api
from activity.urls import notification_urlpatterns
from activity.urls import selfservice_urlpatterns as activity_selfservice
from assistance.api import api_urlpatterns as assistance_api
from assistance.urls import selfservice_urlpatterns as assistance_selfservice
from core.api import api_not_found
from core.attachments.api import api_urlpatterns as attachments_api
from disputes.api import api_urlpatterns as disputes_api
from disputes.urls import selfservice_urlpatterns as disputes_selfservice
from members.api import api_urlpatterns as members_api
from members.urls import public_urlpatterns as members_public
from members.urls import selfservice_urlpatterns as members_selfservice
from organizations.api import api_urlpatterns as organizations_api
from organizations.auth_api import ObtainTokenView
from projects.api import api_urlpatterns as projects_api
from projects.urls import selfservice_urlpatterns as projects_selfservice
from reports.api import api_urlpatterns as reports_api

# Django tries the patterns in order on every request: the busiest API first (the member
# list, then the rest), and the API before the pages (tests/test_urls_order.py checks that
# no route changed its view by this order).
api_v1 = [
    *members_api,
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    *organizations_api,
    *activity_api,
    *attachments_api,
    *projects_api,
    *disputes_api,
    *assistance_api,
    *reports_api,
]

urlpatterns = [
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("", include("organizations.urls")),
    path("audit/", include("activity.urls")),
    *notification_urlpatterns,
    path("accounts/otp/", include("organizations.otp_urls")),
    path("members/", include("members.urls")),
    path("projects/", include("projects.urls")),
    path("disputes/", include("disputes.urls")),
    path("aid/", include("assistance.urls")),
    path("reports/", include("reports.urls")),
    path("", include("core.attachments.urls")),
    path("", include("reports.run_urls")),
    *members_public,
    *members_selfservice,
    *projects_selfservice,
    *disputes_selfservice,
    *assistance_selfservice,
    *activity_selfservice,
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # Last of the API routes: anything else under /api/ is a JSON 404, not the HTML page.
    re_path(r"^api/", api_not_found, name="api-not-found"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]
