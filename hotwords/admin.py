"""Hotword lists in Django admin: where shared lists and teams' lists are made and edited.

Entries are edited as one "Phrases" textarea (pasted, or imported from a file) rather than an
inline, and every save goes through `services.hotword_list_save`, so a list is saved whole or not
at all. HotwordEntry is not registered on its own: entries only make sense inside their list.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from hotwords import selectors, services
from hotwords.forms import HotwordListAdminForm
from hotwords.models import HotwordList
from hotwords.views import text_download

USED_BY_SHOWN = 50


class KindFilter(admin.SimpleListFilter):
    title = "kind"
    parameter_name = "kind"

    def lookups(self, request, model_admin) -> list[tuple[str, str]]:
        return [("shared", "Shared"), ("team", "Team"), ("personal", "Personal")]

    def queryset(self, request, queryset: QuerySet[HotwordList]) -> QuerySet[HotwordList]:
        if self.value() == "shared":
            return queryset.filter(owner=None, team=None)
        if self.value() == "team":
            return queryset.exclude(team=None)
        if self.value() == "personal":
            return queryset.exclude(owner=None)
        return queryset


def lists_as_text(hotword_lists: list[HotwordList]) -> str:
    """Several lists in one file, each after a "# <list name>" line, separated by a blank line."""
    return "\n".join(f"# {hotword_list.name}\n{hotword_list.as_text()}" for hotword_list in hotword_lists)


@admin.register(HotwordList)
class HotwordListAdmin(admin.ModelAdmin):
    form = HotwordListAdminForm
    list_display = ("name", "owner_or_shared", "team", "active", "apply_by_default", "phrase_count")
    list_filter = ("active", KindFilter, "team", "apply_by_default")
    search_fields = ("name", "description", "owner__username", "team__name", "entries__phrase")
    list_select_related = ("owner", "team")
    autocomplete_fields = ("team",)
    readonly_fields = ("used_by_jobs", "updated_at")
    fields = (
        "name",
        "description",
        "owner",
        "team",
        "active",
        "apply_by_default",
        "phrases",
        "import_file",
        "used_by_jobs",
        "updated_at",
    )
    actions = ["export_as_text"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[HotwordList]:
        # distinct: a search on phrases joins the entries a second time, multiplying the rows.
        return super().get_queryset(request).annotate(phrase_count=Count("entries", distinct=True))

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None):
        hotword_list = super().get_object(request, object_id, from_field)
        if hotword_list is not None:
            # Read-only fields get only the object; "Used by jobs" reads through a selector,
            # which is scoped to the user asking.
            hotword_list.viewer = request.user
        return hotword_list

    def get_form(self, request: HttpRequest, obj=None, change: bool = False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        # The form's name check is a selector, scoped to the user asking: a class per request,
        # as Django admin itself builds one, so that no request is shared between threads.
        return type(form.__name__, (form,), {"user": request.user})

    @admin.display(description="Owner", ordering="owner__username")
    def owner_or_shared(self, hotword_list: HotwordList) -> str:
        if hotword_list.is_team:
            return "team"
        return "shared" if hotword_list.is_shared else str(hotword_list.owner)

    @admin.display(description="Phrases", ordering="phrase_count")
    def phrase_count(self, hotword_list: HotwordList) -> int:
        return hotword_list.phrase_count

    @admin.display(description="Used by jobs")
    def used_by_jobs(self, hotword_list: HotwordList) -> str:
        viewer = getattr(hotword_list, "viewer", None)
        if hotword_list.pk is None or viewer is None:
            return "–"
        jobs, total = selectors.hotword_list_used_by(
            user=viewer, hotword_list=hotword_list, limit=USED_BY_SHOWN
        )
        if not total:
            return "No job has used this list yet."
        links = format_html_join(
            "",
            '<li><a href="{}">{}</a> · {} · {}</li>',
            (
                (
                    reverse("admin:transcription_job_change", args=[job.pk]),
                    job.original_name,
                    job.owner,
                    job.queued_at.strftime("%Y-%m-%d %H:%M"),
                )
                for job in jobs
            ),
        )
        shown = f"the newest {len(jobs)} of " if total > len(jobs) else ""
        return format_html("<p>{}{} job(s) in all.</p><ul>{}</ul>", shown, total, links)

    def save_model(self, request: HttpRequest, obj: HotwordList, form, change: bool) -> None:
        services.hotword_list_save(hotword_list=obj, entries_text=form.cleaned_data["phrases"])

    def delete_model(self, request: HttpRequest, obj: HotwordList) -> None:
        services.hotword_list_delete(hotword_list=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[HotwordList]) -> None:
        for hotword_list in queryset:
            services.hotword_list_delete(hotword_list=hotword_list)

    @admin.action(description="Export as text")
    def export_as_text(self, request: HttpRequest, queryset: QuerySet[HotwordList]) -> HttpResponse:
        hotword_lists = list(queryset.prefetch_related("entries"))
        if len(hotword_lists) == 1:
            return text_download(f"{hotword_lists[0].name}.txt", hotword_lists[0].as_text())
        return text_download("hotword-lists.txt", lists_as_text(hotword_lists))
