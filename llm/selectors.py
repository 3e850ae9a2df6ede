"""Reads of LLM configuration. The connection is deployment configuration, not a user's data: the
selectors take `user=` all the same, so that a feature asks on someone's behalf and cannot forget to."""

from __future__ import annotations

from llm.models import LlmConnection


def connection_active(*, user) -> LlmConnection | None:
    """The connection the portal uses, or None: the features that need a model are then hidden."""
    if user is None or not user.is_authenticated:
        return None
    return LlmConnection.objects.filter(active=True).first()
