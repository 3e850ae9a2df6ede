"""The staff's page of live workers, and asking one to unload its model."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from transcription import selectors, services


@staff_member_required
@require_GET
def worker_list(request: HttpRequest) -> HttpResponse:
    rows = selectors.worker_list(user=request.user)
    return render(request, "transcription/workers.html", {"workers": rows})


@staff_member_required
@require_POST
def worker_unload(request: HttpRequest, name: str) -> HttpResponse:
    if services.worker_request_unload(user=request.user, name=name):
        messages.success(
            request,
            _("Asked %(name)s to unload its model; it does so once its current job ends.") % {"name": name},
        )
    else:
        messages.error(request, _("%(name)s is not running any more.") % {"name": name})
    return redirect("workers")
