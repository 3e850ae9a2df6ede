"""The two steps of an OIDC log-in: off to the provider, and back with a code."""

from __future__ import annotations

import logging

import jwt
import requests
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import View
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from accounts.oidc import oidc_setting

logger = logging.getLogger(__name__)

# What a provider that is down, misconfigured or answering nonsense raises on the way.
PROVIDER_FAILURES = (requests.RequestException, ValueError, ImproperlyConfigured)


def _require_oidc() -> None:
    if not settings.OIDC_ENABLED:
        raise Http404


class OidcLogInView(OIDCAuthenticationRequestView):
    get_settings = staticmethod(oidc_setting)

    def __init__(self, **kwargs):
        # The library reads the endpoints here; discovery may fail, so that waits for get().
        View.__init__(self, **kwargs)

    def get(self, request):
        _require_oidc()
        try:
            self.OIDC_OP_AUTH_ENDPOINT = self.get_settings("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except PROVIDER_FAILURES as exc:
            logger.warning("OIDC log-in unavailable: %s", exc)
            messages.error(request, _("The company log-in is unavailable right now. Try again later."))
            return redirect("login")
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().get(request)


class OidcCallbackView(OIDCAuthenticationCallbackView):
    get_settings = staticmethod(oidc_setting)

    def get(self, request):
        _require_oidc()
        try:
            return super().get(request)
        except (*PROVIDER_FAILURES, SuspiciousOperation, jwt.PyJWTError) as exc:
            logger.warning("OIDC log-in failed: %s", exc)
            return self.login_failure()

    def login_failure(self):
        messages.error(
            self.request,
            _("The log-in through %(provider)s did not succeed. Try again, or ask an administrator.")
            % {"provider": settings.OIDC_BUTTON_LABEL},
        )
        return redirect("login")
