from django.contrib import admin, messages
from django.utils.html import format_html

from transcription import audit_trail, profiles, services, upkeep
from transcription.models import EngineProfile, Job


@admin.register(EngineProfile)
class EngineProfileAdmin(admin.ModelAdmin):
    list_display = ("name", "engine", "model", "device", "queue", "is_default", "user_selectable", "status")
    list_filter = ("engine", "queue", "user_selectable")
    readonly_fields = ("status", "updated_at")
    actions = ["make_default"]
    fieldsets = [
        (None, {"fields": ["name", "description", "status", "is_default", "user_selectable"]}),
        ("Models", {"fields": ["engine", "model", "vad_model", "punc_model", "language", "itn_default"]}),
        ("Speakers", {"fields": ["diarize_default"]}),
        (
            "Running",
            {"fields": ["device", "precision", "batch_size_s", "max_segment_ms", "queue", "updated_at"]},
        ),
    ]

    @admin.display(description="Can run here")
    def status(self, profile: EngineProfile) -> str:
        readiness = profiles.readiness(profile)
        if readiness.runnable:
            return format_html('<span style="color:#127a3d">✔ installed</span>')
        return format_html('<span style="color:#b42318">✘ {}</span>', readiness.message)

    def save_model(self, request, obj: EngineProfile, form, change: bool) -> None:
        services.profile_save(profile=obj)

    @admin.action(description="Make the selected profile the default")
    def make_default(self, request, queryset) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one profile.", level=messages.ERROR)
            return
        profile = queryset.get()
        profile.is_default = True
        services.profile_save(profile=profile)
        self.message_user(request, f"'{profile.name}' is now the default profile.")


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("original_name", "owner", "status", "profile", "duration", "queued_at", "finished_at")
    list_filter = ("status", "engine", "profile")
    search_fields = ("original_name", "owner__username", "text")
    readonly_fields = [f.name for f in Job._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # jobs come from uploads, which queue them

    # Through the services, as everywhere: the recording goes with the row and a queue that
    # lost a waiting job is topped up.
    def delete_model(self, request, obj: Job) -> None:
        with audit_trail.recorded(request, "deleted", obj, detail="admin"):
            services.job_delete(job=obj)

    def delete_queryset(self, request, queryset) -> None:
        on_delete = audit_trail.recorder(request, "deleted", detail="admin")
        upkeep.jobs_delete_any(user=request.user, jobs=queryset, on_delete=on_delete)
