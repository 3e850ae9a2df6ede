"""Effective quota limits and the usage they are checked against: a user's own row, else the
default row; each team's row against its members' combined usage; days and months in the portal's
TIME_ZONE; a deleted job keeps its hours in the ledger but frees its stored audio."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from quotas import periods
from quotas import selectors as quota_selectors
from quotas.models import Quota, UsageRecord
from teams import services as team_services
from tests.conftest import AUDIO, upload_of
from transcription import quotas, services
from transcription.models import Job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_profile")]

CLIP = AUDIO / "cmu_numbers.wav"  # 4.02 s
CLIP_SECONDS = 4.023


def own(scopes):
    (personal,) = [scope for scope in scopes if scope.team is None]
    return personal


def create_job(user, profile, name="clip.wav") -> Job:
    return services.job_create(owner=user, profile=profile, upload=upload_of(CLIP, name))


def refusal(user, name="next.wav") -> str:
    with pytest.raises(ValidationError) as refused:
        quotas.quota_check(user=user, uploads=[upload_of(CLIP, name)])
    assert refused.value.code == "quota"
    return refused.value.messages[0]


def test_it_records_each_job_once_in_the_ledger_with_its_header_length(alice, default_profile):
    job = create_job(alice, default_profile)
    record = UsageRecord.objects.get()
    assert record.job_id == job.id and record.user == alice and record.bytes == CLIP.stat().st_size
    assert record.seconds == pytest.approx(CLIP_SECONDS, abs=0.01) and record.at == job.queued_at
    job.save()  # saved again: still one row
    assert UsageRecord.objects.count() == 1


def test_it_uses_the_default_row_for_users_without_their_own(alice, bob, default_profile):
    Quota.objects.create(jobs_waiting=1)
    Quota.objects.create(user=bob, jobs_waiting=None, hours_per_day=10)
    create_job(alice, default_profile)
    create_job(bob, default_profile)
    assert refusal(alice) == "1 of your jobs is waiting, the most allowed; upload more when one starts."
    quotas.quota_check(user=bob, uploads=[upload_of(CLIP)])  # bob's own row: no limit on waiting
    assert quota_selectors.quota_personal(user=bob).hours_per_day == 10
    assert quota_selectors.quota_personal(user=alice).user is None


def test_it_has_no_limits_without_any_row(alice, default_profile):
    for n in range(3):
        create_job(alice, default_profile, f"{n}.wav")
    quotas.quota_check(user=alice, uploads=[upload_of(CLIP)])
    assert [limit for _label, _used, limit in own(quotas.quota_usage(user=alice)).rows()] == ["", "", "", ""]


def test_it_checks_a_team_row_against_its_members_combined_usage(
    alice, bob, django_user_model, default_profile
):
    sales = team_services.team_create(name="Sales")
    team_services.membership_set(team=sales, user=alice)
    team_services.membership_set(team=sales, user=bob)
    carol = django_user_model.objects.create_user("carol")  # not in Sales: her jobs do not count
    create_job(carol, default_profile)
    Quota.objects.create(team=sales, stored_audio_mb=1)  # room for 8 clips of 129 kB
    for n in range(7):
        create_job(bob if n % 2 else alice, default_profile, f"{n}.wav")
    quotas.quota_check(user=bob, uploads=[upload_of(CLIP)])  # the 8th fits
    (team_scope,) = [scope for scope in quotas.quota_usage(user=bob) if scope.team]
    assert team_scope.team == sales and team_scope.usage.stored_bytes == 7 * CLIP.stat().st_size
    create_job(alice, default_profile)
    message = refusal(bob)
    assert message.startswith(
        "These files are 125.8\xa0KB. Stored recordings of your team Sales: 1006.1\xa0KB"
    )
    assert message.endswith("of 1.0\xa0MB; delete old jobs to free space.")
    assert refusal(alice) == message  # the same team, the same usage
    quotas.quota_check(user=carol, uploads=[upload_of(CLIP)])


def test_it_counts_days_and_months_in_the_portals_time_zone(alice, settings, monkeypatch):
    settings.TIME_ZONE = "Asia/Shanghai"
    shanghai = ZoneInfo("Asia/Shanghai")
    now = datetime(2025, 4, 1, 0, 30, tzinfo=shanghai)  # 2025-03-31 16:30 UTC: still March in UTC
    monkeypatch.setattr(timezone, "now", lambda: now)
    Quota.objects.create(hours_per_day=1, hours_per_month=2)
    record = {"user": alice, "bytes": 0}
    UsageRecord.objects.create(
        job_id="00000000-0000-0000-0000-000000000001",
        seconds=3000,
        at=datetime(2025, 3, 31, 23, 50, tzinfo=shanghai),
        **record,
    )
    UsageRecord.objects.create(
        job_id="00000000-0000-0000-0000-000000000002",
        seconds=600,
        at=datetime(2025, 4, 1, 0, 10, tzinfo=shanghai),
        **record,
    )
    usage = own(quotas.quota_usage(user=alice)).usage
    assert usage.day_seconds == 600 and usage.month_seconds == 600  # yesterday was another month
    assert periods.next_start(periods.DAY) == datetime(2025, 4, 2, tzinfo=shanghai)
    assert periods.next_start(periods.MONTH) == datetime(2025, 5, 1, tzinfo=shanghai)
    UsageRecord.objects.create(job_id="00000000-0000-0000-0000-000000000003", seconds=3000, at=now, **record)
    assert refusal(alice) == (
        "You have used 1 of your 1 hours of audio today; more is available from 00:00 (in 23\xa0hours)."
    )


def test_it_names_the_month_and_when_it_frees_up(alice, settings, monkeypatch):
    settings.TIME_ZONE = "Asia/Shanghai"
    now = datetime(2025, 4, 29, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    monkeypatch.setattr(timezone, "now", lambda: now)
    Quota.objects.create(user=alice, hours_per_month=1)
    UsageRecord.objects.create(
        user=alice, job_id="00000000-0000-0000-0000-000000000001", seconds=3600, bytes=0, at=now
    )
    assert refusal(alice) == (
        "You have used 1 of your 1 hours of audio this month; "
        "more is available from May 1, 2025 (in 1\xa0day)."
    )


def test_it_keeps_the_hours_of_a_deleted_job_but_frees_its_stored_audio(alice, default_profile):
    Quota.objects.create(user=alice, hours_per_day=0.002, stored_audio_mb=1)  # 7.2 s: room for one clip
    job = create_job(alice, default_profile)
    before = own(quotas.quota_usage(user=alice)).usage
    assert before.stored_bytes == CLIP.stat().st_size and before.day_seconds == pytest.approx(
        CLIP_SECONDS, abs=0.01
    )
    services.job_delete(job=job)
    after = own(quotas.quota_usage(user=alice)).usage
    assert after.stored_bytes == 0 and after.waiting == 0
    assert after.day_seconds == before.day_seconds  # deleting gives no hours back
    assert refusal(alice).startswith(
        "These recordings last 0.0011 hours. You have used 0.0011 of your 0.002 hours"
    )
