"""The staff-only usage page (/admin/quotas/quota/usage/): audio and jobs per team and per user
per day or month, from the ledger (deleted jobs still count), and its CSV export; others never
see it."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from quotas.models import UsageRecord
from teams import services as team_services

pytestmark = pytest.mark.django_db

USAGE = "/admin/quotas/quota/usage/"


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_superuser("root", password="x")


@pytest.fixture
def ledger(alice, bob):
    """Alice: 1 h today and 30 min yesterday; bob: 15 min today, in Sales with alice."""
    sales = team_services.team_create(name="Sales")
    team_services.membership_set(team=sales, user=alice)
    team_services.membership_set(team=sales, user=bob)
    now = timezone.now()
    for n, (user, seconds, at) in enumerate(
        [(alice, 3600, now), (alice, 1800, now - timedelta(days=1)), (bob, 900, now)]
    ):
        UsageRecord.objects.create(
            user=user, job_id=f"00000000-0000-0000-0000-00000000000{n}", seconds=seconds, bytes=1, at=at
        )
    return now


def test_it_shows_audio_and_jobs_per_team_and_user_per_day(client, staff, ledger):
    client.force_login(staff)
    response = client.get(USAGE, {"unit": "day", "count": "7"})
    assert response.status_code == 200
    rows = [(r.kind, r.name, r.seconds, r.jobs) for r in response.context["rows"]]
    assert rows[:3] == [("team", "Sales", 4500, 2), ("user", "alice", 3600, 1), ("user", "bob", 900, 1)]
    assert rows[3:] == [("team", "Sales", 1800, 1), ("user", "alice", 1800, 1)]
    page = response.content.decode()
    assert "Usage" in page and 'href="?unit=day&amp;count=7&amp;format=csv"' in page


def test_it_sums_months_and_leaves_out_older_periods(client, staff, ledger, alice):
    UsageRecord.objects.create(
        user=alice, job_id="00000000-0000-0000-0000-000000000099", seconds=7200, bytes=1,
        at=ledger - timedelta(days=400),
    )  # fmt: skip
    client.force_login(staff)
    rows = client.get(USAGE, {"unit": "month", "count": "12"}).context["rows"]
    assert sum(r.seconds for r in rows if r.kind == "user") == 6300  # not the 2 h of last year


def test_it_exports_the_same_table_as_csv_with_a_bom(client, staff, ledger):
    client.force_login(staff)
    response = client.get(USAGE, {"unit": "day", "count": "1", "format": "csv"})
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(body[1:])))
    today = timezone.localtime(ledger, timezone.get_default_timezone()).date().isoformat()
    assert lines == [
        ["Period", "Kind", "Name", "Hours of audio", "Seconds of audio", "Jobs"],
        [today, "Team", "Sales", "1.250", "4500.0", "2"],
        [today, "User", "alice", "1.000", "3600.0", "1"],
        [today, "User", "bob", "0.250", "900.0", "1"],
    ]


def test_it_links_the_page_from_the_quotas_list(client, staff):
    client.force_login(staff)
    page = client.get(reverse("admin:quotas_quota_changelist")).content.decode()
    assert f'href="{USAGE}"' in page


@pytest.mark.parametrize("path", [USAGE, f"{USAGE}?format=csv"])
def test_it_refuses_anyone_but_staff(client, alice, ledger, path):
    response = client.get(path)
    assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
    client.force_login(alice)
    response = client.get(path)
    assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
    assert b"alice" not in response.content
