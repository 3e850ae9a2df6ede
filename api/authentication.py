"""`Authorization: Bearer fap_<prefix>_<secret>`: personal API tokens (what the OpenAI client sends)."""

from __future__ import annotations

from django.utils.formats import date_format
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from api import services
from api.models import ApiToken

KEYWORD = b"bearer"


class PersonalTokenAuthentication(BaseAuthentication):
    """Finds the token by the SHA-256 of what was sent. A revoked or expired token, or one whose
    user was deactivated, is refused with 401 and a sentence saying which."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD:
            return None  # not ours: the session may still authenticate the request
        if len(parts) != 2:
            raise AuthenticationFailed("Send the token as `Authorization: Bearer <token>`.")
        token = _token_by_hash(services.hash_token(parts[1].decode("latin-1")))
        refusal = _refusal(token)
        if refusal:
            raise AuthenticationFailed(refusal)
        services.token_mark_used(token=token)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


def _token_by_hash(key_hash: str) -> ApiToken | None:
    """The token with this hash. Not a selector: no user is known yet, this is how one is found.
    Looking up the hash, not the token, keeps the comparison constant-time in what was sent."""
    return ApiToken.objects.select_related("user").filter(key_hash=key_hash).first()


def _refusal(token: ApiToken | None) -> str:
    if token is None:
        return "Invalid API token."
    if token.is_revoked:
        return f"This API token ({token.prefix}) was revoked; make a new one at /tokens/."
    if token.is_expired:
        when = date_format(token.expires_at, "DATETIME_FORMAT")
        return f"This API token ({token.prefix}) expired on {when}; make a new one at /tokens/."
    if not token.user.is_active:
        return "This account is disabled."
    return ""
