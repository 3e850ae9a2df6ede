"""Writes of LLM configuration: saving a connection (its key kept unless replaced) and testing it."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from llm import client
from llm.models import LlmConnection

logger = logging.getLogger(__name__)

CHECK_PROMPT = "Reply with the single word OK."


def connection_save(*, connection: LlmConnection, api_key: str | None) -> LlmConnection:
    """Save `connection`; `api_key` None keeps the stored key, "" removes it, anything else replaces
    it. Making it active makes every other one inactive (the portal uses one)."""
    if api_key is not None:
        connection.api_key = api_key
    with transaction.atomic():
        if connection.active:
            LlmConnection.objects.exclude(pk=connection.pk).filter(active=True).update(active=False)
        connection.full_clean()
        connection.save()
    logger.info("LLM connection %s saved: %s, model %s", connection.pk, connection.base_url, connection.model)
    return connection


def connection_check(*, connection: LlmConnection) -> str:
    """Ask the model for one word and record how it went: "" when it answered, else why not."""
    try:
        answer = client.chat(connection.endpoint(), [{"role": "user", "content": CHECK_PROMPT}], max_tokens=8)
        error = "" if answer.text else "The model answered with nothing."
    except client.LlmError as exc:
        error = str(exc)
    LlmConnection.objects.filter(pk=connection.pk).update(checked_at=timezone.now(), check_error=error)
    logger.info("LLM connection %s tested: %s", connection.pk, error or "answered")
    return error
