from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from backend.admin import throttled_admin_login
from backend.api import LogoutView, MeView, TokenView
from backend.health import healthz

api_v1: list[URLPattern | URLResolver] = [
    path("auth/token/", TokenView.as_view(), name="auth-token"),
    path("auth/logout/", LogoutView.as_view(), name="auth-logout"),
    path("me/", MeView.as_view(), name="me"),
    path("", include("scheduling.urls")),
    path("", include("billing.urls")),
    path("", include("outcomes.urls")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("r/", include("scheduling.public_urls")),
    path("ical/", include("scheduling.ical_urls")),
    path("console/", include("console.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("admin/login/", throttled_admin_login, name="admin-login"),  # before the admin's own
    path("admin/", admin.site.urls),
]

handler404 = "backend.errors.handler404"
handler500 = "backend.errors.handler500"
