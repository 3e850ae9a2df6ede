"""Password log-in when LOCAL_PASSWORDS is false: superusers only."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.backends import ModelBackend


class SuperuserPasswordBackend(ModelBackend):
    """Everyone logs in through the company directory; superusers keep their portal password as
    the way in when the directory is down. Checked after the password, so that a refused
    non-superuser costs the same time as a wrong password and counts towards the throttle."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None and not settings.LOCAL_PASSWORDS and not user.is_superuser:
            return None
        return user
