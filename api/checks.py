"""A job's call checks in the API (quality/): each rule set it was checked against, rule by rule,
with where each phrase was heard. Reads only; a job that is not the caller's is a 404."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.schema import errors
from api.views import job_id
from quality import selectors
from quality.models import Check
from transcription import selectors as job_selectors


class CheckSerializer(serializers.ModelSerializer):
    rule_set = serializers.CharField(source="rule_set.name", help_text="The rule set's name.")
    results = serializers.JSONField(
        help_text='Each rule: {"rule", "label", "kind": "must|must_not", "passed", '
        '"hits": [{"start", "end", "text", "heard"}]}.'
    )

    class Meta:
        model = Check
        fields = ["rule_set", "passed", "results", "checked_at"]


@extend_schema(tags=["jobs"])
class ChecksView(APIView):
    @extend_schema(summary="A job's call checks", responses={200: CheckSerializer(many=True), **errors(404)})
    def get(self, request: Request, pk: str) -> Response:
        job = job_selectors.job_get(user=request.user, job_id=job_id(pk))
        return Response(CheckSerializer(selectors.job_checks(user=request.user, job=job), many=True).data)
