from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from api import checks, openai_compat, pages, sharing, summaries, views

router = SimpleRouter()
router.register("jobs", views.JobViewSet, basename="job")
router.register("hotword-lists", views.HotwordListViewSet, basename="hotword-list")
router.register("profiles", views.ProfileViewSet, basename="profile")

urlpatterns = [
    path("api/v1/jobs/<str:pk>/summary/", summaries.SummaryView.as_view(), name="api-job-summary"),
    path("api/v1/jobs/<str:pk>/checks/", checks.ChecksView.as_view(), name="api-job-checks"),
    path("api/v1/jobs/<str:pk>/shares/", sharing.JobSharesView.as_view(), name="api-job-shares"),
    path("api/v1/shares/<int:share_id>/", sharing.ShareView.as_view(), name="api-share"),
    path("api/v1/", include((router.urls, "api"))),
    re_path(r"^api/v1/(?P<path>.*/)$", views.not_found),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file: no inline script, so the page runs under
    # the portal's Content-Security-Policy (portal/csp.py).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("v1/audio/transcriptions", openai_compat.TranscriptionView.as_view(), name="openai-transcriptions"),
    path("v1/audio/translations", openai_compat.TranslationView.as_view(), name="openai-translations"),
    path("v1/models", openai_compat.ModelListView.as_view(), name="openai-models"),
    path("tokens/", pages.token_list, name="token_list"),
    path("tokens/new/", pages.token_create, name="token_create"),
    path("tokens/<int:token_id>/revoke/", pages.token_revoke, name="token_revoke"),
]
