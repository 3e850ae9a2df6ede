"""OpenAI-compatible endpoints, the convention FunASR's own server and speaches follow, so stock
clients (the `openai` package, curl scripts, tools with an "OpenAI base URL" setting) work:

    POST /v1/audio/transcriptions   multipart: file, model, language, prompt, response_format,
                                    timestamp_granularities[]
    POST /v1/audio/translations     the same, into English (multilingual Whisper profiles)
    GET  /v1/models                 the runnable profiles, as models

A transcription is an ordinary job: it is created through the services, then the request waits
for its end up to API_WAIT_SECONDS, listening for it rather than polling, and holding no thread
(api/waiting.py: at most API_MAX_WAITS_PER_USER waits per user, API_MAX_WAITS in all, else 429).
Not done by then: 202 with the job's id and the URL to poll. Errors have OpenAI's shape:
{"error": {"message", "type", ...}}.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import waiting
from api.serializers import UploadField, check_quota, check_size, upload_language
from hotwords import services as hotword_services
from transcription import exports, profiles, selectors, services, speakers
from transcription.models import EngineProfile, Job

# Stock clients ask for OpenAI's model name: it means the default profile.
DEFAULT_MODEL_ALIASES = {"whisper-1"}
RESPONSE_FORMATS = ["json", "text", "srt", "vtt", "verbose_json"]
TEXT_FORMATS = {"text", "srt", "vtt"}
OWNER = "funasr-portal"

ERROR_TYPES = {
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
}


# --- what is read and written ---------------------------------------------------------------


class ModelField(serializers.CharField):
    def run_validation(self, data=serializers.empty) -> EngineProfile:
        # After CharField's own checks (length, NUL characters), which expect the string.
        user = self.context["request"].user
        name = super().run_validation(data)
        ref = "" if name in DEFAULT_MODEL_ALIASES else name
        profile = selectors.profile_find_selectable(user=user, ref=ref)
        if profile is None:
            names = [p.name for p in selectors.profile_list_selectable(user=user)]
            choices = ", ".join(names + sorted(DEFAULT_MODEL_ALIASES)) if names else "none is installed yet"
            raise serializers.ValidationError(
                f"The model '{name}' does not exist. Available models: {choices}."
            )
        return profile


class GranularitiesField(serializers.ListField):
    """`timestamp_granularities[]` as the official client sends it (or without the brackets)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(child=serializers.ChoiceField(choices=["word", "segment"]), **kwargs)

    def get_value(self, dictionary):
        if hasattr(dictionary, "getlist"):
            values = dictionary.getlist(f"{self.field_name}[]") or dictionary.getlist(self.field_name)
            return values or serializers.empty
        return super().get_value(dictionary)


class OpenAITranscriptionRequestSerializer(serializers.Serializer):
    file = UploadField(help_text="The recording.")
    model = ModelField(
        max_length=100, help_text="An engine profile's name (GET /v1/models); whisper-1: the default profile."
    )
    language = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=16,
        help_text="The language spoken (ISO-639-1: zh, en, ...), for a multilingual model; it must be "
        "one the model transcribes (GET /api/v1/profiles/: `languages`). Absent: the profile's setting.",
    )
    prompt = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="Primes the model where it takes a prompt (Whisper's initial prompt); its phrases, "
        "comma or newline separated, are also used as hotwords.",
    )
    response_format = serializers.ChoiceField(choices=RESPONSE_FORMATS, default="json")
    temperature = serializers.FloatField(required=False, help_text="Accepted and ignored.")
    timestamp_granularities = GranularitiesField(
        required=False, help_text="`word` adds each word's timing to verbose_json (`words`)."
    )
    task = "transcribe"

    def validate_file(self, upload):
        check_size(upload)
        return upload

    def validate(self, data: dict) -> dict:
        data["language"] = upload_language(data["model"], data.get("language", ""))
        prompt, words = data.get("prompt", ""), "word" in data.get("timestamp_granularities", [])
        try:
            data["recognition"] = profiles.recognition_options(
                data["model"], task=self.task, prompt=prompt, words=words
            )
        except DjangoValidationError as error:
            raise serializers.ValidationError({"model": error.messages}) from None
        data["hotwords"] = hotword_services.typed_phrases(prompt)
        check_quota(self.context["request"].user, [data["file"]])  # a 429 before anything is stored
        return data


class OpenAITranslationRequestSerializer(OpenAITranscriptionRequestSerializer):
    """As a transcription, into English (Whisper's translate task), with no `language` to name."""

    language = None
    task = "translate"


class OpenAISegmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    seek = serializers.IntegerField()
    start = serializers.FloatField()
    end = serializers.FloatField()
    text = serializers.CharField()
    tokens = serializers.ListField(child=serializers.IntegerField())
    temperature = serializers.FloatField()
    speaker = serializers.CharField(
        required=False, help_text="Who said it, for a diarized job (not OpenAI's)."
    )


class OpenAITranscriptionSerializer(serializers.Serializer):
    """json: `text` only; verbose_json adds the rest."""

    text = serializers.CharField()
    task = serializers.CharField(required=False)
    language = serializers.CharField(required=False)
    duration = serializers.FloatField(required=False, allow_null=True)
    segments = OpenAISegmentSerializer(many=True, required=False)


class OpenAIPendingSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=Job.Status.choices, help_text="queued or running.")
    url = serializers.URLField(help_text="Poll it: GET /api/v1/jobs/{id}/.")


class OpenAIErrorBodySerializer(serializers.Serializer):
    message = serializers.CharField()
    type = serializers.CharField()
    param = serializers.CharField(allow_null=True)
    code = serializers.CharField(allow_null=True)


class OpenAIErrorSerializer(serializers.Serializer):
    error = OpenAIErrorBodySerializer()


class OpenAIModelSerializer(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.CharField()
    created = serializers.IntegerField()
    owned_by = serializers.CharField()


class OpenAIModelListSerializer(serializers.Serializer):
    object = serializers.CharField()
    data = OpenAIModelSerializer(many=True)


def openai_errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: OpenApiResponse(OpenAIErrorSerializer) for code in sorted({401, 429, *codes})}


# --- views -----------------------------------------------------------------------------------


class OpenAIView(APIView):
    """Errors in OpenAI's shape, whatever raised them (validation, authentication, throttling)."""

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        response.data = error_body(response.data, response.status_code)
        return response


def error_body(data, status_code: int, code: str | None = None) -> dict:
    param = None
    if isinstance(data, dict) and "detail" in data:
        message = str(data["detail"])
        code = code or getattr(data["detail"], "code", None)
    elif isinstance(data, dict) and data:
        param, messages = next(iter(data.items()))
        message = " ".join(str(m) for m in messages) if isinstance(messages, list) else str(messages)
    else:
        message = str(data)
    kind = ERROR_TYPES.get(status_code, "invalid_request_error" if status_code < 500 else "server_error")
    return {"error": {"message": message, "type": kind, "param": param, "code": code and str(code)}}


# What both audio endpoints answer: the transcript (JSON or text), the job to poll, or an error.
AUDIO_RESPONSES = {
    (200, "application/json"): OpenAITranscriptionSerializer,
    (200, "text/plain"): OpenApiTypes.STR,
    202: OpenAIPendingSerializer,
    **openai_errors(400, 413, 415, 422),
}


class TranscriptionView(OpenAIView):
    parser_classes = [MultiPartParser, FormParser]
    request_serializer = OpenAITranscriptionRequestSerializer

    @extend_schema(
        operation_id="openai_transcription_create",
        summary="Transcribe a recording (OpenAI-compatible)",
        description="Waits up to API_WAIT_SECONDS for the transcript; otherwise answers 202 with the job "
        "to poll. `text`, `srt` and `vtt` answer text/plain.",
        request={"multipart/form-data": OpenAITranscriptionRequestSerializer},
        responses=AUDIO_RESPONSES,
        tags=["openai"],
    )
    def post(self, request: Request) -> HttpResponse:
        waits = waiting.can_wait(request._request)
        if waits:  # a place among the waiting requests first: refused (429), nothing is stored
            waiting.SLOTS.reserve(request.user.pk)
        try:
            serializer = self.request_serializer(data=request.data, context={"request": request})
            serializer.is_valid(raise_exception=True)
            params = serializer.validated_data
            job = services.job_create(
                owner=request.user,
                upload=params["file"],
                profile=params["model"],
                hotwords=params["hotwords"],
                language=params.get("language", ""),
                recognition=params["recognition"],
            )
            fmt, language = params["response_format"], params.get("language", "")
            response = transcription_response(request, job, fmt, language)
        except BaseException:
            if waits:
                waiting.SLOTS.release(request.user.pk)
            raise
        if waits and response.status_code == 202:  # the wait happens after this view: api/waiting.py
            return waiting.wait_for(
                response, user_id=request.user.pk, job_id=job.id, fmt=fmt, language=language
            )
        if waits:
            waiting.SLOTS.release(request.user.pk)
        return response


class TranslationView(TranscriptionView):
    request_serializer = OpenAITranslationRequestSerializer

    @extend_schema(
        operation_id="openai_translation_create",
        summary="Translate a recording into English (OpenAI-compatible)",
        description="As a transcription, with Whisper's translate task: multilingual Whisper profiles "
        "only (others: 400). Waits up to API_WAIT_SECONDS, then 202 with the job to poll.",
        request={"multipart/form-data": OpenAITranslationRequestSerializer},
        responses=AUDIO_RESPONSES,
        tags=["openai"],
    )
    def post(self, request: Request) -> HttpResponse:
        return super().post(request)


def answer_ended(user_id: int, job_id, fmt: str, language: str) -> HttpResponse:
    """The answer for a job that has ended, once waiting.WaitForTranscripts has seen it end."""
    job = selectors.job_get(user=get_user_model()(pk=user_id), job_id=job_id)
    return transcription_response(None, job, fmt, language)


def transcription_response(request: Request | None, job: Job, fmt: str, language: str) -> HttpResponse:
    """The answer for the job as it is: its transcript, its failure (422), or where to poll (202).
    Plain Django responses: they are also made after the request's DRF view has returned."""
    if job.status == Job.Status.FAILED:
        body = error_body({"file": [job.error]}, 422, code="transcription_failed")
        return JsonResponse(body, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
    if job.status != Job.Status.DONE:
        url = request.build_absolute_uri(reverse("api:job-detail", args=[job.id]))
        return JsonResponse(
            {"id": str(job.id), "status": job.status, "url": url}, status=status.HTTP_202_ACCEPTED
        )
    if fmt == "text":
        return HttpResponse(job.text + "\n", content_type="text/plain; charset=utf-8")
    if fmt in TEXT_FORMATS:
        return HttpResponse(exports.render(job, fmt).content, content_type="text/plain; charset=utf-8")
    if fmt == "verbose_json":
        return JsonResponse(verbose(job, language), json_dumps_params={"ensure_ascii": False})
    return JsonResponse({"text": job.text}, json_dumps_params={"ensure_ascii": False})


def verbose(job: Job, language: str) -> dict:
    """OpenAI's verbose_json: the segments, and `words` when the request asked for word timings.
    A diarized job's segments also say who spoke them (`speaker`: the name shown)."""
    segments = [
        {"id": i, "seek": 0, "start": seg["start"], "end": seg["end"], "text": seg["text"], "tokens": [],
         "temperature": 0.0}
        for i, seg in enumerate(job.segments)
    ]  # fmt: skip
    if job.speakers:
        for segment, stored in zip(segments, job.segments, strict=True):
            if name := speakers.segment_speaker(job, stored):
                segment["speaker"] = name
    body = {
        "task": job.options.get("task", "transcribe"),
        "language": job.language or language,
        "duration": job.duration,
        "text": job.text,
        "segments": segments,
    }
    if job.options.get("words"):
        body["words"] = [w for seg in job.segments for w in seg.get("words") or []]
    return body


class ModelListView(OpenAIView):
    @extend_schema(
        operation_id="openai_model_list",
        summary="Models (OpenAI-compatible)",
        description="The engine profiles you may use, as OpenAI models: pass an `id` as `model`.",
        responses={200: OpenAIModelListSerializer, **openai_errors()},
        tags=["openai"],
    )
    def get(self, request: Request) -> Response:
        profiles = selectors.profile_list_selectable(user=request.user)
        data = [
            {"id": p.name, "object": "model", "created": int(p.updated_at.timestamp()), "owned_by": OWNER}
            for p in profiles
        ]
        return Response({"object": "list", "data": data})
