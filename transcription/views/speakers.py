"""A transcript's speakers, edited from the job page: rename one for the whole job, merge two,
move a segment to another. Plain forms (they work without scripts); each view parses, calls one
service of transcription/speakers.py, and goes back to the job page with a message."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from transcription import selectors, speakers


@login_required
@require_POST
def speaker_rename(request: HttpRequest, job_id, key: str) -> HttpResponse:
    job = selectors.job_get(user=request.user, job_id=job_id)
    name = request.POST.get("name", "")
    return _answer(
        request, job, lambda: speakers.speaker_rename(job=job, key=key, name=name), _("Speaker renamed.")
    )


@login_required
@require_POST
def speaker_merge(request: HttpRequest, job_id, key: str) -> HttpResponse:
    job = selectors.job_get(user=request.user, job_id=job_id)
    into = request.POST.get("into", "")
    return _answer(
        request, job, lambda: speakers.speaker_merge(job=job, key=key, into=into), _("Speakers merged.")
    )


@login_required
@require_POST
def segment_speaker(request: HttpRequest, job_id, index: int) -> HttpResponse:
    job = selectors.job_get(user=request.user, job_id=job_id)
    key = request.POST.get("speaker", "")
    return _answer(
        request, job, lambda: speakers.segment_move(job=job, index=index, key=key), _("Speaker changed.")
    )


def _answer(request: HttpRequest, job, edit, success: str) -> HttpResponse:
    """Run the edit; answer JSON to a script (the job's speakers as shown), else go back to the page."""
    wants_json = "application/json" in request.headers.get("Accept", "")
    try:
        job = edit()
    except ValueError as exc:
        if wants_json:
            return JsonResponse({"error": _(str(exc))}, status=409)
        messages.error(request, _(str(exc)))
    else:
        if wants_json:
            return JsonResponse({"speakers": speakers.names(job)})
        messages.success(request, success)
    return redirect("job_detail", job_id=job.pk)
