from __future__ import annotations

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        files = [f for f in files if f]
        if not files:
            raise forms.ValidationError("Choose at least one audio or video file.")
        return [self._clean_one(f) for f in files]

    def _clean_one(self, upload):
        # Emptiness is reported by the worker as a failed job, like any undecodable file;
        # the size limit is known here, so say it now rather than after the upload is stored.
        if upload.size > settings.UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                f"{upload.name} is {filesizeformat(upload.size)}; "
                f"the limit is {filesizeformat(settings.UPLOAD_MAX_BYTES)}."
            )
        return upload


class UploadForm(forms.Form):
    files = MultipleFileField(label="Audio or video files")
    hotwords = forms.CharField(
        required=False,
        max_length=2000,
        label="Hotwords",
        help_text="Names and terms to favour, separated by commas or new lines.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_hotwords(self) -> list[str]:
        raw = self.cleaned_data["hotwords"].replace("\n", ",")
        return [w.strip() for w in raw.split(",") if w.strip()][:200]
