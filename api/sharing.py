"""Sharing in the API: whom a job is shared with, sharing it (or its batch) with a team or a
colleague, and taking a share back. Only the job's owner; anyone else gets a 404, as for a job
that does not exist."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.schema import errors
from api.views import job_id, parse
from teams import selectors as team_selectors
from transcription import selectors, sharing
from transcription.models import Share


class ShareSerializer(serializers.ModelSerializer):
    team = serializers.CharField(
        source="team.name", allow_null=True, default=None, help_text="The team's name."
    )
    user = serializers.CharField(
        source="user.get_username", allow_null=True, default=None, help_text="The colleague's user name."
    )

    class Meta:
        model = Share
        fields = ["id", "team", "user", "can_edit", "batch", "created_at"]


class ShareCreateSerializer(serializers.Serializer):
    team = serializers.CharField(required=False, help_text="One of your teams, by name.")
    user = serializers.CharField(required=False, help_text="A colleague's user name.")
    can_edit = serializers.BooleanField(
        default=False, help_text="May correct the transcript and name speakers."
    )
    whole_batch = serializers.BooleanField(
        default=False, help_text="Share every job of this job's batch, and those uploaded into it later."
    )

    def validate(self, data: dict) -> dict:
        user = self.context["request"].user
        if bool(data.get("team")) == bool(data.get("user")):
            raise serializers.ValidationError("Give one team or one user.")
        if data.get("team"):
            data["team"] = team_selectors.team_list(user=user).filter(name=data["team"]).first()
            if data["team"] is None:
                raise serializers.ValidationError({"team": "You are in no team of that name."})
        else:
            data["user"] = team_selectors.colleague_find(user=user, username=data["user"])
            if data["user"] is None:
                raise serializers.ValidationError({"user": "Nobody else here has that user name."})
        return data


@extend_schema(tags=["sharing"])
class JobSharesView(APIView):
    @extend_schema(
        summary="Whom a job is shared with", responses={200: ShareSerializer(many=True), **errors(404)}
    )
    def get(self, request: Request, pk: str) -> Response:
        job = selectors.job_get(user=request.user, job_id=job_id(pk))
        return Response(ShareSerializer(selectors.share_list(user=request.user, job=job), many=True).data)

    @extend_schema(
        summary="Share a job, or its whole batch",
        request=ShareCreateSerializer,
        responses={201: ShareSerializer(many=True), **errors(400, 404)},
    )
    def post(self, request: Request, pk: str) -> Response:
        job = selectors.job_get(user=request.user, job_id=job_id(pk))
        data = parse(ShareCreateSerializer, request.data, request)
        shares = sharing.share_create(
            job=job, actor=request.user, team=data.get("team"), user=data.get("user"),
            can_edit=data["can_edit"], whole_batch=data["whole_batch"], via="api",
        )  # fmt: skip
        return Response(ShareSerializer(shares, many=True).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["sharing"])
class ShareView(APIView):
    @extend_schema(
        summary="Stop sharing",
        description="A share made with a batch is taken back from every job of the batch.",
        responses={204: None, **errors(404)},
    )
    def delete(self, request: Request, share_id: int) -> Response:
        share = selectors.share_get_own(user=request.user, share_id=share_id)
        sharing.share_revoke(share=share, actor=request.user, via="api")
        return Response(status=status.HTTP_204_NO_CONTENT)
