from __future__ import annotations

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from hotwords import selectors as hotword_selectors
from hotwords.models import HotwordList
from transcription import selectors
from transcription.models import EngineProfile


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
        if upload.size > settings.UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                gettext("%(name)s is %(size)s; the limit is %(limit)s.")
                % {
                    "name": upload.name,
                    "size": filesizeformat(upload.size),
                    "limit": filesizeformat(settings.UPLOAD_MAX_BYTES),
                }
            )
        return upload


ITN_CHOICES = [
    ("", _("As the profile says")),
    ("on", _("On: write numbers as digits")),
    ("off", _("Off: keep words")),
]


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
        selectable = selectors.profile_list_selectable(user=user)
        field = self.fields["profile"]
        field.queryset = EngineProfile.objects.filter(pk__in=[p.pk for p in selectable])
        self.default_profile = selectors.profile_default(user=user)
        field.initial = self.default_profile
        field.help_text = " · ".join(f"{p.name}: {p.description}" for p in selectable if p.description)
        self.fields["hotword_lists"].queryset = hotword_selectors.hotword_list_selectable(user=user)
        self.always_applied = list(hotword_selectors.hotword_list_applied_by_default())

    def clean_profile(self) -> EngineProfile:
        profile = self.cleaned_data["profile"] or self.default_profile
        if profile is None:
            raise forms.ValidationError(_("No speech model is installed yet: ask an administrator."))
        return profile

    def clean_itn(self) -> bool | None:
        return {"on": True, "off": False}.get(self.cleaned_data["itn"])

    def clean_hotwords(self) -> list[str]:
        raw = self.cleaned_data["hotwords"].replace("\n", ",")
        return [w.strip() for w in raw.split(",") if w.strip()][:200]
