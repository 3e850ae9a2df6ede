"""The audit log: Django admin records every add, change and delete made through it (engine
profiles, shared hotword lists, users, allowed webhook hosts...). This makes the record
browsable and searchable by administrators, and unchangeable by anyone."""

from django.contrib import admin
from django.contrib.admin.models import LogEntry


@admin.register(LogEntry)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ("action_time", "user", "content_type", "object_repr", "action_flag", "change_message")
    list_filter = ("action_flag", "content_type")
    search_fields = ("object_repr", "change_message", "user__username")
    date_hierarchy = "action_time"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
