"""A job's summary by the language model: its page (ask for one with a template, watch it live, read
it with its citations linked to the player, correct it) and its Markdown download. Each view
parses, calls one service or selector, and renders; a job that is not the user's is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from llm import docx as summary_docx
from llm import render as summary_render
from llm import selectors, services
from transcription import audit_trail
from transcription import selectors as job_selectors


@login_required
@require_GET
def summary_page(request: HttpRequest, job_id) -> HttpResponse:
    job = job_selectors.job_get(user=request.user, job_id=job_id)
    summary = selectors.summary_of(user=request.user, job=job)
    job_url = reverse("job_detail", args=[job.id])

    def html(markdown: str) -> str:  # citations link to the job page's player
        return summary_render.to_html(markdown, job_url=job_url, duration=job.duration) if markdown else ""

    questions = [(q, html(q.answer)) for q in selectors.question_list(user=request.user, job=job)]
    waiting = any(q.status in ("queued", "running") for q, _ in questions) or (
        summary is not None and summary.status in ("queued", "running")
    )
    context = {
        "job": job,
        "summary": summary,
        "summary_html": html(summary.text) if summary else "",
        "questions": questions,
        "waiting": waiting,
        "templates": selectors.template_list(user=request.user),
        "connection": selectors.connection_active(user=request.user),
    }
    return render(request, "llm/summary.html", context)


@login_required
@require_POST
def summary_request(request: HttpRequest, job_id) -> HttpResponse:
    job = job_selectors.job_get(user=request.user, job_id=job_id)
    template = selectors.template_get(user=request.user, template_id=request.POST.get("template"))
    if template is None:
        messages.error(request, _("Choose a summary template."))
    else:
        try:
            services.summary_request(job=job, template=template, user=request.user)
        except ValueError as error:
            messages.error(request, _(str(error)))
    return redirect("summary_page", job.id)


@login_required
@require_POST
def question_ask(request: HttpRequest, job_id) -> HttpResponse:
    job = job_selectors.job_get(user=request.user, job_id=job_id)
    try:
        services.question_ask(job=job, user=request.user, text=request.POST.get("question", ""))
    except ValueError as error:
        messages.error(request, _(str(error)))
    return redirect(reverse("summary_page", args=[job.id]) + "#questions")


@login_required
@require_POST
def summary_edit(request: HttpRequest, job_id) -> HttpResponse:
    job = job_selectors.job_get(user=request.user, job_id=job_id)
    summary = selectors.summary_of(user=request.user, job=job)
    if summary is None:
        raise Http404("No summary.")
    try:
        services.summary_edit(summary=summary, text=request.POST.get("text", ""))
        messages.success(request, _("Summary saved."))
    except ValueError as error:
        messages.error(request, _(str(error)))
    return redirect("summary_page", job.id)


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@login_required
@require_GET
def summary_download(request: HttpRequest, job_id, fmt: str = "md") -> HttpResponse:
    """The summary as Markdown (`.md`) or as a Word document (`.docx`)."""
    job = job_selectors.job_get(user=request.user, job_id=job_id)
    summary = selectors.summary_of(user=request.user, job=job)
    if summary is None or not summary.text:
        raise Http404("No summary.")
    audit_trail.record(request, "exported", job, detail=f"summary {'docx' if fmt == 'docx' else 'md'}")
    if fmt == "docx":
        response = HttpResponse(summary_docx.render(job.original_name, summary.text), content_type=DOCX)
    else:
        body = f"# {job.original_name}\n\n{summary.text}\n"
        response = HttpResponse(body, content_type="text/markdown; charset=utf-8")
    stem = job.original_name.rsplit(".", 1)[0] or "transcript"
    response["Content-Disposition"] = content_disposition_header(True, f"{stem}-summary.{fmt}")
    return response
