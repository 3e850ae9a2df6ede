"""LLM connections in Django admin: the API key is write-only (never rendered back, kept when the
field is left empty), and "Test the connection" asks the model for a word. Summary templates: for
everyone, or for one team's members."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from llm import services
from llm.models import LlmConnection, SummaryTemplate


class LlmConnectionForm(forms.ModelForm):
    # Not the model's field: a ModelForm would copy it onto the connection, empty when left empty.
    new_api_key = forms.CharField(
        label="API key",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Sent as a bearer token. Never shown again: leave empty to keep the current one.",
    )
    forget_key = forms.BooleanField(required=False, label="Remove the API key")

    class Meta:
        model = LlmConnection
        fields = [
            "name", "base_url", "model", "new_api_key", "forget_key", "timeout_seconds", "context_tokens",
            "max_answer_tokens", "active",
        ]  # fmt: skip

    def new_key(self) -> str | None:
        """The key to store: None keeps the current one."""
        if self.cleaned_data.get("forget_key"):
            return ""
        return self.cleaned_data.get("new_api_key") or None


@admin.register(LlmConnection)
class LlmConnectionAdmin(admin.ModelAdmin):
    form = LlmConnectionForm
    list_display = ["name", "base_url", "model", "active", "has_key", "checked_at", "check_result"]
    readonly_fields = ["checked_at", "check_error"]
    actions = ["test_connection"]

    def save_model(self, request, obj, form, change) -> None:
        services.connection_save(connection=obj, api_key=form.new_key())

    @admin.display(boolean=True, description="API key")
    def has_key(self, obj: LlmConnection) -> bool:
        return bool(obj.api_key)

    @admin.display(description="Last test")
    def check_result(self, obj: LlmConnection) -> str:
        if obj.checked_at is None:
            return "never tested"
        return obj.check_error or "answered"

    @admin.action(description="Test the connection")
    def test_connection(self, request, queryset) -> None:
        for connection in queryset:
            error = services.connection_check(connection=connection)
            if error:
                self.message_user(request, f"{connection.name}: {error}", messages.ERROR)
            else:
                self.message_user(request, f"{connection.name}: the model answered.", messages.SUCCESS)


@admin.register(SummaryTemplate)
class SummaryTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "language", "team", "active", "ordering"]
    list_filter = ["active", "team", "language"]
    list_select_related = ["team"]
    search_fields = ["name", "prompt"]
    autocomplete_fields = ["team"]
