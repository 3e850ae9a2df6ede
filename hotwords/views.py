"""Hotword list pages. Each view parses, calls one service or selector, and renders.

Users manage their own lists here (and a team's managers the team's lists), and read or export
the shared ones and their teams'; shared lists are edited only in Django admin, so every edit page
looks the list up with `hotword_list_get_own` (404 for anyone else, a team's plain members too).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hotwords import selectors, services
from hotwords.forms import HotwordListForm


def text_download(filename: str, text: str) -> HttpResponse:
    """A UTF-8 text file download. Path separators are replaced: a list name is not a path."""
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    safe_name = filename.replace("/", "_").replace("\\", "_")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=safe_name)
    return response


@login_required
@require_GET
def hotword_list(request: HttpRequest) -> HttpResponse:
    index = selectors.hotword_list_index(user=request.user)
    return render(request, "hotwords/list.html", index._asdict())


@login_required
@require_GET
def hotword_list_detail(request: HttpRequest, list_id: int) -> HttpResponse:
    hotword_list = selectors.hotword_list_get_visible(user=request.user, list_id=list_id)
    return render(request, "hotwords/detail.html", {"hotword_list": hotword_list})


@login_required
@require_http_methods(["GET", "POST"])
def hotword_list_create(request: HttpRequest) -> HttpResponse:
    form = HotwordListForm(_posted(request), user=request.user)
    return _save_or_show(request, form)


@login_required
@require_http_methods(["GET", "POST"])
def hotword_list_edit(request: HttpRequest, list_id: int) -> HttpResponse:
    hotword_list = selectors.hotword_list_get_own(user=request.user, list_id=list_id)
    form = HotwordListForm(_posted(request), user=request.user, instance=hotword_list)
    return _save_or_show(request, form)


def _posted(request: HttpRequest):
    # Not `request.POST or None`: an empty post must still be a bound form, and be refused.
    return request.POST if request.method == "POST" else None


def _save_or_show(request: HttpRequest, form: HotwordListForm) -> HttpResponse:
    """Save a valid post and go back to the index; otherwise show the form again, with what the
    user typed and every message. The service saves all or nothing, so a refusal changes nothing."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.hotword_list_save_unique(
                hotword_list=form.instance, entries_text=form.cleaned_data["phrases"]
            )
        except ValidationError as error:
            form.add_save_errors(error)
        else:
            messages.success(request, _("Saved “%(name)s”.") % {"name": saved.name})
            return redirect("hotword_list")
    return render(request, "hotwords/form.html", {"form": form})


@login_required
@require_POST
def hotword_list_delete(request: HttpRequest, list_id: int) -> HttpResponse:
    hotword_list = selectors.hotword_list_get_own(user=request.user, list_id=list_id)
    services.hotword_list_delete(hotword_list=hotword_list)
    messages.success(request, _("Deleted “%(name)s”.") % {"name": hotword_list.name})
    return redirect("hotword_list")


@login_required
@require_GET
def hotword_list_export(request: HttpRequest, list_id: int) -> HttpResponse:
    hotword_list = selectors.hotword_list_get_visible(user=request.user, list_id=list_id)
    return text_download(f"{hotword_list.name}.txt", hotword_list.as_text())
