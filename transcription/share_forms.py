"""The job page's sharing form: with one of the owner's teams or with a colleague by user name."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from teams import selectors as team_selectors


class ShareForm(forms.Form):
    ACCESS = [("read", _("can read")), ("edit", _("can read and correct"))]

    team = forms.ModelChoiceField(
        queryset=None, required=False, label=_("Team"), empty_label=_("— no team —")
    )
    colleague = forms.CharField(required=False, max_length=150, label=_("or a colleague (user name)"))
    access = forms.ChoiceField(choices=ACCESS, initial="read", label=_("Access"))
    whole_batch = forms.BooleanField(required=False, label=_("the whole batch"))

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["team"].queryset = team_selectors.team_list(user=user)

    def clean(self) -> dict:
        data = super().clean()
        team, name = data.get("team"), (data.get("colleague") or "").strip()
        if bool(team) == bool(name):
            raise ValidationError(_("Choose one team, or give one colleague's user name."))
        if name:
            data["colleague"] = team_selectors.colleague_find(user=self.user, username=name)
            if data["colleague"] is None:
                raise ValidationError(_("Nobody else here has the user name “%(name)s”.") % {"name": name})
        else:
            data["colleague"] = None
        data["can_edit"] = data.get("access") == "edit"
        return data
