"""API tokens in Django admin: who has which, and revoking them. Tokens are made by their users
at /tokens/ (the plain token is shown once, there); admin never sees a secret or its hash."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from api import services
from api.models import TOKEN_PREFIX, ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "shown_prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    list_filter = ("revoked_at", "expires_at")
    search_fields = ("name", "prefix", "user__username")
    list_select_related = ("user",)
    fields = ("name", "user", "shown_prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    readonly_fields = fields
    actions = ["revoke"]

    @admin.display(description="Token", ordering="prefix")
    def shown_prefix(self, token: ApiToken) -> str:
        return f"{TOKEN_PREFIX}_{token.prefix}_…"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a token's secret must reach its user only: they make it themselves

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.action(description="Revoke selected tokens", permissions=["delete"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        revoked = sum(services.token_revoke(token=token) for token in queryset)
        messages.success(request, f"Revoked {revoked} token(s).")
