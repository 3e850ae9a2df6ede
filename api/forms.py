from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

MAX_EXPIRY_DAYS = 3650


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100, label=_("Name"), help_text=_("What the token is for, e.g. “nightly import”.")
    )
    expires_in_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_EXPIRY_DAYS,
        label=_("Expires after (days)"),
        help_text=_("Empty: never expires. You can revoke a token at any time."),
    )
    default_callback_url = forms.URLField(
        required=False,
        max_length=1000,
        assume_scheme="https",
        label=_("Default webhook URL"),
        help_text=_(
            "Optional: jobs created with this token are POSTed here when they end, unless they name "
            "another. The host must be on the administrators' allow list."
        ),
    )
