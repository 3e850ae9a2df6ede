import pytest
from django.urls import reverse

from tests.conftest import AUDIO, upload_of
from transcription import services, worker_registry
from transcription.models import Job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_profile")]


@pytest.fixture
def redis():
    from portal.queues import get_queue

    return get_queue("asr").connection


def test_it_is_unhealthy_without_a_worker_for_a_queue(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok" and body["redis"] == "ok"
    assert body["queues_without_worker"] == ["asr"]


def test_it_is_healthy_with_a_live_worker_per_queue(client, redis):
    worker_registry.announce(redis, worker_registry.WorkerStatus(name="w", queue="asr", device="cpu"))
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "redis": "ok",
        "workers": {"asr": 1},
        "queues_without_worker": [],
    }


def test_it_shows_metrics_to_staff_and_scrapers_only(client, alice, admin_user, settings):
    settings.METRICS_TOKEN = "scrape-me"
    assert client.get(reverse("metrics")).status_code == 403
    client.force_login(alice)
    assert client.get(reverse("metrics")).status_code == 403
    client.logout()
    assert client.get(reverse("metrics"), headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get(reverse("metrics"), headers={"Authorization": "Bearer scrape-me"}).status_code == 200
    client.force_login(admin_user)
    assert client.get(reverse("metrics")).status_code == 200


def test_it_counts_jobs_queues_durations_and_real_time_factors(
    client, admin_user, alice, default_profile, redis, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            services.job_create(owner=alice, profile=default_profile, upload=upload_of(AUDIO / "zh_01.wav"))
    Job.objects.filter(pk=Job.objects.first().pk).update(status="done", processing_seconds=2.0, duration=40.0)
    worker_registry.announce(redis, worker_registry.WorkerStatus(name="w", queue="asr", device="cpu"))
    client.force_login(admin_user)
    text = client.get(reverse("metrics")).content.decode()
    assert 'portal_jobs{status="queued"} 1' in text and 'portal_jobs{status="done"} 1' in text
    assert 'portal_queue_depth{queue="asr"} 2' in text
    assert 'portal_queue_backlog{queue="asr"} 1' in text  # queued in the database (the other is done)
    assert 'portal_job_duration_seconds_bucket{le="1"} 0' in text
    assert 'portal_job_duration_seconds_bucket{le="5"} 1' in text
    assert 'portal_job_real_time_factor_bucket{le="0.05"} 1' in text
    assert 'portal_job_real_time_factor_bucket{le="0.02"} 0' in text
    assert "portal_job_duration_seconds_count 1" in text
    assert 'portal_worker_memory_bytes{worker="w"' in text


def test_it_counts_the_models_each_worker_has_loaded(client, admin_user, default_profile, redis):
    from transcription import engine
    from transcription.profiles import engine_config

    engine.unload()
    before = engine.load_count
    engine.get_engine(engine_config(default_profile))
    engine.get_engine(engine_config(default_profile))  # resident: no second load
    worker_registry.announce(
        redis, worker_registry.WorkerStatus(name="w", queue="asr", device="cpu", host="h")
    )
    client.force_login(admin_user)
    text = client.get(reverse("metrics")).content.decode()
    assert f'portal_worker_model_loads_total{{worker="w",host="h",queue="asr"}} {before + 1}\n' in text


def test_it_refuses_a_non_ascii_metrics_token(client, settings):
    """compare_digest raises TypeError on a str with non-ASCII characters: a 500, not a 403."""
    settings.METRICS_TOKEN = "scrape-me"
    for bearer in ("Bearer scrape-mé", "Bearer 令牌"):
        response = client.get(reverse("metrics"), headers={"Authorization": bearer})
        assert response.status_code == 403
