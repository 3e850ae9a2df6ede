"""Quotas in the admin, and the staff-only usage page beside them (/admin/quotas/quota/usage/,
linked from the quotas' list): audio and jobs per team and per user over the last days or months,
from the ledger, as a table or CSV."""

from __future__ import annotations

import csv
import io

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from quotas import periods, selectors
from quotas.forms import UsagePeriodForm
from quotas.models import Quota


@admin.register(Quota)
class QuotaAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "stored_audio_mb",
        "hours_per_day",
        "hours_per_month",
        "jobs_waiting",
        "updated_at",
    ]
    autocomplete_fields = ["user", "team"]
    search_fields = ["user__username", "team__name"]
    fieldsets = [
        (
            None,
            {
                "fields": ["user", "team"],
                "description": gettext_lazy(
                    "Leave both empty for the default quota: it applies to every user without one of "
                    "their own. A team's quota is checked against the combined usage of its members."
                ),
            },
        ),
        (
            gettext_lazy("Limits (empty: no limit)"),
            {"fields": ["stored_audio_mb", "hours_per_day", "hours_per_month", "jobs_waiting"]},
        ),
    ]

    def get_urls(self):
        usage = self.admin_site.admin_view(self.usage_view)  # staff only; others go to the log-in
        return [path("usage/", usage, name="quotas_usage"), *super().get_urls()]

    def usage_view(self, request: HttpRequest) -> HttpResponse:
        form = UsagePeriodForm(request.GET or None)
        unit, count = form.period()
        rows = selectors.usage_report(user=request.user, unit=unit, count=count)
        if request.GET.get("format") == "csv":
            return _csv(rows, unit)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Usage"),
            "form": form,
            "rows": rows,
            "unit": unit,
            "count": count,
        }
        return TemplateResponse(request, "admin/quotas/usage.html", context)


def _csv(rows: list[selectors.UsageRow], unit: str) -> HttpResponse:
    """The table as CSV, UTF-8 with a byte-order mark so that spreadsheet programs read names right."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [_("Period"), _("Kind"), _("Name"), _("Hours of audio"), _("Seconds of audio"), _("Jobs")]
    )
    for row in rows:
        period = row.period.isoformat() if unit == periods.DAY else row.period.strftime("%Y-%m")
        kind = _("Team") if row.kind == "team" else _("User")
        writer.writerow([period, kind, row.name, f"{row.hours:.3f}", f"{row.seconds:.1f}", row.jobs])
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="usage-{unit}s.csv"'
    return response
