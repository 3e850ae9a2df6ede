"""Forms for hotword lists: the portal's (a user's own lists) and Django admin's (any list)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from hotwords import selectors, services
from hotwords.models import DEFAULT_WEIGHT, MAX_ENTRIES, MAX_WEIGHT, MIN_WEIGHT, HotwordList


def _phrases_help() -> str:
    return gettext(
        "One phrase per line, optionally followed by a weight from %(min)d to %(max)d "
        "(default %(default)d), e.g. “星火计划 30” or “ill disposed”. A phrase that ends in a number "
        "needs its weight written out (“Windows 11 20”). At most %(most)d phrases."
    ) % {"min": MIN_WEIGHT, "max": MAX_WEIGHT, "default": DEFAULT_WEIGHT, "most": MAX_ENTRIES}


# Lazy: the help text is built in the language of the page that shows it.
PHRASES_HELP = lazy(_phrases_help, str)()
# Far above MAX_ENTRIES full-length lines: the cap only keeps a pasted novel out of memory.
MAX_PHRASES_CHARS = 200_000
MAX_IMPORT_BYTES = 1024 * 1024


def phrases_field() -> forms.CharField:
    return forms.CharField(
        label=_("Phrases"),
        required=False,  # an empty list is allowed: it can be filled later
        strip=False,  # line numbers in messages must match what the user typed
        max_length=MAX_PHRASES_CHARS,
        help_text=PHRASES_HELP,
        widget=forms.Textarea(attrs={"rows": 16, "class": "phrases", "spellcheck": "false"}),
    )


class HotwordListForm(forms.ModelForm):
    """A user's own list, or a list of a team they manage, in the portal: owner and
    apply_by_default are not fields, so a post can never hand the list to someone else or make it
    apply to every upload. A new list may go to one of the teams the user manages (`team`, offered
    only to managers); a list never moves between a person and a team afterwards."""

    phrases = phrases_field()
    team = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label=_("Team"),
        empty_label=_("Only me"),
        help_text=_("A team's list is offered to all its members at upload; its managers edit it."),
    )

    class Meta:
        model = HotwordList
        fields = ["name", "description", "active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        labels = {"name": _("Name"), "description": _("Description"), "active": _("Active")}

    def __init__(self, *args, user, instance: HotwordList | None = None, **kwargs) -> None:
        super().__init__(*args, instance=instance or HotwordList(owner=user), **kwargs)
        self.user = user
        if self.instance.pk:
            self.initial.setdefault("phrases", self.instance.as_text())
        teams = selectors.hotword_list_team_choices(user=user)
        if self.instance.pk or not teams.exists():
            del self.fields["team"]
        else:
            self.fields["team"].queryset = teams

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("team") is not None:  # a new list for a team the user manages
            self.instance.owner, self.instance.team = None, cleaned["team"]
        if cleaned.get("name"):
            candidate = HotwordList(
                pk=self.instance.pk,
                owner=self.instance.owner,
                team=self.instance.team,
                name=cleaned["name"],
            )
            add_rule_errors(self, user=self.user, candidate=candidate)
        return cleaned

    def clean_phrases(self) -> str:
        text = self.cleaned_data["phrases"]
        services.parse_entries(text)  # its ValidationError holds every problem, one message per line
        return text

    def add_save_errors(self, error: ValidationError) -> None:
        """Show what the save service refused: on the field it names when the form has it, else
        on the form; its per-line messages (a plain list) belong to Phrases."""
        if not hasattr(error, "error_dict"):
            self.add_error("phrases", error)
            return
        for field, errors in error.error_dict.items():
            self.add_error(field if field in self.fields else None, errors)


class HotwordListAdminForm(forms.ModelForm):
    """Any list, in Django admin: phrases pasted or imported from a file, checked here line by
    line so that save_model's service call cannot fail on them."""

    # Set per request by the admin (get_form): the name check is a selector, which needs it.
    user = None

    phrases = phrases_field()
    import_file = forms.FileField(
        label=_("Or import a file"),
        required=False,
        help_text=_("A UTF-8 .txt file in the same format (an export, say); it replaces the Phrases box."),
    )

    class Meta:
        model = HotwordList
        fields = ["name", "description", "owner", "team", "active", "apply_by_default"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault("phrases", self.instance.as_text())

    def clean_import_file(self) -> str | None:
        upload = self.cleaned_data["import_file"]
        if not upload:
            return None
        if upload.size > MAX_IMPORT_BYTES:
            raise ValidationError(
                gettext("The file is larger than %(kb)d KB.") % {"kb": MAX_IMPORT_BYTES // 1024}
            )
        try:
            return upload.read().decode("utf-8-sig")  # -sig: Windows editors start with a BOM
        except UnicodeDecodeError:
            raise ValidationError(gettext("The file is not UTF-8 text.")) from None

    def clean(self) -> dict:
        cleaned = super().clean()
        imported = cleaned.get("import_file")
        if imported is not None:
            cleaned["phrases"] = imported
        if "phrases" in cleaned:
            field = "import_file" if imported is not None else "phrases"
            self._check_phrases(cleaned["phrases"], field=field)
        if cleaned.get("name") and "owner" in cleaned and "team" in cleaned:
            candidate = HotwordList(
                pk=self.instance.pk,
                owner=cleaned["owner"],
                team=cleaned["team"],
                name=cleaned["name"],
                apply_by_default=cleaned.get("apply_by_default", False),
            )
            add_rule_errors(self, user=self.user, candidate=candidate)
        return cleaned

    def _check_phrases(self, text: str, *, field: str) -> None:
        try:
            services.parse_entries(text)
        except ValidationError as error:
            self.add_error(field, error)  # every problem, one message per line


def add_rule_errors(form: forms.Form, *, user, candidate: HotwordList) -> None:
    """The save rules of hotwords.services (a free name, who may apply to every upload) as the
    form's errors, on the fields they name."""
    try:
        services.hotword_list_check(user=user, hotword_list=candidate)
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            form.add_error(field, messages)
