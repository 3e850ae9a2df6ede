"""The usage page's choice of period."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from quotas import periods

MAX_PERIODS = 366


class UsagePeriodForm(forms.Form):
    unit = forms.ChoiceField(
        choices=[(periods.DAY, _("Days")), (periods.MONTH, _("Months"))], required=False, label=_("By")
    )
    count = forms.IntegerField(min_value=1, max_value=MAX_PERIODS, required=False, label=_("Last"))

    def period(self) -> tuple[str, int]:
        """(unit, count): what was asked when valid, else the last 14 days."""
        if not self.is_valid():
            return periods.DAY, 14
        return self.cleaned_data["unit"] or periods.DAY, self.cleaned_data["count"] or 14
