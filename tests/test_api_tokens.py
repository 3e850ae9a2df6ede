"""Personal API tokens: made and revoked at /tokens/, stored hashed, refused once revoked or
expired, and rate-limited per user (all of a user's tokens and sessions share one count)."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from api import services
from api.models import ApiToken
from transcription.shipped_profiles import WHISPER_BASE

pytestmark = pytest.mark.django_db

PROFILES = "/api/v1/profiles/"
TOKEN = re.compile(r"fap_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")


def bearer(plain: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return client


def make_token(client, name: str = "nightly import", **fields) -> str:
    response = client.post(reverse("token_create"), {"name": name, **fields})
    assert response.status_code == 200
    return TOKEN.search(response.content.decode()).group()


def test_it_shows_a_new_token_once_and_stores_only_its_hash(client, alice):
    client.force_login(alice)
    response = client.post(reverse("token_create"), {"name": "nightly import"})
    plain = TOKEN.search(response.content.decode()).group()
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(user=alice)
    assert token.key_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert token.prefix == plain.split("_")[1]
    stored = [str(getattr(token, f.attname)) for f in ApiToken._meta.concrete_fields]
    secret = plain.split("_", 2)[2]  # the secret itself may hold "_": split only the two prefixes off
    assert not any(plain in value or secret in value for value in stored)
    page = client.get(reverse("token_list")).content.decode()
    assert "nightly import" in page and f"fap_{token.prefix}_" in page and plain not in page


def test_it_authenticates_with_a_bearer_token_and_records_its_use(client, alice, default_profile):
    client.force_login(alice)
    plain = make_token(client)
    response = bearer(plain).get(PROFILES)
    assert response.status_code == 200
    assert {p["name"] for p in response.json()} == {default_profile.name, WHISPER_BASE}  # runnable here
    assert ApiToken.objects.get(user=alice).last_used_at is not None


def test_it_refuses_requests_without_a_valid_token(alice):
    response = APIClient().get(PROFILES)
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    response = bearer("fap_00000000_not-a-real-token").get(PROFILES)
    assert response.status_code == 401 and response.json()["detail"] == "Invalid API token."


def test_it_refuses_a_revoked_token(client, alice):
    client.force_login(alice)
    plain = make_token(client)
    token = ApiToken.objects.get(user=alice)
    response = client.post(reverse("token_revoke", args=[token.pk]))
    assert response.status_code == 302
    response = bearer(plain).get(PROFILES)
    assert response.status_code == 401
    detail = response.json()["detail"]
    assert detail == f"This API token ({token.prefix}) was revoked; make a new one at /tokens/."
    assert "revoked" in client.get(reverse("token_list")).content.decode()


def test_it_refuses_an_expired_token(client, alice):
    client.force_login(alice)
    plain = make_token(client, expires_in_days=30)
    token = ApiToken.objects.get(user=alice)
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    assert bearer(plain).get(PROFILES).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = bearer(plain).get(PROFILES)
    assert response.status_code == 401 and "expired on" in response.json()["detail"]


def test_it_refuses_the_token_of_a_deactivated_user(alice):
    plain = services.token_create(user=alice, name="ci").plain
    alice.is_active = False
    alice.save()
    response = bearer(plain).get(PROFILES)
    assert response.status_code == 401 and response.json()["detail"] == "This account is disabled."


def test_it_throttles_each_user_across_tokens_and_session_with_retry_after(alice, bob, settings):
    """Counted per user, not per token: making more tokens does not buy more requests."""
    settings.API_THROTTLE_RATE = "4/min"
    first, second = (bearer(services.token_create(user=alice, name=n).plain) for n in ("a", "b"))
    session = APIClient()
    session.force_login(alice)
    assert [c.get(PROFILES).status_code for c in (first, second, first, session)] == [200] * 4
    for client in (first, second, session):
        refused = client.get(PROFILES)
        assert refused.status_code == 429
        assert 1 <= int(refused["Retry-After"]) <= 60
    third = bearer(services.token_create(user=alice, name="c").plain)
    assert third.get(PROFILES).status_code == 429
    bobs = bearer(services.token_create(user=bob, name="b").plain)
    assert bobs.get(PROFILES).status_code == 200  # bob has his own count


def test_it_lists_only_the_users_own_tokens(client, alice, bob):
    alices = services.token_create(user=alice, name="alice import").token
    services.token_create(user=bob, name="bob script")
    client.force_login(bob)
    page = client.get(reverse("token_list")).content.decode()
    assert "bob script" in page and "alice import" not in page and alices.prefix not in page


def test_it_lets_only_the_owner_revoke_a_token(client, alice, bob):
    created = services.token_create(user=alice, name="ci")
    client.force_login(bob)
    assert client.post(reverse("token_revoke", args=[created.token.pk])).status_code == 404
    assert bearer(created.plain).get(PROFILES).status_code == 200


def test_it_requires_login_for_the_token_pages(client, alice):
    token = services.token_create(user=alice, name="ci").token
    for response in [
        client.get(reverse("token_list")),
        client.post(reverse("token_create"), {"name": "x"}),
        client.post(reverse("token_revoke", args=[token.pk])),
    ]:
        assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert ApiToken.objects.count() == 1 and ApiToken.objects.get().revoked_at is None


def test_it_refuses_an_invalid_token_form(client, alice):
    client.force_login(alice)
    response = client.post(reverse("token_create"), {"name": "", "expires_in_days": "0"})
    assert response.status_code == 400 and not ApiToken.objects.exists()


def test_it_shows_admins_only_the_prefix(client, django_user_model, alice):
    admin = django_user_model.objects.create_superuser("root", password="root-pass")
    created = services.token_create(user=alice, name="ci")
    client.force_login(admin)
    listing = client.get(reverse("admin:api_apitoken_changelist")).content.decode()
    detail = client.get(reverse("admin:api_apitoken_change", args=[created.token.pk])).content.decode()
    for page in (listing, detail):
        assert f"fap_{created.token.prefix}_" in page
        assert created.token.key_hash not in page and created.plain not in page
    assert client.get(reverse("admin:api_apitoken_add")).status_code == 403


def test_it_keeps_a_default_webhook_url_with_a_new_token(client, alice):
    client.force_login(alice)
    response = client.post(
        "/tokens/new/", {"name": "crm", "default_callback_url": "https://hooks.example.com/x"}
    )
    assert response.status_code == 200
    assert alice.api_tokens.get().default_callback_url == "https://hooks.example.com/x"
