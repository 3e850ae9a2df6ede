"""What llm adds to the upload form (transcription.forms.UPLOAD_EXTENSIONS, from LlmConfig.ready):
"Summarise when done" with a template, offered only while a language model is configured. The
choice travels in the jobs' options (options["extras"]["summarise"], a template's id); every job of
the upload, a batch's too, gets its summary asked for when it ends done (receivers.py)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from llm import selectors

FIELD = "summarise"


def upload_fields(*, user) -> dict[str, forms.Field]:
    if selectors.connection_active(user=user) is None:
        return {}
    templates = selectors.template_list(user=user)
    choices = [("", _("No")), *[(str(t.pk), t.name) for t in templates]]
    return {
        FIELD: forms.ChoiceField(
            choices=choices,
            required=False,
            label=_("Summarise when done"),
            help_text=_("Ask the language model for a summary of each file once it is transcribed."),
        )
    }
