"""The root URLconf: the composition root, which alone may import every app."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.i18n import JavaScriptCatalog, set_language

from portal.login_throttle import ThrottledAuthenticationForm

admin.site.login_form = ThrottledAuthenticationForm  # the admin's log-in page is throttled too

urlpatterns = [
    # The language switcher posts here (the choice is kept in the django_language cookie), and
    # the pages' scripts get their strings (the djangojs domain, locale/) from jsi18n/.
    # Pages that name no icon (Django admin's, Swagger UI's) make browsers ask for this.
    path("favicon.ico", RedirectView.as_view(url=f"{settings.STATIC_URL}favicon.svg", permanent=True)),
    path("i18n/setlang/", set_language, name="set_language"),
    path("jsi18n/", JavaScriptCatalog.as_view(domain="djangojs"), name="javascript-catalog"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=ThrottledAuthenticationForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("", include("audit.urls")),
    path("", include("quotas.urls")),
    path("", include("teams.urls")),
    path("hotwords/", include("hotwords.urls")),
    path("", include("api.urls")),
    path("", include("llm.urls")),
    path("", include("quality.urls")),
    path("", include("transcription.urls")),
]
