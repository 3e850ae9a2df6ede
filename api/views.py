"""The REST API under /api/v1/. Each view parses, calls one service or selector (after the
selector that finds the object), and renders. Every object is looked up for the user asking:
someone else's job or list answers 404, exactly like one that does not exist.

Jobs: staff read every user's jobs (list, retrieve, export); changing a job (cancel, retry,
delete) is for its owner only.
"""

from __future__ import annotations

import uuid

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse, JsonResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.serializers import ValidationError as ApiValidationError

from api import serializers as s
from api.schema import errors
from hotwords import selectors as hotword_selectors
from hotwords import services as hotword_services
from hotwords.models import HotwordList
from transcription import audit_trail, exports, selectors, services, speakers
from transcription.models import Job

MAX_ID_DIGITS = 18  # ids fit a 64-bit key


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Request) -> int:
        # DRF ignores a page_size it cannot read; say so instead, as the schema promises an integer.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and not (raw.isascii() and raw.isdigit() and len(raw) < 10 and int(raw) > 0):
            raise ApiValidationError({"page_size": ["A whole number, at least 1 (at most 200 are given)."]})
        return super().get_page_size(request)


class NoFormatOverride(DefaultContentNegotiation):
    """For exports `?format=` is the file format, not DRF's renderer override. The file is an
    HttpResponse; JSON renders only the errors."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def parse(serializer_class: type[Serializer], data, request: Request, **kwargs) -> dict:
    serializer = serializer_class(data=data, context={"request": request}, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def parse_query(serializer_class: type[Serializer], request: Request) -> dict:
    # A plain dict, not the QueryDict: DRF reads an empty form value as "absent", but in a query
    # `?status=` is a value, and an invalid one.
    return parse(serializer_class, request.query_params.dict(), request)


def job_id(pk: str) -> uuid.UUID:
    try:
        return uuid.UUID(pk)
    except ValueError:
        raise NotFound("No such job.") from None


def list_id(pk: str) -> int:
    if not (pk.isascii() and pk.isdigit() and len(pk) <= MAX_ID_DIGITS):
        raise NotFound("No such hotword list.")
    return int(pk)


# --- jobs ----------------------------------------------------------------------------------


EXPORT_SHAPES = {"json": OpenApiTypes.OBJECT, "docx": OpenApiTypes.BINARY}  # the others: text


def _export_answer(fmt: str) -> OpenApiResponse:
    shape = EXPORT_SHAPES.get(fmt, OpenApiTypes.STR)
    return OpenApiResponse(shape, description="The transcript as a file, in the format asked for.")


EDIT_PARSERS = [JSONParser, FormParser, MultiPartParser]
SPEAKER_KEY = OpenApiParameter(
    "key", str, OpenApiParameter.PATH, description='The speaker\'s key: "S1", "S2"….'
)
EXPORT_TYPES = {(200, e.content_type.split(";")[0]): _export_answer(f) for f, e in exports.FORMATS.items()}


@extend_schema_view(
    list=extend_schema(
        summary="List jobs",
        description="Newest first: yours (every user's for staff).",
        parameters=[s.JobListQuerySerializer],
        responses={200: s.JobSummarySerializer(many=True), **errors(400, 404)},
    ),
    create=extend_schema(
        summary="Upload recordings",
        description="One job per file; each is queued at once. Past a quota (stored audio, hours of audio "
        "per day or month, jobs waiting): 429 with a sentence naming it, and nothing is stored.",
        request={"multipart/form-data": s.JobCreateSerializer},
        responses={201: s.JobCreatedSerializer, **errors(400, 413, 415)},
    ),
    retrieve=extend_schema(
        summary="A job, with its transcript", responses={200: s.JobDetailSerializer, **errors(404)}
    ),
    destroy=extend_schema(summary="Delete a job and its audio", responses={204: None, **errors(404)}),
)
@extend_schema(tags=["jobs"])
class JobViewSet(viewsets.GenericViewSet):
    queryset = Job.objects.none()  # for the schema only: every read goes through a selector
    serializer_class = s.JobDetailSerializer
    parser_classes = [MultiPartParser, FormParser]
    pagination_class = Pagination

    def get_content_negotiator(self):
        # Called once before `action` is known, to build the request; again for negotiation.
        exporting = getattr(self, "action", None) == "export"
        return NoFormatOverride() if exporting else super().get_content_negotiator()

    def list(self, request: Request) -> Response:
        query = parse_query(s.JobListQuerySerializer, request)
        page = self.paginate_queryset(selectors.job_search(user=request.user, **query))
        return self.get_paginated_response(self._render(page, s.JobSummarySerializer, many=True))

    def create(self, request: Request) -> Response:
        data = parse(s.JobCreateSerializer, request.data, request)
        jobs = services.job_create_many(
            owner=request.user,
            uploads=data["uploads"],
            profile=data["profile"],
            hotwords=data.get("hotwords", []),
            hotword_lists=data.get("hotword_lists", []),
            itn=data["itn"],
            language=data["language"],
            recognition=data["recognition"],
            name=data.get("name", ""),
            batch=data.get("batch", ""),
            callback_url=data.get("callback_url") or _token_callback(request),
        )
        return Response({"jobs": self._render(jobs, many=True)}, status=status.HTTP_201_CREATED)

    def retrieve(self, request: Request, pk: str) -> Response:
        job = selectors.job_get_visible(user=request.user, job_id=job_id(pk))
        audit_trail.record(request, "viewed", job, via="api")
        return Response(self._render(job))

    def destroy(self, request: Request, pk: str) -> Response:
        job = selectors.job_get(user=request.user, job_id=job_id(pk))
        with audit_trail.recorded(request, "deleted", job, via="api"):
            services.job_delete(job=job)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Cancel a queued or running job",
        description='The job becomes failed, with the error "Cancelled by the user.".',
        request=None,
        responses={200: s.JobDetailSerializer, **errors(404, 409)},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        job = selectors.job_get(user=request.user, job_id=job_id(pk))
        if not services.job_cancel(job=job):
            raise Conflict(f"Only a queued or running job can be cancelled; this one is {job.status}.")
        return Response(self._render(job))

    @extend_schema(
        summary="Run a failed job again",
        request=None,
        responses={200: s.JobDetailSerializer, **errors(404, 409)},
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str) -> Response:
        job = selectors.job_get(user=request.user, job_id=job_id(pk))
        try:
            retried = services.job_retry(job=job)
        except DjangoValidationError as refusal:
            raise Conflict(refusal.messages[0]) from None
        if not retried:
            raise Conflict(f"Only a failed job can be run again; this one is {job.status}.")
        return Response(self._render(job))

    @extend_schema(
        summary="Download the transcript as a file",
        parameters=[s.ExportQuerySerializer],
        responses={**EXPORT_TYPES, **errors(400, 404, 409)},
    )
    @action(detail=True, methods=["get"])
    def export(self, request: Request, pk: str) -> HttpResponse:
        query = parse_query(s.ExportQuerySerializer, request)
        job = selectors.job_get_visible(user=request.user, job_id=job_id(pk))
        if job.status != Job.Status.DONE:
            raise Conflict(f"The job is {job.status}: only a finished transcript can be exported.")
        audit_trail.record(request, "exported", job, detail=query["format"], via="api")
        rendered = exports.render(job, query["format"], raw=query["raw"])
        response = HttpResponse(rendered.content, content_type=rendered.content_type)
        response["Content-Disposition"] = content_disposition_header(True, rendered.filename)
        return response

    @extend_schema(
        summary="Name a speaker",
        description="The name is the speaker's for the whole job: every segment and export follows.",
        parameters=[SPEAKER_KEY],
        request=s.SpeakerRenameSerializer,
        responses={200: s.JobDetailSerializer, **errors(400, 404, 415)},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"speakers/(?P<key>[^/.]{1,20})/rename",
        parser_classes=EDIT_PARSERS,
    )
    def speaker_rename(self, request: Request, pk: str, key: str) -> Response:
        data = parse(s.SpeakerRenameSerializer, request.data, request)
        return self._speaker_edit(speakers.speaker_rename, pk, key=key, name=data["name"])

    @extend_schema(
        summary="Merge a speaker into another",
        description="The speaker was `into` all along: their segments become `into`'s and they are no more.",
        parameters=[SPEAKER_KEY],
        request=s.SpeakerMergeSerializer,
        responses={200: s.JobDetailSerializer, **errors(400, 404, 415)},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"speakers/(?P<key>[^/.]{1,20})/merge",
        parser_classes=EDIT_PARSERS,
    )
    def speaker_merge(self, request: Request, pk: str, key: str) -> Response:
        data = parse(s.SpeakerMergeSerializer, request.data, request)
        return self._speaker_edit(speakers.speaker_merge, pk, key=key, into=data["into"])

    @extend_schema(
        summary="Say who spoke a segment",
        parameters=[
            OpenApiParameter("index", int, OpenApiParameter.PATH, description="The segment's place, from 0.")
        ],
        request=s.SegmentSpeakerSerializer,
        responses={200: s.JobDetailSerializer, **errors(400, 404, 415)},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"segments/(?P<index>[0-9]{1,9})/speaker",
        parser_classes=EDIT_PARSERS,
    )
    def segment_speaker(self, request: Request, pk: str, index: str) -> Response:
        data = parse(s.SegmentSpeakerSerializer, request.data, request)
        return self._speaker_edit(speakers.segment_move, pk, index=int(index), key=data["speaker"])

    def _speaker_edit(self, service, pk: str, **arguments) -> Response:
        """A job the user may edit (theirs, or shared with edit rights) through one of the speaker
        services; its refusal is a 400 with its message."""
        job = selectors.job_get_editable(user=self.request.user, job_id=job_id(pk))
        try:
            job = service(job=job, **arguments)
        except ValueError as refusal:
            raise ApiValidationError({"detail": gettext(str(refusal))}) from None
        audit_trail.record(self.request, "edited", job, detail=service.__name__.replace("_", " "), via="api")
        return Response(self._render(job))

    def _render(self, data, serializer_class: type[Serializer] = s.JobDetailSerializer, many: bool = False):
        return serializer_class(data, many=many, context={"request": self.request}).data


# --- hotword lists -------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Your hotword lists, your teams' and the shared ones",
        responses={200: s.HotwordListSerializer(many=True), **errors(400, 404)},
    ),
    retrieve=extend_schema(
        summary="A hotword list with its phrases",
        responses={200: s.HotwordListDetailSerializer, **errors(404)},
    ),
    create=extend_schema(
        summary="Make a hotword list",
        request=s.HotwordListSerializer,
        responses={201: s.HotwordListDetailSerializer, **errors(400, 403, 415)},
    ),
    update=extend_schema(
        summary="Change a hotword list",
        description="`phrases`, when given, replaces every phrase; absent, the phrases stay.",
        request=s.HotwordListSerializer,
        responses={200: s.HotwordListDetailSerializer, **errors(400, 403, 404, 415)},
    ),
    partial_update=extend_schema(
        summary="Change some of a hotword list",
        request=s.HotwordListSerializer,
        responses={200: s.HotwordListDetailSerializer, **errors(400, 403, 404, 415)},
    ),
    destroy=extend_schema(summary="Delete a hotword list", responses={204: None, **errors(403, 404)}),
)
@extend_schema(tags=["hotword lists"])
class HotwordListViewSet(viewsets.GenericViewSet):
    """Personal lists are their owner's to change; a team's lists its managers'; shared lists (no
    owner, no team) are staff's."""

    queryset = HotwordList.objects.none()  # for the schema only
    serializer_class = s.HotwordListSerializer
    parser_classes = [JSONParser, FormParser, MultiPartParser]
    pagination_class = Pagination

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(hotword_selectors.hotword_list_readable(user=request.user))
        return self.get_paginated_response(self._render(page, s.HotwordListSerializer, many=True))

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(
            self._render(hotword_selectors.hotword_list_get_readable(user=request.user, list_id=list_id(pk)))
        )

    def create(self, request: Request) -> Response:
        data = parse(s.HotwordListSerializer, request.data, request)
        team = data.pop("team", None)  # one the user manages (the serializer checked)
        owner = None if data.pop("is_shared") or team else request.user
        hotword_list = HotwordList(owner=owner, team=team, **_list_fields(data))
        saved = _save(hotword_list, data.get("phrases", ""))
        return Response(self._render(saved), status=status.HTTP_201_CREATED)

    def update(self, request: Request, pk: str, partial: bool = False) -> Response:
        hotword_list = hotword_selectors.hotword_list_get_writable(user=request.user, list_id=list_id(pk))
        data = parse(s.HotwordListSerializer, request.data, request, instance=hotword_list, partial=partial)
        for name, value in _list_fields(data).items():
            setattr(hotword_list, name, value)
        return Response(self._render(_save(hotword_list, data.get("phrases", hotword_list.as_text()))))

    def partial_update(self, request: Request, pk: str) -> Response:
        return self.update(request, pk, partial=True)

    def destroy(self, request: Request, pk: str) -> Response:
        hotword_list = hotword_selectors.hotword_list_get_writable(user=request.user, list_id=list_id(pk))
        hotword_services.hotword_list_delete(hotword_list=hotword_list)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _render(self, data, serializer_class=s.HotwordListDetailSerializer, many: bool = False):
        return serializer_class(data, many=many, context={"request": self.request}).data


def _list_fields(data: dict) -> dict:
    return {k: data[k] for k in ("name", "description", "active", "apply_by_default") if k in data}


def _save(hotword_list: HotwordList, phrases: str) -> HotwordList:
    """The service checks the phrases and the list; its refusal becomes a 400 with every message."""
    try:
        return hotword_services.hotword_list_save_unique(hotword_list=hotword_list, entries_text=phrases)
    except DjangoValidationError as error:
        if not hasattr(error, "error_dict"):
            raise ApiValidationError({"phrases": error.messages}) from None
        raise ApiValidationError(
            {("non_field_errors" if k == NON_FIELD_ERRORS else k): v for k, v in error.message_dict.items()}
        ) from None


# --- engine profiles -----------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Engine profiles you may choose",
        description="Those that can run here (their models installed) and that you may pick.",
        responses={200: s.ProfileSerializer(many=True), **errors()},
    )
)
@extend_schema(tags=["profiles"])
class ProfileViewSet(viewsets.GenericViewSet):
    serializer_class = s.ProfileSerializer
    pagination_class = None

    def list(self, request: Request) -> Response:
        profiles = selectors.profile_list_selectable(user=request.user)
        return Response(s.ProfileSerializer(profiles, many=True).data)


@csrf_exempt  # it changes nothing, whatever the method
def not_found(request, path: str = "") -> JsonResponse:
    """Any other URL under /api/v1/: a 404 in JSON, like the API's own, not an HTML page."""
    return JsonResponse({"detail": "Not found."}, status=404)


def _token_callback(request: Request) -> str:
    """The token's default webhook, for jobs that name none (session requests have no token)."""
    return getattr(request.auth, "default_callback_url", "") or ""
