"""A batch's call-check report (calls × rules, totals, failed only, CSV) and its re-check after a rule
changed. Each view parses, calls one service or selector, and renders; another user's batch is empty."""

from __future__ import annotations

import csv
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from quality import selectors, services
from transcription import selectors as job_selectors


def _report(request: HttpRequest, batch: str):
    rule_sets = selectors.rule_set_list(user=request.user)
    rule_set = selectors.rule_set_get(user=request.user, rule_set_id=request.GET.get("rules")) or (
        rule_sets[0] if rule_sets else None
    )
    if rule_set is None:
        raise Http404("No rule set.")
    rows = selectors.batch_checks(user=request.user, batch=batch, rule_set=rule_set)
    if not rows:
        raise Http404("No such batch.")
    return rule_sets, rule_set, rows


@login_required
@require_GET
def batch_report(request: HttpRequest, batch: str) -> HttpResponse:
    rule_sets, rule_set, rows = _report(request, batch)
    failed_only = request.GET.get("failed") == "1"
    rules = list(rule_set.rules.all())
    table = [
        (job, check, {r["rule"]: r for r in check.results} if check else {})
        for job, check in rows
        if not failed_only or (check is not None and not check.passed)
    ]
    totals = [
        (rule, sum(1 for _, c, by in table if c and by.get(rule.pk, {}).get("passed"))) for rule in rules
    ]
    context = {
        "batch": batch, "rule_sets": rule_sets, "rule_set": rule_set, "rules": rules, "table": table,
        "totals": totals, "failed_only": failed_only,
        "passed": sum(1 for _, c, _ in table if c and c.passed), "checked": sum(1 for _, c, _ in table if c),
    }  # fmt: skip
    return render(request, "quality/batch_report.html", context)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
@require_GET
def batch_report_file(request: HttpRequest, batch: str, fmt: str) -> HttpResponse:
    """The report as CSV (UTF-8 with a BOM, so that Excel reads Chinese) or as XLSX."""
    _, rule_set, rows = _report(request, batch)
    table = _rows(rule_set, rows)
    if fmt == "xlsx":
        response = HttpResponse(_xlsx(table, title=rule_set.name), content_type=XLSX)
    else:
        out = io.StringIO()
        csv.writer(out).writerows(table)
        response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"{batch}-{rule_set.name}-checks.{fmt}"
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


def _rows(rule_set, rows) -> list[list]:
    rules = list(rule_set.rules.all())
    table: list[list] = [["file", "job", "checked", "passed", *[rule.label for rule in rules]]]
    for job, check in rows:
        by_rule = {r["rule"]: r for r in check.results} if check else {}
        overall = _verdict({"passed": check.passed} if check else None)
        verdicts = [_verdict(by_rule.get(rule.pk)) for rule in rules]
        table.append([job.original_name, str(job.pk), "yes" if check else "no", overall, *verdicts])
    return table


def _xlsx(table: list[list], *, title: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "".join(c for c in title if c not in "[]:*?/\\")[:31] or "checks"
    for row in table:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _verdict(result: dict | None) -> str:
    if not result:
        return ""
    return "pass" if result["passed"] else "fail"


@login_required
@require_POST
def batch_recheck(request: HttpRequest, batch: str) -> HttpResponse:
    rule_set = selectors.rule_set_get(user=request.user, rule_set_id=request.POST.get("rules"))
    jobs = list(selectors.batch_jobs(user=request.user, batch=batch))
    if rule_set is None or not jobs:
        raise Http404("No such batch or rule set.")
    checked = services.check_jobs(jobs=jobs, rule_set=rule_set)
    messages.success(request, _("%(count)d call(s) checked.") % {"count": len(checked)})
    return redirect(reverse("quality_batch_report", args=[batch]) + f"?rules={rule_set.pk}")


@login_required
@require_GET
def job_checks(request: HttpRequest, job_id) -> HttpResponse:
    """A call's transcript with what each rule heard highlighted, and each rule's verdict."""
    job = job_selectors.job_get(user=request.user, job_id=job_id)
    checks = selectors.job_checks(user=request.user, job=job)
    heard = {(h["start"], h["heard"]) for c in checks for r in c.results for h in r["hits"]}
    lines = [(segment, _marked(segment, heard)) for segment in job.segments]
    return render(request, "quality/job_checks.html", {"job": job, "checks": checks, "lines": lines})


def _marked(segment: dict, heard: set) -> list[tuple[str, bool]]:
    """The segment's text in pieces, each marked if a rule heard it there."""
    text, pieces, at = segment.get("text", ""), [], 0
    spans = sorted(
        (text.find(phrase), text.find(phrase) + len(phrase))
        for start, phrase in heard
        if start == segment["start"] and phrase and text.find(phrase) >= 0
    )
    for begin, end in spans:
        if begin < at:
            continue
        pieces += [(text[at:begin], False), (text[begin:end], True)]
        at = end
    return [piece for piece in [*pieces, (text[at:], False)] if piece[0]]
