"""LLM connections in Django admin (llm/admin.py, services.py, selectors.py): the key is write-only,
one connection is active, and "Test the connection" asks a real server on loopback."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from llm import selectors
from llm.models import LlmConnection

pytestmark = pytest.mark.django_db

KEY = "sk-in-house-0123456789abcdef"


def form(**fields) -> dict:
    return {
        "name": "ollama",
        "base_url": "http://10.0.0.5:11434/v1",
        "model": "qwen2.5:7b",
        "new_api_key": "",
        "timeout_seconds": 120,
        "context_tokens": 8192,
        "max_answer_tokens": 1024,
        "active": "on",
    } | fields


def test_it_keeps_the_key_write_only(admin_client, caplog):
    caplog.set_level(logging.DEBUG)
    response = admin_client.post(reverse("admin:llm_llmconnection_add"), form(new_api_key=KEY))
    assert response.status_code == 302
    connection = LlmConnection.objects.get()
    assert connection.api_key == KEY
    change = reverse("admin:llm_llmconnection_change", args=[connection.pk])
    assert KEY not in admin_client.get(change).content.decode()
    assert KEY not in admin_client.get(reverse("admin:llm_llmconnection_changelist")).content.decode()
    admin_client.post(change, form(model="qwen2.5:14b"))  # the key field left empty: kept
    connection.refresh_from_db()
    assert connection.model == "qwen2.5:14b" and connection.api_key == KEY
    admin_client.post(change, form(new_api_key="sk-new-key-42"))
    connection.refresh_from_db()
    assert connection.api_key == "sk-new-key-42"
    admin_client.post(change, form(forget_key="on"))
    connection.refresh_from_db()
    assert connection.api_key == ""
    assert KEY not in caplog.text and "sk-new-key-42" not in caplog.text


@pytest.mark.parametrize(
    "fields, error",
    [
        ({"base_url": "ftp://llm/v1"}, "Only http and https URLs are allowed."),
        ({"base_url": f"http://me:{KEY}@llm/v1"}, "Put the API key in its own field"),
        ({"max_answer_tokens": 9000}, "must leave room for the transcript"),
    ],
)
def test_it_refuses_a_connection_it_could_not_use(admin_client, fields, error):
    response = admin_client.post(reverse("admin:llm_llmconnection_add"), form(**fields))
    assert response.status_code == 200 and error in response.content.decode()
    assert not LlmConnection.objects.exists()


def test_it_uses_one_active_connection(admin_client, alice):
    admin_client.post(reverse("admin:llm_llmconnection_add"), form(name="old"))
    response = admin_client.post(reverse("admin:llm_llmconnection_add"), form(name="new"))
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert list(LlmConnection.objects.filter(active=True).values_list("name", flat=True)) == ["new"]
    assert selectors.connection_active(user=alice).name == "new"
    LlmConnection.objects.update(active=False)
    assert selectors.connection_active(user=alice) is None  # the features that need it are hidden


def test_it_tests_the_connection_against_the_server(admin_client, llm):
    llm.api_key = KEY
    good = LlmConnection.objects.create(name="good", base_url=llm.url, model="m", api_key=KEY)
    bad = LlmConnection.objects.create(
        name="bad", base_url=llm.url, model="m", api_key="sk-wrong", active=False
    )
    response = admin_client.post(
        reverse("admin:llm_llmconnection_changelist"),
        {"action": "test_connection", "_selected_action": [good.pk, bad.pk]},
        follow=True,
    )
    page = response.content.decode()
    said = sorted(str(m) for m in response.context["messages"])
    assert said == ["bad: The language model answered HTTP 401: Invalid API key", "good: the model answered."]
    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.checked_at and good.check_error == "" and "HTTP 401" in bad.check_error
    assert llm.received[0].body["messages"] == [{"role": "user", "content": "Reply with the single word OK."}]
    assert KEY not in page


def test_it_gives_no_connection_to_nobody(alice):
    from django.contrib.auth.models import AnonymousUser

    LlmConnection.objects.create(name="x", base_url="http://llm/v1", model="m")
    assert selectors.connection_active(user=AnonymousUser()) is None
    assert selectors.connection_active(user=alice) is not None
