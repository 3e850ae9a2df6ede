"""A job's summary by the language model, in the API: read it (`GET`) and ask for one (`POST`).
The work is llm/'s (services, the `llm` queue); this parses, calls one service or selector, and
renders. A job that is not the caller's is a 404, as everywhere."""

from __future__ import annotations

from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import ValidationError as ApiValidationError
from rest_framework.views import APIView

from api.schema import errors
from api.views import Conflict, job_id, parse
from llm import mapreduce, selectors, services
from llm.models import Summary
from transcription import selectors as job_selectors


class SummarySerializer(serializers.ModelSerializer):
    template = serializers.CharField(source="template_name", help_text="The template it was written by.")
    citations = serializers.SerializerMethodField(
        help_text="The moments of the recording the summary cites, in seconds, in order."
    )

    class Meta:
        model = Summary
        fields = [
            "status",
            "progress",
            "template",
            "text",
            "edited",
            "error",
            "citations",
            "requested_at",
            "finished_at",
        ]

    def get_citations(self, summary: Summary) -> list[float]:
        return mapreduce.cited(summary.text, summary.job.duration)


class SummaryRequestSerializer(serializers.Serializer):
    template = serializers.CharField(help_text="A summary template's name or id (see the summary page).")


@extend_schema(tags=["jobs"])
class SummaryView(APIView):
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(
        summary="A job's summary by the language model", responses={200: SummarySerializer, **errors(404)}
    )
    def get(self, request: Request, pk: str) -> Response:
        job = job_selectors.job_get(user=request.user, job_id=job_id(pk))
        summary = selectors.summary_of(user=request.user, job=job)
        if summary is None:
            raise NotFound("This job has no summary: POST to ask for one.")
        return Response(SummarySerializer(summary).data)

    @extend_schema(
        summary="Ask for a job's summary (replacing the one it has)",
        description="Written by the `llm` queue's worker: poll `GET` until `status` is `done` or `failed`.",
        request=SummaryRequestSerializer,
        responses={202: SummarySerializer, **errors(400, 404, 409)},
    )
    def post(self, request: Request, pk: str) -> Response:
        job = job_selectors.job_get(user=request.user, job_id=job_id(pk))
        data = parse(SummaryRequestSerializer, request.data, request)
        template = selectors.template_get(user=request.user, template_id=data["template"])
        if template is None:
            raise ApiValidationError({"template": [gettext("There is no such summary template.")]})
        try:
            summary = services.summary_request(job=job, template=template, user=request.user)
        except ValueError as refusal:
            raise Conflict(gettext(str(refusal))) from None
        return Response(SummarySerializer(summary).data, status=status.HTTP_202_ACCEPTED)
