"""Sharing a job (or its batch) with a team or a colleague, and taking it back: the job page's
forms. Only the owner shares; each view parses, calls one service, and goes back to the page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from transcription import selectors, sharing
from transcription.share_forms import ShareForm


@login_required
@require_POST
def share_create(request: HttpRequest, job_id) -> HttpResponse:
    job = selectors.job_get(user=request.user, job_id=job_id)
    form = ShareForm(request.POST, user=request.user)
    if not form.is_valid():
        for error in form.errors.get("__all__", []) + [
            e for f, es in form.errors.items() if f != "__all__" for e in es
        ]:
            messages.error(request, error)
        return redirect("job_detail", job_id=job.pk)
    data = form.cleaned_data
    shares = sharing.share_create(
        job=job, team=data["team"], user=data["colleague"], can_edit=data["can_edit"],
        whole_batch=data["whole_batch"], actor=request.user,
    )  # fmt: skip
    audience = data["team"] or data["colleague"]
    messages.success(
        request, _("Shared %(count)d job(s) with %(who)s.") % {"count": len(shares), "who": audience}
    )
    return redirect("job_detail", job_id=job.pk)


@login_required
@require_POST
def share_revoke(request: HttpRequest, share_id: int) -> HttpResponse:
    share = selectors.share_get_own(user=request.user, share_id=share_id)
    jobs = sharing.share_revoke(share=share, actor=request.user)
    audience = share.team or share.user
    messages.success(
        request, _("%(who)s no longer sees %(count)d job(s).") % {"who": audience, "count": len(jobs)}
    )
    return redirect("job_detail", job_id=share.job_id)
