"""Call checks through the real worker (quality/: the upload's choice, the check when a job ends, the
batch report, its CSV, a re-check after a rule changed): on transcripts Whisper really produced,
LibriVox clips (tiny.en) and a Mandarin sentence (base)."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.urls import reverse

from quality.models import Check, Rule, RuleSet
from tests.conftest import AUDIO, run_worker, upload_of
from transcription.models import EngineProfile, Job
from transcription.shipped_profiles import WHISPER_BASE

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_profile")]

CLIPS = ["sense_and_sensibility_01_austen_64kb-0870.wav", "sense_and_sensibility_01_austen_64kb-0880.wav"]


@pytest.fixture
def rules() -> RuleSet:
    rule_set = RuleSet.objects.create(name="Reading script")
    # Whisper writes "Mr. John Dashwood": only the tolerant matching hears "Mister John Dashwood" in it.
    for ordering, label, kind, phrases in [
        (1, "Names the family", "must", "Mister John Dashwood"),
        (2, "No idleness", "must_not", "leisure"),
        (3, "Young man", "must", "young man"),
    ]:
        Rule.objects.create(rule_set=rule_set, ordering=ordering, label=label, kind=kind, phrases=phrases)
    return rule_set


def upload(client, capture, rule_set, names=CLIPS, **fields) -> list[Job]:
    with capture(execute=True):
        response = client.post(
            reverse("job_upload"),
            {
                "files": [upload_of(AUDIO / n) for n in names],
                "quality": str(rule_set.pk),
                "batch": "calls-w48",
                **fields,
            },
        )
    assert response.status_code == 302
    with capture(execute=True):  # the job's end is announced on commit: job_ended, then the check
        run_worker()
    return list(Job.objects.order_by("queued_at", "id"))


def verdicts(check: Check) -> dict[str, bool]:
    return {r["label"]: r["passed"] for r in check.results}


def test_it_checks_each_call_of_a_batch_when_it_is_done(
    client, alice, rules, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    assert 'name="quality"' in client.get(reverse("dashboard")).content.decode()
    first, second = upload(client, django_capture_on_commit_callbacks, rules)
    assert "mr. john dashwood" in first.text.lower() and "mister" not in first.text.lower()
    one, two = Check.objects.get(job=first), Check.objects.get(job=second)
    assert verdicts(one) == {"Names the family": True, "No idleness": False, "Young man": False}
    assert verdicts(two) == {"Names the family": False, "No idleness": True, "Young man": True}
    assert not one.passed and not two.passed
    heard = next(r for r in one.results if r["label"] == "Names the family")["hits"][0]["heard"]
    assert heard == "Mr. John Dashwood"

    page = client.get(
        reverse("quality_batch_report", args=["calls-w48"]), {"rules": rules.pk}
    ).content.decode()
    assert "0 of 2 checked calls pass." in page and f"/jobs/{second.id}/#t=0" in page
    failed = client.get(
        reverse("quality_batch_report", args=["calls-w48"]), {"rules": rules.pk, "failed": "1"}
    )
    assert failed.status_code == 200 and str(first.id) in failed.content.decode()
    report = client.get(reverse("quality_report_csv", args=["calls-w48"]), {"rules": rules.pk})
    rows = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert rows[0] == ["file", "job", "checked", "passed", "Names the family", "No idleness", "Young man"]
    assert rows[1] == [first.original_name, str(first.id), "yes", "fail", "pass", "fail", "fail"]
    sheet = client.get(reverse("quality_report_xlsx", args=["calls-w48"]), {"rules": rules.pk})
    assert 'filename="calls-w48-Reading script-checks.xlsx"' in sheet["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(sheet.content))
    assert [list(row) for row in workbook.active.iter_rows(values_only=True)] == rows


def test_it_checks_again_after_a_rule_changed_without_transcribing(
    client, alice, rules, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    first, _ = upload(client, django_capture_on_commit_callbacks, rules)
    finished = first.finished_at
    Rule.objects.filter(label="No idleness").update(kind="must")  # leisure is now required
    response = client.post(reverse("quality_batch_recheck", args=["calls-w48"]), {"rules": rules.pk})
    assert response.status_code == 302
    assert verdicts(Check.objects.get(job=first))["No idleness"] is True
    first.refresh_from_db()
    assert first.finished_at == finished and Check.objects.count() == 2


def test_it_checks_mandarin_as_whisper_heard_it(client, alice, django_capture_on_commit_callbacks):
    rule_set = RuleSet.objects.create(name="项目")
    Rule.objects.create(rule_set=rule_set, label="提到星火计划", kind="must", phrases="星火计划")
    client.force_login(alice)
    base = EngineProfile.objects.get(name=WHISPER_BASE)
    (job,) = upload(
        client, django_capture_on_commit_callbacks, rule_set, names=["zh_tts_04.wav"], profile=base.pk
    )
    print(f"Whisper base heard {job.text!r}")
    check = Check.objects.get(job=job)
    assert check.passed, job.text  # 星火计划, or a homophone such as 新火计划 heard by its pinyin


def test_it_shows_nobody_elses_batch(client, alice, bob, rules, django_capture_on_commit_callbacks):
    client.force_login(alice)
    upload(client, django_capture_on_commit_callbacks, rules, names=CLIPS[:1])
    client.force_login(bob)
    assert client.get(reverse("quality_batch_report", args=["calls-w48"])).status_code == 404
    assert client.get(reverse("quality_report_csv", args=["calls-w48"])).status_code == 404
    assert client.get(reverse("quality_job_checks", args=[Job.objects.get().id])).status_code == 404
    assert client.get(reverse("quality_report_xlsx", args=["calls-w48"])).status_code == 404
    assert (
        client.post(reverse("quality_batch_recheck", args=["calls-w48"]), {"rules": rules.pk}).status_code
        == 404
    )


def test_it_calls_back_when_a_call_fails_its_check(alice, rules, django_capture_on_commit_callbacks):
    from rest_framework.test import APIClient

    from api import services as token_services
    from webhooks.models import WebhookDelivery

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_services.token_create(user=alice, name='t').plain}")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/jobs/",
            {"file": upload_of(AUDIO / CLIPS[0]), "callback_url": "https://crm.example.com/hook"},
            format="multipart",
        )
    assert response.status_code == 201
    job = Job.objects.get()
    Job.objects.filter(pk=job.pk).update(options={**job.options, "extras": {"quality": str(rules.pk)}})
    with django_capture_on_commit_callbacks(execute=True):
        run_worker()
    events = dict(WebhookDelivery.objects.values_list("event", "payload"))
    assert set(events) == {"job.done", "job.qa_failed"}
    sent = events["job.qa_failed"]
    assert sent["type"] == "job.qa_failed" and sent["job"]["id"] == str(job.id)
    assert sent["check"]["rule_set"] == "Reading script" and sent["check"]["passed"] is False
    assert [(r["label"], r["passed"]) for r in sent["check"]["rules"]] == [
        ("Names the family", True),
        ("No idleness", False),
        ("Young man", False),
    ]
    assert sent["check"]["rules"][1]["heard"][0]["text"] == "leisure"


def test_it_gives_a_jobs_checks_through_the_api_to_its_owner_only(
    alice, bob, rules, client, django_capture_on_commit_callbacks
):
    from rest_framework.test import APIClient

    from api import services as token_services

    def api_for(user) -> APIClient:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_services.token_create(user=user, name='t').plain}")
        return api

    refused = api_for(alice).post("/api/v1/jobs/", {"file": upload_of(AUDIO / CLIPS[0]), "quality": "Nope"})
    assert refused.status_code == 400 and "no such rule set" in str(refused.json()["quality"])
    greeting = RuleSet.objects.create(name="Greeting")
    Rule.objects.create(rule_set=greeting, label="Says and", kind="must", phrases="and")
    with django_capture_on_commit_callbacks(execute=True):
        created = api_for(alice).post(
            "/api/v1/jobs/",
            {"file": upload_of(AUDIO / CLIPS[0]), "quality": f"Reading script, {greeting.pk}"},
        )
    assert created.status_code == 201
    with django_capture_on_commit_callbacks(execute=True):
        run_worker()
    job = Job.objects.get()

    checks = {c["rule_set"]: c for c in api_for(alice).get(f"/api/v1/jobs/{job.id}/checks/").json()}
    assert set(checks) == {"Reading script", "Greeting"}  # both rule sets chosen at upload
    check = checks["Reading script"]
    assert check["passed"] is False and [r["passed"] for r in check["results"]] == [True, False, False]
    assert api_for(bob).get(f"/api/v1/jobs/{job.id}/checks/").status_code == 404
