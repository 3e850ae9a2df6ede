"""The live captions page (issue 20): the microphone streamed over `/ws/live/`
(live_consumer.py), captions as they come, the recording a job when it stops."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from hotwords import selectors as hotword_selectors
from transcription import selectors
from transcription.forms import UploadForm


@login_required
@require_GET
def live_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = UploadForm(user=user)  # its speakers choice and what other apps add (summaries, checks)
    form.fields["speakers"].choices = [
        c for c in form.fields["speakers"].choices if not str(c[0]).startswith("call-")
    ]
    context = {
        "form": form,
        "profiles": selectors.profile_list_selectable(user=user),
        "default": selectors.profile_default(user=user, interface_language=request.LANGUAGE_CODE),
        "lists": hotword_selectors.hotword_list_selectable(user=user),
        "resume_seconds": settings.ASR_LIVE_RESUME_SECONDS,
    }
    return render(request, "transcription/live.html", context)
