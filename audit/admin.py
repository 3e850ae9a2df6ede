"""The audit log in Django admin: read by staff, filtered, searched, exported as CSV, and changed
by nobody (no add, change or delete, superusers included: a log its readers can edit proves
nothing)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import path
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit import selectors
from audit.models import AuditEvent

BOM = "\ufeff"  # Excel reads a CSV as UTF-8 (Chinese names intact) only after this mark
# A cell starting with one of these is a formula to a spreadsheet; job names are users' file names.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("when", "who", "action", "job_name", "whose", "detail", "via")
    list_filter = ("action", "when", "via")
    search_fields = ("actor_username", "owner_username", "job_name")
    date_hierarchy = "when"
    list_per_page = 100
    change_list_template = "admin/audit/auditevent/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEvent]:
        return selectors.audit_search(user=request.user)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=gettext_lazy("who"), ordering="actor_username")
    def who(self, event: AuditEvent) -> str:
        return event.actor_username

    @admin.display(description=gettext_lazy("owner"), ordering="owner_username")
    def whose(self, event: AuditEvent) -> str:
        return event.owner_username

    def get_urls(self):
        export = path(
            "export.csv", self.admin_site.admin_view(self.export_csv), name="audit_auditevent_export"
        )
        return [export, *super().get_urls()]

    def export_csv(self, request: HttpRequest) -> HttpResponse:
        """The changelist as filtered now (same query string: filters, search, dates, order), as CSV."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            events = self.get_changelist_instance(request).queryset
        except IncorrectLookupParameters:
            return HttpResponseBadRequest(_("Unknown filter."))
        # Made whole, not streamed: under ASGI a plain iterator would be read to the end before
        # sending anyway, and in another thread than the request's database connection.
        body = "".join(_csv_lines(events.iterator(chunk_size=2000)))
        response = HttpResponse(body.encode(), content_type="text/csv; charset=utf-8")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = content_disposition_header(True, f"audit-{stamp}.csv")
        return response


class _Line:
    """csv.writer's file: each row written comes back as the text of one line."""

    def write(self, text: str) -> str:
        return text


def _csv_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    writer = csv.writer(_Line())
    header = [_("when"), _("who"), _("action"), _("job id"), _("job name"), _("owner"), _("detail"), _("via")]
    yield BOM + writer.writerow(header)
    for event in events:
        row = [
            timezone.localtime(event.when).isoformat(timespec="seconds"),
            event.actor_username,
            event.get_action_display(),
            str(event.job_id),
            event.job_name,
            event.owner_username,
            event.detail,
            event.get_via_display(),
        ]
        yield writer.writerow([_inert(cell) for cell in row])


def _inert(cell: str) -> str:
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell
