"""Webhooks in Django admin: the allow list, deliveries with their attempts and "Retry now",
and users' secrets with "Rotate"."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from tests.test_webhooks_delivery import finished_job, run_webhook_worker, serve
from webhooks import services
from webhooks.models import AllowedCallbackHost, WebhookDelivery, WebhookSecret

pytestmark = pytest.mark.django_db(transaction=True)  # "Retry now" runs through the real worker

Status = WebhookDelivery.Status


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def receiver():
    yield from serve()


@pytest.fixture
def private_networks(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    settings.WEBHOOK_BACKOFF_SECONDS = "0"


def failed_delivery(alice, receiver, settings) -> WebhookDelivery:
    """A delivery that used its one attempt on a receiver answering 500."""
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    receiver.answers = [500]
    delivery = services.delivery_enqueue(job=finished_job(alice, receiver.url))
    run_webhook_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    return delivery


def retry(admin_client, *deliveries: WebhookDelivery):
    data = {"action": "retry_now", "_selected_action": [d.id for d in deliveries]}
    return admin_client.post(reverse("admin:webhooks_webhookdelivery_changelist"), data, follow=True)


@pytest.mark.usefixtures("private_networks")
def test_it_shows_every_webhook_page(admin_client, alice, receiver, settings):
    AllowedCallbackHost.objects.create(host="127.0.0.1", note="tests")
    delivery = failed_delivery(alice, receiver, settings)
    secret = WebhookSecret.objects.get(user=alice)
    pages = {
        reverse("admin:webhooks_allowedcallbackhost_changelist"): "127.0.0.1",
        reverse("admin:webhooks_allowedcallbackhost_add"): "Port",
        reverse("admin:webhooks_webhookdelivery_changelist"): receiver.url,
        reverse("admin:webhooks_webhookdelivery_change", args=[delivery.id]): "HTTP 500",
        reverse("admin:webhooks_webhooksecret_changelist"): "alice",
        reverse("admin:webhooks_webhooksecret_change", args=[secret.id]): secret.secret,
    }
    for url, text in pages.items():
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert text in response.content.decode(), url
    assert admin_client.get(reverse("admin:webhooks_webhookdelivery_add")).status_code == 403


def test_it_adds_an_allowed_host_normalized(admin_client):
    data = {"host": " Hooks.Example.COM. ", "port": "443", "note": "CRM"}
    response = admin_client.post(reverse("admin:webhooks_allowedcallbackhost_add"), data)
    assert response.status_code == 302
    assert AllowedCallbackHost.objects.get().host == "hooks.example.com"
    response = admin_client.post(reverse("admin:webhooks_allowedcallbackhost_add"), {"host": "http://x/"})
    assert response.status_code == 200 and "not a valid host name" in response.content.decode()


@pytest.mark.usefixtures("private_networks")
def test_it_retries_a_failed_delivery_now(admin_client, alice, receiver, settings):
    AllowedCallbackHost.objects.create(host="127.0.0.1")
    delivery = failed_delivery(alice, receiver, settings)
    response = retry(admin_client, delivery)
    assert "1 delivery(ies) queued" in response.content.decode()
    run_webhook_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.SUCCEEDED and delivery.attempts == 2
    assert [a.status_code for a in delivery.history.all()] == [500, 200]
    assert len(receiver.requests) == 2


@pytest.mark.usefixtures("private_networks")
def test_it_retries_a_refused_delivery_once_its_host_is_allowed(admin_client, alice, receiver):
    delivery = services.delivery_enqueue(job=finished_job(alice, receiver.url))
    assert delivery.status == Status.REFUSED
    retry(admin_client, delivery)  # still not allowed: stays refused
    assert WebhookDelivery.objects.get(id=delivery.id).status == Status.REFUSED
    AllowedCallbackHost.objects.create(host="127.0.0.1")
    retry(admin_client, delivery)
    run_webhook_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.SUCCEEDED and len(receiver.requests) == 1


def test_it_rotates_secrets(admin_client, alice, bob):
    before = {user.username: services.secret_for(user=user) for user in (alice, bob)}
    data = {"action": "rotate", "_selected_action": [WebhookSecret.objects.get(user=alice).id]}
    response = admin_client.post(reverse("admin:webhooks_webhooksecret_changelist"), data, follow=True)
    assert "1 secret(s) rotated" in response.content.decode()
    assert services.secret_for(user=alice) != before["alice"]
    assert services.secret_for(user=bob) == before["bob"]


def test_it_keeps_retry_and_rotate_from_staff_who_may_only_view(admin_client, alice, django_user_model):
    services.delivery_enqueue(job=finished_job(alice, "https://hooks.example.com/"))  # refused
    services.secret_for(user=alice)
    viewer = django_user_model.objects.create_user("viewer", password="viewer-pass", is_staff=True)
    viewer.user_permissions.add(*Permission.objects.filter(codename__startswith="view_webhook"))
    client = Client()
    client.force_login(viewer)
    deliveries = reverse("admin:webhooks_webhookdelivery_changelist")
    secrets = reverse("admin:webhooks_webhooksecret_changelist")
    assert "Retry now" in admin_client.get(deliveries).content.decode()
    assert "Rotate the selected secrets" in admin_client.get(secrets).content.decode()
    page = client.get(deliveries)
    assert page.status_code == 200 and "hooks.example.com" in page.content.decode()
    assert "Retry now" not in page.content.decode()
    assert "Rotate the selected secrets" not in client.get(secrets).content.decode()
