"""A team's call-check rule sets: offered to its members only (the upload form, the batch report, the
API's `quality`), refused to anyone else, and no longer applied once a member left the team."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from api import services as token_services
from quality import selectors, services
from quality.models import Check, Rule, RuleSet
from teams import services as team_services
from tests.conftest import AUDIO, upload_of
from transcription.forms import UploadForm
from transcription.models import Job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_profile")]

CLIP = AUDIO / "sense_and_sensibility_01_austen_64kb-0870.wav"


@pytest.fixture
def team_script(team_a) -> RuleSet:
    rule_set = RuleSet.objects.create(name="Austen script", team=team_a)
    Rule.objects.create(rule_set=rule_set, label="Names the family", kind="must", phrases="Dashwood")
    return rule_set


@pytest.fixture
def everyones() -> RuleSet:
    rule_set = RuleSet.objects.create(name="Greeting")
    Rule.objects.create(rule_set=rule_set, label="Says and", kind="must", phrases="and")
    return rule_set


def api_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_services.token_create(user=user, name='t').plain}")
    return client


def offered(user) -> list[str]:
    field = UploadForm(user=user).fields.get("quality")
    return [str(label) for _, label in field.choices] if field else []


def done_job(owner, **fields) -> Job:
    return Job.objects.create(
        owner=owner,
        original_name="call.wav",
        status=Job.Status.DONE,
        duration=3.0,
        text="Mr. John Dashwood and his wife.",
        segments=[{"start": 0.0, "end": 3.0, "text": "Mr. John Dashwood and his wife."}],
        **fields,
    )


def test_it_offers_a_teams_rule_set_to_its_members_only(alice, bob, team_b, team_script, everyones):
    assert offered(alice) == ["Austen script", "Greeting"]
    assert offered(bob) == ["Greeting"]
    assert selectors.rule_set_get(user=bob, rule_set_id="Austen script") is None
    assert selectors.rule_set_get(user=bob, rule_set_id=str(team_script.pk)) is None


def test_it_offers_no_checks_to_someone_with_only_another_teams_rule_set(client, bob, team_b, team_script):
    assert offered(bob) == [] and not selectors.rule_sets_exist(user=bob)
    client.force_login(bob)
    assert 'name="quality"' not in client.get(reverse("dashboard")).content.decode()


def test_it_refuses_a_teams_rule_set_to_others_at_upload(client, alice, bob, team_b, team_script, everyones):
    client.force_login(bob)
    page = client.post(
        reverse("job_upload"),
        {"files": [upload_of(CLIP)], "quality": [str(team_script.pk)]},
        HTTP_ACCEPT="application/json",
    )
    assert page.status_code == 400
    for value in ["Austen script", str(team_script.pk), f"Greeting, {team_script.pk}"]:
        refused = api_for(bob).post("/api/v1/jobs/", {"file": upload_of(CLIP), "quality": value})
        assert refused.status_code == 400 and "no such rule set" in str(refused.json()["quality"])
    assert not Job.objects.exists()

    created = api_for(alice).post(
        "/api/v1/jobs/", {"file": upload_of(CLIP), "quality": "Austen script, Greeting"}
    )
    assert created.status_code == 201
    assert Job.objects.get().options["extras"] == {"quality": [str(team_script.pk), str(everyones.pk)]}


def test_it_shows_a_teams_rule_set_in_the_batch_report_to_its_members_only(
    client, alice, bob, team_b, team_script, everyones
):
    done_job(bob, options={"batch": "calls"})
    client.force_login(bob)
    report = reverse("quality_batch_report", args=["calls"])
    body = client.get(report).content.decode()
    assert "Greeting" in body and "Austen script" not in body
    assert client.get(report, {"rules": team_script.pk}).context["rule_set"] == everyones  # not the team's


def test_it_checks_with_a_teams_rule_set_only_while_the_owner_is_a_member(alice, team_a, team_script):
    job = done_job(alice)
    check = services.check_when_done(job=job, rule_set_id=str(team_script.pk))
    assert check is not None and check.passed
    Check.objects.all().delete()
    team_services.membership_remove(team=team_a, user=alice)
    assert services.check_when_done(job=job, rule_set_id=str(team_script.pk)) is None
    assert not Check.objects.exists()


def test_it_lets_staff_give_a_rule_set_to_a_team_in_admin(client, admin_user, team_a, team_script, everyones):
    client.force_login(admin_user)
    changelist = reverse("admin:quality_ruleset_changelist")
    body = client.get(changelist, {"team__id__exact": team_a.pk}).content.decode()
    assert "Austen script" in body and "Greeting" not in body
    change = client.get(reverse("admin:quality_ruleset_change", args=[team_script.pk]))
    assert change.status_code == 200 and 'name="team"' in change.content.decode()
