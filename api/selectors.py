"""Every read of API tokens, scoped to the user who asks."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from api.models import ApiToken


def token_list(*, user) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def token_get(*, user, token_id) -> ApiToken:
    """The user's token, or 404: someone else's token looks like one that does not exist."""
    try:
        return ApiToken.objects.get(user=user, pk=token_id)
    except (ApiToken.DoesNotExist, ValueError, TypeError):
        raise Http404("No such token.") from None
