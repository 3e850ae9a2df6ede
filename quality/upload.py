"""What quality adds to the upload form (transcription.forms.UPLOAD_EXTENSIONS): "Check calls
against" rule sets (one or more), offered while there are some. Each job of the upload, a batch's
too, is checked when it ends done (receivers.py); the batch's report: /quality/batches/<batch>/."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from quality import selectors

FIELD = "quality"


def upload_fields(*, user) -> dict[str, forms.Field]:
    rule_sets = selectors.rule_set_list(user=user)
    if not rule_sets:
        return {}
    return {
        FIELD: forms.MultipleChoiceField(
            choices=[(str(r.pk), r.name) for r in rule_sets],
            required=False,
            widget=forms.CheckboxSelectMultiple,
            label=_("Check calls against"),
            help_text=_("Check each transcript for what an agent must say, and must not."),
        )
    }
