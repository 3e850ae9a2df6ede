from django.contrib import admin

from transcription.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("original_name", "owner", "status", "engine", "duration", "queued_at", "finished_at")
    list_filter = ("status", "engine")
    search_fields = ("original_name", "owner__username", "text")
    readonly_fields = [f.name for f in Job._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # jobs come from uploads, which queue them
