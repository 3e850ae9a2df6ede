from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

TOKEN_PREFIX = "fap"  # every personal token starts "fap_<prefix>_": easy to spot in a leaked file


class ApiToken(models.Model):
    """A personal API token. Only the SHA-256 of the token is stored: the plain token is shown
    once, when it is made. `prefix` (8 characters, also inside the token) names it in lists."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. “nightly import”.")
    prefix = models.CharField(max_length=8, unique=True)
    key_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the token, hex.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    default_callback_url = models.URLField(
        max_length=1000, blank=True, help_text="Webhook for jobs created with this token that name none."
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({TOKEN_PREFIX}_{self.prefix}_…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return not self.is_revoked and not self.is_expired
