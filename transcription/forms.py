"""The pages' forms: uploads and the history's filters. They parse and check; the rules an upload
must meet are the services' (the API's serializers call the same ones)."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from hotwords import selectors as hotword_selectors
from hotwords import services as hotword_services
from hotwords.models import HotwordList
from transcription import languages, profiles, quotas, selectors, services
from transcription.models import EngineProfile, Job


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        files = [f for f in files if f]
        if not files:
            raise forms.ValidationError(_("Choose at least one audio or video file."))
        return [self._clean_one(f) for f in files]

    def _clean_one(self, upload):
        # Emptiness is reported by the worker as a failed job, like any undecodable file;
        # the size limit is known here, so say it now rather than after the upload is stored.
        services.upload_check_size(upload)
        return upload


ITN_CHOICES = [
    ("", _("As the profile says")),
    ("on", _("On: write numbers as digits")),
    ("off", _("Off: keep words")),
]


SPEAKER_CHOICES = [
    ("", _("As the model's profile says")),
    ("off", _("Off: one voice")),
    ("auto", _("On: find how many")),
    *[(str(n), _("%(count)d people") % {"count": n}) for n in range(2, 9)],
    ("call-agent-left", _("A call, one side per channel: agent left, customer right")),
    ("call-agent-right", _("A call, one side per channel: customer left, agent right")),
]


# Other apps add choices to the upload form from their AppConfig.ready, so that transcription never
# imports them: each is a callable (user=) -> {name: form field}; a value chosen for one is kept in
# the jobs' options as options["extras"][name], for that app to read when the job ends.
UPLOAD_EXTENSIONS: list[Callable[..., dict[str, forms.Field]]] = []


def register_upload_extension(fields: Callable[..., dict[str, forms.Field]]) -> None:
    """Add `fields` (user=) -> {name: field} to the upload form, once however often it is called."""
    if fields not in UPLOAD_EXTENSIONS:
        UPLOAD_EXTENSIONS.append(fields)


class UploadForm(forms.Form):
    files = MultipleFileField(label=_("Audio or video files"))
    profile = forms.ModelChoiceField(
        queryset=EngineProfile.objects.none(),
        label=_("Model"),
        required=False,  # none given: the default profile
        empty_label=None,
        error_messages={"invalid_choice": _("That model is not available; choose another.")},
    )
    itn = forms.ChoiceField(choices=ITN_CHOICES, required=False, label=_("Numbers, dates and money"))
    language = forms.ChoiceField(
        required=False,
        label=_("Language"),
        help_text=_("For a multilingual model: the language spoken, or automatic detection."),
    )
    speakers = forms.ChoiceField(
        choices=SPEAKER_CHOICES,
        required=False,
        label=_("Speakers"),
        help_text=_(
            "Tell who spoke when. Give the number of people if you know it. For a stereo call "
            "recording with one side on each channel, say which side the agent is on."
        ),
    )
    hotword_lists = forms.ModelMultipleChoiceField(
        queryset=HotwordList.objects.none(),
        required=False,
        label=_("Hotword lists"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("That hotword list is not available to you.")},
    )
    batch = forms.CharField(
        required=False,
        max_length=100,
        label=_("Batch name"),
        help_text=_("Optional: name this group of files to follow and export them together."),
    )
    hotwords = forms.CharField(
        required=False,
        max_length=2000,
        label=_("Hotwords"),
        help_text=_("Names and terms to favour, separated by commas or new lines."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        selectable = selectors.profile_list_selectable(user=user)
        field = self.fields["profile"]
        field.queryset = EngineProfile.objects.filter(pk__in=[p.pk for p in selectable])
        self.default_profile = selectors.profile_default(user=user, interface_language=get_language() or "")
        field.initial = self.default_profile
        field.help_text = " · ".join(f"{p.name}: {p.description}" for p in selectable if p.description)
        # A language is offered only for profiles whose model is multilingual (the page's script
        # shows the choice for those alone); the picked profile must know the language picked.
        spoken = {p.pk: profiles.languages(p) for p in selectable}
        self.multilingual = [pk for pk, codes in spoken.items() if len(codes) > 1]
        codes = dict.fromkeys(code for pk in self.multilingual for code in spoken[pk])
        self.fields["language"].choices = [("", _("Automatic")), *languages.choices(codes)]
        self.fields["hotword_lists"].queryset = hotword_selectors.hotword_list_selectable(user=user)
        self.always_applied = list(hotword_selectors.hotword_list_applied_by_default(user=user))
        self.extension_fields = [
            name for extend in UPLOAD_EXTENSIONS for name in self._extend(extend(user=user))
        ]

    def _extend(self, fields: dict[str, forms.Field]) -> list[str]:
        self.fields.update(fields)
        return list(fields)

    @property
    def extension_bound_fields(self) -> list:
        return [self[name] for name in self.extension_fields]

    def clean_profile(self) -> EngineProfile:
        profile = self.cleaned_data["profile"] or self.default_profile
        if profile is None:
            raise forms.ValidationError(_("No speech model is installed yet: ask an administrator."))
        return profile

    def clean(self) -> dict:
        data = super().clean()
        if data.get("profile") and data.get("language"):
            try:
                data["language"] = profiles.upload_language(data["profile"], data["language"])
            except ValidationError as error:
                self.add_error("language", error)
        if data.get("profile"):
            data["recognition"] = profiles.diarize_options(data["profile"], data.get("speakers", ""))
            extras = {name: data[name] for name in self.extension_fields if data.get(name)}
            if extras:
                data["recognition"]["extras"] = extras
        if data.get("files") and not self.errors:  # last: it may read the files' headers
            try:
                quotas.quota_check(user=self.user, uploads=data["files"])
            except ValidationError as error:
                self.add_error("files", error)
        return data

    def clean_itn(self) -> bool | None:
        return {"on": True, "off": False}.get(self.cleaned_data["itn"])

    def clean_hotwords(self) -> list[str]:
        return hotword_services.typed_phrases(self.cleaned_data["hotwords"])


MAX_DAYS = 36_500


class HistoryFilterForm(forms.Form):
    q = forms.CharField(required=False, label=_("Search"), strip=True)
    status = forms.ChoiceField(
        choices=[("", _("Any status")), *Job.Status.choices],
        required=False,
        label=_("Status"),
    )
    profile = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label=_("Model"))
    batch = forms.CharField(required=False, max_length=100, label=_("Batch"))
    speaker = forms.CharField(required=False, max_length=80, label=_("Speaker"))
    date_from = forms.DateField(
        required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(required=False, label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    scope = forms.ChoiceField(
        choices=[("", _("Mine and shared with me")), ("mine", _("Mine")), ("shared", _("Shared with me"))],
        required=False,
        label=_("Whose"),
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        profiles = selectors.history_profile_choices(user=user)
        self.fields["profile"].choices = [("", _("Any model"))] + [(p.pk, p.name) for p in profiles]

    def filters(self) -> dict:
        """The valid filters only: a malformed date or an unknown choice is ignored, not fatal."""
        self.is_valid()
        data = self.cleaned_data
        return {
            "query": data.get("q") or "",
            "status": data.get("status") or "",
            "profile": data.get("profile"),
            "batch": data.get("batch") or "",
            "speaker": data.get("speaker") or "",
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
            "scope": data.get("scope") or "",
        }


class ClearForm(forms.Form):
    days = forms.IntegerField(min_value=1, max_value=MAX_DAYS, label=_("Older than (days)"))
