"""The dashboard and a job's pages and actions. Each view parses, calls one service or selector,
and renders."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from audit.selectors import audit_for_job
from portal import i18n
from transcription import audit_trail, exports, progress, quotas, selectors, services, speakers
from transcription.forms import UploadForm
from transcription.http import file_response, safe_next
from transcription.share_forms import ShareForm

# Audio is served inline only as one of these types; anything else is a download, so an
# uploaded "song.html" can never run as a page on the portal's origin.
PLAYABLE_TYPES = {
    "audio/mpeg", "audio/wav", "audio/x-wav", "audio/flac", "audio/ogg", "audio/webm", "audio/mp4",
    "audio/aac", "audio/x-m4a", "video/mp4", "video/webm", "video/ogg", "video/quicktime",
}  # fmt: skip


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.job_list(user=request.user), 50).get_page(request.GET.get("page"))
    form = UploadForm(user=request.user)
    retention = {
        "audio_days": settings.RETAIN_AUDIO_DAYS,
        "transcript_days": settings.RETAIN_TRANSCRIPTS_DAYS,
    }
    context = {
        "page": page,
        "form": form,
        "retention": retention,
        "max_upload_bytes": settings.UPLOAD_MAX_BYTES,
        "max_audio_seconds": settings.ASR_MAX_AUDIO_SECONDS,
        "queue_available": selectors.queue_available(user=request.user),
        "usage": quotas.quota_usage(user=request.user),
    }
    return render(request, "transcription/dashboard.html", context)


@login_required
@require_POST
def job_upload(request: HttpRequest) -> HttpResponse:
    wants_json = "application/json" in request.headers.get("Accept", "")
    form = UploadForm(request.POST, request.FILES, user=request.user)
    if not form.is_valid():
        errors = [e for field_errors in form.errors.values() for e in field_errors]
        if wants_json:
            return JsonResponse({"errors": errors}, status=400)
        for error in errors:
            messages.error(request, error)
        return redirect("dashboard")
    data = form.cleaned_data
    jobs = services.job_create_many(
        owner=request.user,
        uploads=data["files"],
        profile=data["profile"],
        hotwords=data["hotwords"],
        hotword_lists=data["hotword_lists"],
        itn=data["itn"],
        language=data["language"],
        recognition=data["recognition"],
        batch=data["batch"],
    )
    if wants_json:
        return JsonResponse({"jobs": [_job_state(j) for j in jobs]}, status=201)
    messages.success(request, _("%(count)d file(s) queued.") % {"count": len(jobs)})
    return redirect("dashboard")


@login_required
@require_GET
def job_detail(request: HttpRequest, job_id) -> HttpResponse:
    job = selectors.job_get_readable(user=request.user, job_id=job_id)
    audit_trail.record(request, "viewed", job)
    formats = [(name, f.label) for name, f in exports.FORMATS.items()]
    people = {s.key: s for s in speakers.of_job(job)}
    rows = [(segment, people.get(segment.get("speaker", ""))) for segment in job.segments]
    access = selectors.job_access(user=request.user, job=job)
    context = {"job": job, "export_formats": formats, "speakers": list(people.values()), "rows": rows}
    context |= {"access": access, "can_edit": access != "read"}
    if access == "owner":
        context |= {
            "shares": selectors.share_list(user=request.user, job=job),
            "share_form": ShareForm(user=request.user),
        }
    context["activity"] = audit_for_job(user=request.user, job_id=job.id, owner_id=job.owner_id)
    return render(request, "transcription/job_detail.html", context)


@login_required
@require_GET
def job_audio(request: HttpRequest, job_id) -> HttpResponse:
    job = selectors.job_get_readable(user=request.user, job_id=job_id)
    if not job.audio:
        raise Http404(_("The recording was deleted under the retention policy."))
    if audit_trail.first_play(request):  # a seek asks for later bytes: not a new play
        audit_trail.record(request, "played", job)
    content_type, _encoding = mimetypes.guess_type(job.audio.name)
    inline = content_type in PLAYABLE_TYPES
    response = file_response(
        request,
        job.audio,
        as_attachment=not inline,
        filename=Path(job.original_name).name or "audio",
        content_type=content_type if inline else "application/octet-stream",
    )
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@login_required
@require_GET
def job_export(request: HttpRequest, job_id, fmt: str) -> HttpResponse:
    job = selectors.job_get_readable(user=request.user, job_id=job_id)
    if job.status != job.Status.DONE or fmt not in exports.FORMATS:
        raise Http404(_("Nothing to export."))
    audit_trail.record(request, "exported", job, detail=fmt)
    rendered = exports.render(job, fmt, raw=request.GET.get("raw") == "1")
    response = HttpResponse(rendered.content, content_type=rendered.content_type)
    response["Content-Disposition"] = content_disposition_header(True, rendered.filename)
    return response


@login_required
@require_POST
def segment_edit(request: HttpRequest, job_id, index: int) -> HttpResponse:
    job = selectors.job_get_editable(user=request.user, job_id=job_id)
    text = request.POST.get("text", "")
    if not text.strip():
        return JsonResponse(
            {"error": _("A segment cannot be empty: delete words, not the whole line.")}, status=400
        )
    try:
        segment = services.segment_edit(job=job, index=index, text=text[:5000])
    except ValueError as exc:
        return JsonResponse({"error": i18n.translate_stored(str(exc))}, status=409)
    audit_trail.record(request, "edited", job, detail=f"segment {index + 1}")
    return JsonResponse({"segment": segment})


@login_required
@require_POST
def job_cancel(request: HttpRequest, job_id) -> HttpResponse:
    job = selectors.job_get(user=request.user, job_id=job_id)
    done = services.job_cancel(job=job)
    return _after_action(
        request, job, done, _("Cancelled."), _("Only a queued or running job can be cancelled.")
    )


@login_required
@require_POST
def job_retry(request: HttpRequest, job_id) -> HttpResponse:
    job = selectors.job_get(user=request.user, job_id=job_id)
    try:
        done = services.job_retry(job=job)
    except ValidationError as refusal:
        return _after_action(request, job, False, "", refusal.messages[0])
    return _after_action(request, job, done, _("Queued again."), _("Only a failed job can be retried."))


def _after_action(request: HttpRequest, job, done: bool, success: str, refusal: str) -> HttpResponse:
    if "application/json" in request.headers.get("Accept", ""):
        body = {"job": _job_state(job)} if done else {"job": _job_state(job), "error": refusal}
        return JsonResponse(body, status=200 if done else 409)
    (messages.success if done else messages.error)(
        request, f"{job.original_name}: {success if done else refusal}"
    )
    return redirect(safe_next(request, default="dashboard"))


@login_required
@require_POST
def job_delete(request: HttpRequest, job_id) -> HttpResponse:
    job = selectors.job_get(user=request.user, job_id=job_id)
    with audit_trail.recorded(request, "deleted", job):
        services.job_delete(job=job)
    messages.success(request, _("Deleted %(name)s.") % {"name": job.original_name})
    return redirect("dashboard")


def _job_state(job) -> dict:
    """A job's state for this page's scripts, its stored error in the page's language."""
    state = progress.job_state(job)
    state["error"] = i18n.translate_stored(state["error"])
    return state
