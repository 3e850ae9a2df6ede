"""The history pages: search and filter every job, page through them, and act on many at once.

Each view parses, calls one service or selector, and renders or streams.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.handlers.asgi import ASGIRequest
from django.http import Http404, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from transcription import audit_trail, exports, selectors, upkeep
from transcription.forms import ClearForm, HistoryFilterForm
from transcription.http import safe_next

CURSOR_PARAMS = ("after", "before")
MAX_DAYS = 36_500


@login_required
@require_GET
def history(request: HttpRequest) -> HttpResponse:
    form = HistoryFilterForm(request.GET, user=request.user)
    page = selectors.job_history(
        user=request.user,
        **form.filters(),
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
    )
    context = {
        "form": form,
        "page": page,
        "filters": _without_cursor(request.GET),
        "batch": form.cleaned_data.get("batch") or "",
        "export_formats": _formats(),
        "clear_form": ClearForm(),
    }
    return render(request, "transcription/history.html", context)


@login_required
@require_POST
def history_delete(request: HttpRequest) -> HttpResponse:
    deleted = upkeep.jobs_delete(
        user=request.user,
        job_ids=request.POST.getlist("job"),
        on_delete=audit_trail.recorder(request, "deleted"),
    )
    if deleted:
        messages.success(
            request,
            _("Deleted %(count)d job(s) and their recordings.") % {"count": deleted},
        )
    else:
        messages.error(request, _("Select the jobs to delete first."))
    return _back(request)


@login_required
@require_POST
def history_download(request: HttpRequest) -> HttpResponse:
    fmt = request.POST.get("fmt", "")
    if fmt not in exports.FORMATS:
        raise Http404(_("Unknown format."))
    jobs = selectors.job_export_selected(user=request.user, job_ids=request.POST.getlist("job"))
    if not jobs.exists():
        messages.error(request, _("Select at least one finished transcription to download."))
        return _back(request)
    audit_trail.record_many(request, "exported", jobs, detail=f"{fmt} (zip)")
    return _zip_response(request, jobs, fmt)


@login_required
@require_GET
def history_batch_export(request: HttpRequest, name: str, fmt: str) -> HttpResponse:
    jobs = selectors.job_export_batch(user=request.user, batch=name)
    if fmt not in exports.FORMATS or not jobs.exists():
        raise Http404(_("Nothing to export."))
    audit_trail.record_many(request, "exported", jobs, detail=f"{fmt} (zip of batch {name})")
    return _zip_response(request, jobs, fmt, stem=exports.safe_stem(name))


@login_required
@require_http_methods(["GET", "POST"])
def history_clear(request: HttpRequest) -> HttpResponse:
    """GET: how many jobs would go, with a button to confirm; POST: delete them."""
    form = ClearForm(request.POST if request.method == "POST" else request.GET)
    if not form.is_valid():
        messages.error(request, _("Give a number of days, 1 or more."))
        return redirect("history")
    days = form.cleaned_data["days"]
    if request.method == "GET":
        count = selectors.jobs_older_than_count(user=request.user, days=days)
        return render(
            request, "transcription/history.html", {"confirm_clear": {"days": days, "count": count}}
        )
    deleted = upkeep.jobs_clear_older_than(
        user=request.user,
        days=days,
        on_delete=audit_trail.recorder(request, "deleted", detail=f"older than {days} day(s)"),
    )
    messages.success(
        request,
        _("Deleted %(count)d finished job(s) older than %(days)d day(s).") % {"count": deleted, "days": days},
    )
    return redirect("history")


def _formats() -> list[tuple[str, str]]:
    return [(name, export.label) for name, export in exports.FORMATS.items()]


def _without_cursor(params: QueryDict) -> str:
    """The filters in use, as a query string for the pager's links."""
    kept = QueryDict(mutable=True)
    for name, values in params.lists():
        if name not in CURSOR_PARAMS and any(values):
            kept.setlist(name, [v for v in values if v])
    return kept.urlencode()


def _back(request: HttpRequest) -> HttpResponse:
    return redirect(safe_next(request, default="history"))


def _zip_response(request: HttpRequest, jobs, fmt: str, stem: str = "") -> StreamingHttpResponse:
    """The jobs' transcripts as a zip made while it is sent, one job in memory at a time."""
    chunks = _in_language(exports.iter_zip(jobs.iterator(chunk_size=20), fmt), translation.get_language())
    # Under ASGI (daphne), Django would read a plain iterator to the end before sending it.
    content = _async_chunks(chunks) if isinstance(request, ASGIRequest) else chunks
    response = StreamingHttpResponse(content, content_type=exports.ZIP_CONTENT_TYPE)
    filename = f"{stem}-{exports.zip_filename(fmt)}" if stem else exports.zip_filename(fmt)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def _in_language(chunks: Iterator[bytes], language: str) -> Iterator[bytes]:
    """Each chunk made in the user's language: a streamed body is made after the view has returned,
    when the request's language is no longer active ("Speaker 1" where 说话人 1 was due)."""
    while True:
        with translation.override(language):
            chunk = next(chunks, None)
        if chunk is None:
            return
        yield chunk


async def _async_chunks(chunks: Iterable[bytes]) -> AsyncIterator[bytes]:
    # Each step runs in the request's sync thread, where its database connection lives.
    iterator: Iterator[bytes] = iter(chunks)
    step = sync_to_async(next, thread_sensitive=True)
    done = object()
    while (chunk := await step(iterator, done)) is not done:
        yield chunk
