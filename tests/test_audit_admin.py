"""The audit log in Django admin: read-only for everyone (superusers included), filtered and
searched, exported as the CSV of the list as filtered (Excel-readable Chinese, no formulas), and
closed to anyone else."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from audit.models import AuditEvent
from audit.services import audit_record

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:audit_auditevent_changelist"
EXPORT = "admin:audit_auditevent_export"


def record(actor, action: str, job_name: str, owner, **extra) -> AuditEvent:
    return audit_record(
        actor=actor, action=action, job_id=uuid.uuid4(), job_name=job_name, owner=owner, **extra
    )


@pytest.fixture
def log(alice, bob):
    return [
        record(alice, "viewed", "周会纪要.wav", alice),
        record(bob, "exported", "周会纪要.wav", alice, detail="docx", via="api"),
        record(bob, "deleted", "=HYPERLINK(evil).wav", bob),
    ]


def rows_of(response) -> list[list[str]]:
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith("\ufeff".encode())  # the BOM Excel needs
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_it_lists_filters_and_searches_the_log(admin_client, log):
    page = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert page.count("周会纪要.wav") == 2 and "Export CSV" in page

    def listed(**query) -> list[AuditEvent]:
        return list(admin_client.get(reverse(CHANGELIST), query).context["cl"].result_list)

    assert listed(action__exact="exported") == listed(via__exact="api") == [log[1]]
    assert listed(q="evil") == [log[2]]
    assert listed(q="alice") == [log[1], log[0]]  # who acted, or whose job it was; newest first
    today = log[0].when.date()
    assert len(listed(when__year=str(today.year), when__month=str(today.month))) == 3  # date hierarchy
    assert listed(when__year=str(today.year + 1)) == []


def test_it_lets_nobody_add_change_or_delete_an_event(admin_client, log):
    event = log[0]
    assert admin_client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    change = reverse("admin:audit_auditevent_change", args=[event.pk])
    assert admin_client.get(change).status_code == 200  # readable
    assert admin_client.post(change, {"detail": "nothing to see", "action": "viewed"}).status_code == 403
    delete = reverse("admin:audit_auditevent_delete", args=[event.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    bulk = {"action": "delete_selected", "_selected_action": [e.pk for e in log], "post": "yes"}
    admin_client.post(reverse(CHANGELIST), bulk)
    assert AuditEvent.objects.count() == 3 and AuditEvent.objects.get(pk=event.pk).detail == ""


def test_it_exports_the_list_as_filtered_to_csv(admin_client, log):
    header, *rows = rows_of(admin_client.get(reverse(EXPORT)))
    assert header == ["when", "who", "action", "job id", "job name", "owner", "detail", "via"]
    assert len(rows) == 3
    exported = rows_of(admin_client.get(reverse(EXPORT), {"action__exact": "exported"}))[1:]
    assert [r[1:] for r in exported] == [
        ["bob", "exported", str(log[1].job_id), "周会纪要.wav", "alice", "docx", "API"]
    ]
    searched = rows_of(admin_client.get(reverse(EXPORT), {"q": "evil"}))[1:]
    assert [r[4] for r in searched] == ["'=HYPERLINK(evil).wav"]  # a spreadsheet shows it, never runs it


def test_it_links_the_export_to_the_filters_in_use(admin_client, log):
    page = admin_client.get(reverse(CHANGELIST), {"action__exact": "viewed"}).content.decode()
    assert f'href="{reverse(EXPORT)}?action__exact=viewed"' in page


def test_it_refuses_the_log_and_its_export_to_anyone_else(client, alice, django_user_model, log):
    client.force_login(alice)
    for url in (reverse(CHANGELIST), reverse(EXPORT)):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    staff = django_user_model.objects.create_user("dave", password="dave-pass", is_staff=True)
    client.force_login(staff)
    assert client.get(reverse(CHANGELIST)).status_code == 403
    assert client.get(reverse(EXPORT)).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    assert len(rows_of(client.get(reverse(EXPORT)))) == 4
