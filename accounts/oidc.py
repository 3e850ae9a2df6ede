"""Log-in through the company's OpenID Connect provider (mozilla-django-oidc, authorization code
with PKCE). A person is known by the provider's subject (`accounts.models.OidcIdentity`); their
portal user is made at their first log-in, and their address, names, staff rights and directory
teams follow the provider's claims at every log-in."""

from __future__ import annotations

import logging
from typing import Any

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings

from accounts.services import directory_login_apply, directory_profile_update, oidc_user_create

logger = logging.getLogger(__name__)

# The endpoints the issuer's discovery document gives, when they are not set one by one.
DISCOVERED_AS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
_discovered: dict[str, dict[str, Any]] = {}


def discovery(issuer: str) -> dict[str, Any]:
    """The issuer's `.well-known/openid-configuration`, fetched once per process, when first
    needed (a log-in), never at start: the portal starts while the provider is down. A failed
    fetch is not remembered, so the next log-in tries again."""
    if issuer not in _discovered:
        response = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        document = response.json()
        if str(document.get("issuer", "")).rstrip("/") != issuer:
            raise ImproperlyConfigured(f"The discovery document of {issuer} names another issuer.")
        _discovered[issuer] = document
    return _discovered[issuer]


def oidc_setting(attr: str, *default):
    """The library's settings, with the endpoints not set explicitly taken from discovery."""
    value = import_from_settings(attr, *default)
    if not value and attr in DISCOVERED_AS and settings.OIDC_ISSUER:
        value = discovery(settings.OIDC_ISSUER).get(DISCOVERED_AS[attr]) or value
    return value


def groups_of(claims: dict[str, Any]) -> set[str]:
    """The groups claim as a set of names: providers send a list, some a single string."""
    value = claims.get(settings.OIDC_GROUPS_CLAIM) or []
    if isinstance(value, str):
        value = [value]
    return {str(group) for group in value}


class DirectoryOidcBackend(OIDCAuthenticationBackend):
    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args, **kwargs):
        # Django builds every backend for every log-in (password ones too) and for every
        # session's user: the endpoints, and the discovery they may need, wait for a callback.
        self.UserModel = get_user_model()

    def authenticate(self, request, **kwargs):
        if request is None or "nonce" not in kwargs:
            return None  # a password log-in, not the OIDC callback (which always passes a nonce)
        super().__init__()
        return super().authenticate(request, **kwargs)

    def get_userinfo(self, access_token, id_token, payload):
        """The verified ID token's claims, completed by the userinfo endpoint's: some providers
        (Entra ID) put the groups only in the ID token."""
        self._check_token_is_ours(payload)
        claims = dict(payload)
        if self.OIDC_OP_USER_ENDPOINT:
            userinfo = super().get_userinfo(access_token, id_token, payload)
            if userinfo.get("sub") != payload.get("sub"):
                raise SuspiciousOperation("The userinfo endpoint answered for another subject.")
            claims.update(userinfo)
        claims["iss"] = payload.get("iss", "")
        return claims

    def _check_token_is_ours(self, payload: dict[str, Any]) -> None:
        # The library checks the signature and the nonce; the audience and issuer are checked here.
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("The ID token was issued to another client.")
        if settings.OIDC_ISSUER and str(payload.get("iss", "")).rstrip("/") != settings.OIDC_ISSUER:
            raise SuspiciousOperation("The ID token comes from another issuer.")

    def verify_claims(self, claims) -> bool:
        return bool(claims.get("sub"))

    def filter_users_by_claims(self, claims):
        return self.UserModel.objects.filter(
            oidc_identity__issuer=claims["iss"], oidc_identity__subject=claims["sub"]
        )

    def create_user(self, claims):
        user = oidc_user_create(
            issuer=claims["iss"],
            subject=claims["sub"],
            username=claims.get("preferred_username") or claims.get("email") or "",
            email=claims.get("email") or "",
            first_name=claims.get("given_name") or "",
            last_name=claims.get("family_name") or "",
        )
        logger.info("OIDC: created the user %s for the subject %s", user.username, claims["sub"])
        return self.update_user(user, claims)

    def update_user(self, user, claims):
        if not user.is_active:
            return user  # refused by the callback view; a deactivated account is left as it is
        directory_profile_update(
            user=user,
            email=claims.get("email") or "",
            first_name=claims.get("given_name") or "",
            last_name=claims.get("family_name") or "",
        )
        groups = groups_of(claims)
        staff_group = settings.OIDC_STAFF_GROUP
        directory_login_apply(
            user=user,
            groups=groups,
            manager_groups=settings.OIDC_MANAGER_GROUPS,
            staff=(staff_group in groups) if staff_group else None,
        )
        return user
