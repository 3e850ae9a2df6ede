"""A transcript's speakers, edited from the job page: rename one for the whole job, merge two,
move a segment to another. Plain forms (they work without scripts); each view parses, calls one
service of transcription/speakers.py, and goes back to the job page with a message."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from transcription import audit_trail, selectors, speakers

# What the audit log says of each edit (by the view's URL name): stored as is, like a file format.
EDIT_DETAILS = {
    "speaker_rename": "speaker renamed",
    "speaker_merge": "speakers merged",
    "segment_speaker": "segment given to another speaker",
    "voice_remember": "speaker named after a remembered voice",
}


@login_required
@require_POST
def speaker_rename(request: HttpRequest, job_id, key: str) -> HttpResponse:
    job = selectors.job_get_editable(user=request.user, job_id=job_id)
    name = request.POST.get("name", "")
    return _answer(
        request, job, lambda: speakers.speaker_rename(job=job, key=key, name=name), _("Speaker renamed.")
    )


@login_required
@require_POST
def speaker_merge(request: HttpRequest, job_id, key: str) -> HttpResponse:
    job = selectors.job_get_editable(user=request.user, job_id=job_id)
    into = request.POST.get("into", "")
    return _answer(
        request, job, lambda: speakers.speaker_merge(job=job, key=key, into=into), _("Speakers merged.")
    )


@login_required
@require_POST
def segment_speaker(request: HttpRequest, job_id, index: int) -> HttpResponse:
    job = selectors.job_get_editable(user=request.user, job_id=job_id)
    key = request.POST.get("speaker", "")
    return _answer(
        request, job, lambda: speakers.segment_move(job=job, index=index, key=key), _("Speaker changed.")
    )


@login_required
@require_POST
def voice_remember(request: HttpRequest, job_id, key: str) -> HttpResponse:
    job = selectors.job_get(user=request.user, job_id=job_id)
    name = request.POST.get("name", "")

    def edit():
        speakers.voice_remember(job=job, key=key, name=name)
        return selectors.job_get(user=request.user, job_id=job_id)  # named after the voice now

    return _answer(
        request, job, edit, _("Voice remembered: this person will be named in your next recordings.")
    )


@login_required
@require_GET
def voice_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "transcription/voices.html", {"voices": selectors.voice_profile_list(user=request.user)}
    )


@login_required
@require_POST
def voice_delete(request: HttpRequest, profile_id: int) -> HttpResponse:
    profile = selectors.voice_profile_get(user=request.user, profile_id=profile_id)
    speakers.voice_delete(profile=profile)
    messages.success(request, _("Voice profile “%(name)s” deleted.") % {"name": profile.name})
    return redirect("voice_list")


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
        url_name = getattr(request.resolver_match, "url_name", "")
        audit_trail.record(request, "edited", job, detail=EDIT_DETAILS.get(url_name, ""))
        if wants_json:
            return JsonResponse({"speakers": speakers.names(job)})
        messages.success(request, success)
    return redirect("job_detail", job_id=job.pk)
