"""What the API reads and writes. Input serializers parse and check, like the portal's forms
(reading through selectors); output serializers describe what the views return."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import APIException

from hotwords import selectors as hotword_selectors
from hotwords import services as hotword_services
from hotwords.models import HotwordList
from llm import selectors as llm_selectors
from quality import selectors as quality_selectors
from transcription import exports, profiles, quotas, selectors, services, speakers
from transcription.models import EngineProfile, Job

EXPORT_FORMATS = list(exports.FORMATS)


class RequestTooLarge(APIException):
    # Not a ValidationError: DRF would turn that into a 400 with the field's name.
    status_code = 413
    default_code = "too_large"


def check_size(upload) -> None:
    """The services' size rule, as the 413 the API answers (not a 400 on the field)."""
    try:
        services.upload_check_size(upload)
    except DjangoValidationError as error:
        raise RequestTooLarge(error.messages[0]) from None


class QuotaExceeded(APIException):
    # 429 with the quota's sentence (what is over, and when it frees up), as a rate limit is.
    status_code = 429
    default_code = "quota"


def check_quota(user, uploads) -> None:
    """transcription.quotas's check before anything is stored, as the 429 the API answers."""
    try:
        quotas.quota_check(user=user, uploads=uploads)
    except DjangoValidationError as error:
        raise QuotaExceeded(error.messages[0]) from None


@extend_schema_field({"type": "string", "format": "binary"})
class UploadField(serializers.FileField):
    """A file part of a multipart request (drf-spectacular would describe a FileField as a URL)."""


class ProfileRefField(serializers.CharField):
    """A profile the user may pick and that can run here, by name or id; blank: the default."""

    def __init__(self, **kwargs) -> None:
        super().__init__(required=False, allow_blank=True, max_length=100, **kwargs)

    def run_validation(self, data=serializers.empty) -> EngineProfile:
        # After CharField's own checks (length, NUL characters), which expect the string.
        user = self.context["request"].user
        ref = super().run_validation(data)
        profile = selectors.profile_find_selectable(user=user, ref=ref)
        if profile is None:
            raise serializers.ValidationError(profile_refusal(user, ref))
        return profile


def profile_refusal(user, ref: str) -> str:
    names = [p.name for p in selectors.profile_list_selectable(user=user)]
    if not names:
        return "No speech model is installed yet: ask an administrator."
    return f"Unknown profile '{ref}'. Choose one of: {', '.join(names)}."


# --- jobs ----------------------------------------------------------------------------------


class JobCreateSerializer(serializers.Serializer):
    file = UploadField(required=False, help_text="One recording (or use `files`).")
    files = serializers.ListField(
        child=UploadField(), required=False, help_text="Several recordings, one job each."
    )
    profile = ProfileRefField(help_text="An engine profile's name or id; absent: the default profile.")
    hotword_lists = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**53),
        required=False,
        help_text="Ids of hotword lists to apply (your own, or shared).",
    )
    hotwords = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="Extra phrases, comma or newline separated.",
    )
    itn = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Write numbers as digits; absent: the profile's.",
    )
    language = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=16,
        help_text="The language spoken (zh, en, ...), for a profile whose model is multilingual (its "
        "`languages`); absent, empty or `auto`: the profile's setting, automatic detection unless set.",
    )
    speakers = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20,
        help_text="Tell speakers apart (diarization): `off`, `auto` (the number found), or how many people "
        "speak (1-16); or a stereo call with one side per channel, `call-agent-left` or `call-agent-right` "
        "(each channel recognised on its own, its speaker's `role` agent or customer); absent or empty: "
        "the profile's default (`diarize_default`).",
    )
    name = serializers.CharField(
        required=False, allow_blank=True, max_length=255, help_text="Display name (one file only)."
    )
    batch = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="A label to find these jobs by later."
    )
    callback_url = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=1000,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="POSTed the result when each job is done or failed.",
    )

    summarise = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="A summary template's name or id: each job's summary by the language model is asked "
        "for when it is transcribed (GET /api/v1/jobs/{id}/summary/). Only while a model is configured.",
    )

    def validate_summarise(self, value: str) -> str:
        """The template's id, or "" for none."""
        if not value:
            return ""
        user = self.context["request"].user
        if llm_selectors.connection_active(user=user) is None:
            raise serializers.ValidationError("No language model is configured: ask an administrator.")
        template = llm_selectors.template_get(user=user, template_id=value)
        if template is None:
            raise serializers.ValidationError("There is no such summary template.")
        return str(template.pk)

    quality = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=500,
        help_text="Call-check rule sets, by name or id, comma-separated: each job is checked against them "
        "when it is transcribed (GET /api/v1/jobs/{id}/checks/).",
    )

    def validate_quality(self, value: str) -> list[str]:
        """The rule sets' ids ([] for none)."""
        user = self.context["request"].user
        chosen = []
        for wanted in (part.strip() for part in value.split(",") if part.strip()):
            found = quality_selectors.rule_set_get(user=user, rule_set_id=wanted)
            if found is None:
                raise serializers.ValidationError(f"There is no such rule set: {wanted}.")
            chosen.append(str(found.pk))
        return list(dict.fromkeys(chosen))

    def validate_hotword_lists(self, ids: list[int]) -> list[HotwordList]:
        allowed = hotword_selectors.hotword_list_selectable(user=self.context["request"].user)
        found = {lst.pk: lst for lst in allowed.filter(pk__in=ids)}
        missing = [i for i in ids if i not in found]
        if missing:
            raise serializers.ValidationError(f"Hotword list {missing[0]} is not available to you.")
        return list(found.values())

    def validate_hotwords(self, text: str) -> list[str]:
        return hotword_services.typed_phrases(text)

    def validate(self, data: dict) -> dict:
        uploads = ([data.pop("file")] if data.get("file") else []) + data.pop("files", [])
        if not uploads:
            raise serializers.ValidationError({"file": "Send a recording as `file` (or several as `files`)."})
        if data.get("name") and len(uploads) > 1:
            raise serializers.ValidationError({"name": "A name is for one file; leave it out for several."})
        for upload in uploads:
            check_size(upload)
        data["uploads"] = uploads
        if "profile" not in data:
            try:
                data["profile"] = self.fields["profile"].run_validation("")  # the default
            except serializers.ValidationError as error:
                raise serializers.ValidationError({"profile": error.detail}) from None
        data["language"] = upload_language(data["profile"], data.get("language", ""))
        try:
            data["recognition"] = profiles.diarize_options(data["profile"], data.pop("speakers", ""))
        except DjangoValidationError as error:
            raise serializers.ValidationError({"speakers": error.messages}) from None
        extras = {key: value for key in ("summarise", "quality") if (value := data.pop(key, ""))}
        if extras:
            data["recognition"]["extras"] = extras
        check_quota(self.context["request"].user, uploads)
        return data


def upload_language(profile: EngineProfile, language: str, field: str = "language") -> str:
    """The profiles' rule for an upload's language, as a 400 on the field."""
    try:
        return profiles.upload_language(profile, language)
    except DjangoValidationError as error:
        raise serializers.ValidationError({field: error.messages}) from None


class JobSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField(source="original_name")
    status = serializers.ChoiceField(choices=Job.Status.choices)
    progress = serializers.FloatField(help_text="0..1: seconds of audio done over total.")
    duration = serializers.FloatField(allow_null=True, help_text="Seconds of audio, once known.")
    error = serializers.CharField()
    profile = serializers.SerializerMethodField()
    batch = serializers.SerializerMethodField()
    owner = serializers.CharField(source="owner.get_username")
    created_at = serializers.DateTimeField(source="queued_at")
    finished_at = serializers.DateTimeField(allow_null=True)
    url = serializers.SerializerMethodField()

    def get_profile(self, job: Job) -> str:
        return job.options.get("profile", "")

    def get_batch(self, job: Job) -> str:
        return job.options.get("batch", "")

    def get_url(self, job: Job) -> str:
        return self.context["request"].build_absolute_uri(reverse("api:job-detail", args=[job.id]))


class SegmentSerializer(serializers.Serializer):
    start = serializers.FloatField()
    end = serializers.FloatField()
    text = serializers.CharField()
    raw = serializers.CharField(required=False, help_text="The model's own words, where they differ.")
    speaker = serializers.CharField(
        required=False, help_text="Who said it: a key of `speakers` (diarized jobs)."
    )
    speaker_name = serializers.CharField(required=False, help_text="The name shown for that speaker.")


class SpeakerSerializer(serializers.Serializer):
    key = serializers.CharField(
        help_text='"S1", "S2"…: in order of first appearance; for a call, by channel (S1 the left).'
    )
    name = serializers.CharField(help_text='The name given, else a call side ("Agent"), else "Speaker 1"….')
    seconds = serializers.FloatField(help_text="Talk time: the length of their segments.")
    role = serializers.CharField(help_text="A call's side: `agent` or `customer`; empty otherwise.")


class CorrectionSerializer(serializers.Serializer):
    # "from" is a keyword: declared through the fields dict below.
    to = serializers.CharField()

    def get_fields(self) -> dict:
        return {"from": serializers.CharField(), **super().get_fields()}


class HotwordUsedSerializer(serializers.Serializer):
    phrase = serializers.CharField()
    weight = serializers.IntegerField()


class JobOptionsSerializer(serializers.Serializer):
    profile = serializers.CharField(required=False)
    itn = serializers.BooleanField(required=False)
    language = serializers.CharField(required=False, help_text="The language asked for; empty: automatic.")
    hotwords = HotwordUsedSerializer(many=True, required=False)
    batch = serializers.CharField(required=False)
    model = serializers.CharField(required=False, help_text="The model it ran with, once started.")
    device = serializers.CharField(required=False)


class JobDetailSerializer(JobSummarySerializer):
    engine = serializers.CharField()
    language = serializers.CharField()
    text = serializers.CharField()
    raw_text = serializers.CharField(help_text="The model's own output, before ITN and corrections.")
    segments = serializers.SerializerMethodField()
    speakers = serializers.SerializerMethodField(help_text="Who speaks (diarized jobs); empty otherwise.")
    corrections = CorrectionSerializer(many=True)
    options = serializers.SerializerMethodField()
    hotword_lists = serializers.SerializerMethodField()
    callback_url = serializers.CharField()
    size_bytes = serializers.IntegerField()
    started_at = serializers.DateTimeField(allow_null=True)
    processing_seconds = serializers.FloatField(allow_null=True)
    real_time_factor = serializers.FloatField(allow_null=True, help_text="Processing time over audio time.")

    @extend_schema_field(JobOptionsSerializer)
    def get_options(self, job: Job) -> dict:
        options = job.options
        engine = options.get("engine", {})
        summary = {k: options[k] for k in ("profile", "itn", "language", "hotwords", "batch") if k in options}
        summary.update({k: engine[k] for k in ("model", "device") if engine.get(k)})
        return JobOptionsSerializer(summary).data

    @extend_schema_field(SegmentSerializer(many=True))
    def get_segments(self, job: Job) -> list:
        shown = speakers.names(job)
        return SegmentSerializer(
            [_with_speaker_name(segment, shown) for segment in job.segments], many=True
        ).data

    @extend_schema_field(SpeakerSerializer(many=True))
    def get_speakers(self, job: Job) -> list:
        talk = [
            {"key": s.key, "name": s.name, "seconds": round(s.seconds, 3), "role": s.role}
            for s in speakers.of_job(job)
        ]
        return SpeakerSerializer(talk, many=True).data

    def get_hotword_lists(self, job: Job) -> list[int]:
        return [lst.pk for lst in job.hotword_lists.all()]


def _with_speaker_name(segment: dict, shown: dict[str, str]) -> dict:
    """The segment with its speaker's shown name; a key the job does not know is no speaker."""
    key = segment.get("speaker")
    if key in shown:
        return segment | {"speaker_name": shown[key]}
    return {k: v for k, v in segment.items() if k != "speaker"}


class JobListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Job.Status.choices, required=False)
    profile = serializers.CharField(required=False, max_length=100, help_text="A profile's name or id.")
    batch = serializers.CharField(required=False, max_length=100)
    created_after = serializers.DateTimeField(required=False, help_text="ISO 8601, inclusive.")
    created_before = serializers.DateTimeField(required=False, help_text="ISO 8601, exclusive.")
    search = serializers.CharField(
        required=False,
        max_length=200,
        help_text="Words in the name and the transcript (all of them), as the history searches.",
    )
    speaker = serializers.CharField(
        required=False,
        max_length=80,
        help_text="Part of a name given to one of the job's speakers, any case.",
    )


class ExportQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=EXPORT_FORMATS, default="txt")
    raw = serializers.BooleanField(default=False, help_text="The model's own words (not for json).")


class SpeakerRenameSerializer(serializers.Serializer):
    name = serializers.CharField(
        allow_blank=True, max_length=200, help_text="The speaker's name, for the whole job."
    )


class SpeakerMergeSerializer(serializers.Serializer):
    into = serializers.CharField(max_length=20, help_text="The key of the speaker they were all along.")


class SegmentSpeakerSerializer(serializers.Serializer):
    speaker = serializers.CharField(max_length=20, help_text="The key of the speaker who said it.")


# --- hotword lists -----------------------------------------------------------------------


class HotwordEntrySerializer(serializers.Serializer):
    phrase = serializers.CharField()
    weight = serializers.IntegerField()


class HotwordListSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    active = serializers.BooleanField(required=False, default=True)
    shared = serializers.BooleanField(
        source="is_shared", required=False, default=False, help_text="Staff only: a list for everyone."
    )
    apply_by_default = serializers.BooleanField(
        required=False, default=False, help_text="Staff, shared lists only: applied to every upload."
    )
    owner = serializers.CharField(source="owner.get_username", read_only=True, allow_null=True)
    team = serializers.CharField(
        source="team.name", read_only=True, allow_null=True, help_text="A team's list: the team's name."
    )
    team_id = serializers.IntegerField(
        write_only=True,
        required=False,
        allow_null=True,
        help_text="On creation only: one of the teams you manage, whose members then share the list.",
    )
    phrase_count = serializers.IntegerField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    phrases = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        max_length=200_000,
        help_text='One phrase per line, optionally with a weight: "Dashwood 30".',
    )

    def validate(self, data: dict) -> dict:
        user = self.context["request"].user
        if (data.get("is_shared") or data.get("apply_by_default")) and not user.is_staff:
            raise serializers.ValidationError({"shared": "Only administrators make shared lists."})
        if not user.is_staff:
            data.pop("apply_by_default", None)  # left as it is (a team's list may have it from admin)
        team = self._team(user, data.pop("team_id", None), shared=data.get("is_shared", False))
        if (
            self.instance is not None
            and data.get("is_shared", self.instance.is_shared) != self.instance.is_shared
        ):
            raise serializers.ValidationError({"shared": "A list cannot change between personal and shared."})
        shared = data.get("is_shared", self.instance.is_shared if self.instance else False)
        current = self.instance or HotwordList()
        if team is not None:
            data["team"] = team
        team = team or current.team
        candidate = HotwordList(
            pk=current.pk,
            owner=None if shared or team is not None else user,
            team=team,
            name=data.get("name", current.name),
            apply_by_default=data.get("apply_by_default", current.apply_by_default),
        )
        try:
            hotword_services.hotword_list_check(user=user, hotword_list=candidate)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from None
        return data

    def _team(self, user, team_id: int | None, *, shared: bool):
        """The team a new list is made for: one the user manages (none: personal or shared)."""
        if team_id is None:
            return None
        if self.instance is not None:
            raise serializers.ValidationError({"team_id": "A list cannot move to a team."})
        if shared:
            raise serializers.ValidationError({"team_id": "A list is shared or a team's, not both."})
        team = hotword_selectors.hotword_list_team_choices(user=user).filter(pk=team_id).first()
        if team is None:
            raise serializers.ValidationError({"team_id": "You do not manage that team."})
        return team


class HotwordListDetailSerializer(HotwordListSerializer):
    entries = HotwordEntrySerializer(many=True, read_only=True)
    phrase_count = serializers.SerializerMethodField()

    def get_phrase_count(self, hotword_list: HotwordList) -> int:
        return len(hotword_list.entries.all())  # counted from the entries: fresh after a save


# --- profiles ----------------------------------------------------------------------------


class ProfileSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    engine = serializers.CharField()
    language = serializers.CharField(help_text="Empty: automatic.")
    languages = serializers.SerializerMethodField(
        help_text="What its model transcribes; more than one: a multilingual model, and an upload may "
        "name its `language`."
    )
    itn_default = serializers.BooleanField()
    diarize_default = serializers.BooleanField(
        help_text="Uploads tell speakers apart unless they say `speakers=off`."
    )
    is_default = serializers.BooleanField()

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_languages(self, profile: EngineProfile) -> list[str]:
        return list(profiles.languages(profile))


# --- shapes of other answers -------------------------------------------------------------


class JobCreatedSerializer(serializers.Serializer):
    jobs = JobDetailSerializer(many=True)


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
