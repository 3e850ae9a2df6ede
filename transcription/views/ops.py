"""Operational endpoints: /healthz for load balancers and supervisors, /metrics for Prometheus."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from transcription import monitoring


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    health = monitoring.health()
    return JsonResponse(health.as_dict(), status=200 if health.healthy else 503)


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    # Queue sizes and worker hosts are not for everyone: staff, or a scraper with the token.
    token = settings.METRICS_TOKEN
    bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
    # Compared as bytes: compare_digest refuses a str with non-ASCII characters (a 500, not a 403).
    allowed = request.user.is_staff or (token and hmac.compare_digest(bearer.encode(), token.encode()))
    if not allowed:
        return HttpResponse(
            "Forbidden: staff only, or send Authorization: Bearer <METRICS_TOKEN>.", status=403
        )
    return HttpResponse(monitoring.metrics_text(), content_type="text/plain; version=0.0.4; charset=utf-8")
