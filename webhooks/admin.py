"""Webhooks in Django admin: the allow list (editable), deliveries with their attempts
(read-only, "Retry now"), and users' signing secrets (read-only, "Rotate")."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from webhooks import services
from webhooks.models import AllowedCallbackHost, WebhookAttempt, WebhookDelivery, WebhookSecret


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows made by the portal itself: viewable, never added or edited here."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(AllowedCallbackHost)
class AllowedCallbackHostAdmin(admin.ModelAdmin):
    list_display = ("host", "port", "note", "created_at")
    search_fields = ("host", "note")
    fields = ("host", "port", "note")

    def save_model(self, request: HttpRequest, obj: AllowedCallbackHost, form, change: bool) -> None:
        services.allowed_host_save(allowed_host=obj)


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ("number", "started_at", "duration_ms", "status_code", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("id", "event", "url", "user", "status", "attempts", "last_status_code", "created_at")
    list_filter = ("status", "event")
    search_fields = ("url", "user__username", "last_error")
    list_select_related = ("user",)
    readonly_fields = [
        "job",
        "user",
        "url",
        "event",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "payload",
        "created_at",
        "updated_at",
    ]
    fields = readonly_fields
    inlines = [WebhookAttemptInline]
    actions = ["retry_now"]

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("webhooks.change_webhookdelivery")

    @admin.action(description="Retry now", permissions=["retry"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        queued, refused = services.delivery_retry(user=request.user, deliveries=queryset)
        self.message_user(request, f"{queued} delivery(ies) queued for an attempt now.")
        if refused:
            self.message_user(
                request, f"{refused} refused: their URL is not allowed (see Last error).", messages.WARNING
            )


@admin.register(WebhookSecret)
class WebhookSecretAdmin(ReadOnlyAdmin):
    list_display = ("user", "masked", "created_at", "rotated_at")
    search_fields = ("user__username",)
    list_select_related = ("user",)
    readonly_fields = ("user", "secret", "created_at", "rotated_at")
    fields = readonly_fields
    actions = ["rotate"]

    @admin.display(description="Secret")
    def masked(self, webhook_secret: WebhookSecret) -> str:
        return webhook_secret.secret[:10] + "…"

    def has_rotate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("webhooks.change_webhooksecret")

    @admin.action(description="Rotate the selected secrets", permissions=["rotate"])
    def rotate(self, request: HttpRequest, queryset: QuerySet[WebhookSecret]) -> None:
        users = [webhook_secret.user for webhook_secret in queryset.select_related("user")]
        for user in users:
            services.secret_rotate(user=user)
        self.message_user(request, f"{len(users)} secret(s) rotated: receivers need the new one.")
