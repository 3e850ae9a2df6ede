"""The token pages (/tokens/). Each view parses, calls one service or selector, and renders.

A new token is shown once, in the response to the post that made it, and never again: only
its hash is stored. That page is not cached anywhere.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from api import selectors, services
from api.forms import TokenCreateForm


@login_required
@require_GET
def token_list(request: HttpRequest) -> HttpResponse:
    return _index(request, TokenCreateForm())


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    form = TokenCreateForm(request.POST)
    if not form.is_valid():
        return _index(request, form, status=400)
    created = services.token_create(
        user=request.user,
        name=form.cleaned_data["name"],
        expires_in_days=form.cleaned_data["expires_in_days"],
        default_callback_url=form.cleaned_data["default_callback_url"],
    )
    response = render(request, "api/token_created.html", {"token": created.token, "plain": created.plain})
    add_never_cache_headers(response)
    return response


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = selectors.token_get(user=request.user, token_id=token_id)
    if services.token_revoke(token=token):
        messages.success(
            request,
            _("Revoked “%(name)s” (%(prefix)s): it no longer works.")
            % {"name": token.name, "prefix": token.prefix},
        )
    return redirect("token_list")


def _index(request: HttpRequest, form: TokenCreateForm, status: int = 200) -> HttpResponse:
    tokens = selectors.token_list(user=request.user)
    return render(request, "api/tokens.html", {"tokens": tokens, "form": form}, status=status)
