from django.urls import include, path

from accounts.views import OidcCallbackView, OidcLogInView

# Always routed, answering 404 while OIDC is not configured (OIDC_CLIENT_ID). The names are the
# ones mozilla-django-oidc reverses.
oidc_patterns = [
    path("authenticate/", OidcLogInView.as_view(), name="oidc_authentication_init"),
    path("callback/", OidcCallbackView.as_view(), name="oidc_authentication_callback"),
]

urlpatterns = [path("oidc/", include(oidc_patterns))]
