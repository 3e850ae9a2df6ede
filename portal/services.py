"""Writes that belong to the portal as a whole rather than to one app."""

from __future__ import annotations

import secrets
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction


@transaction.atomic
def demo_admin_ensure(*, password_file: Path, username: str = "admin") -> tuple[str, str | None]:
    """Create the demo superuser once, keeping its generated password in `password_file`
    (readable by the owner only) so `make run` can show it every time.

    Returns (username, password); password is None once someone has changed it."""
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        password_file.parent.mkdir(parents=True, exist_ok=True)
        password_file.touch(mode=0o600)
        password_file.write_text(password)
        return username, password
    saved = password_file.read_text().strip() if password_file.exists() else ""
    return username, saved if saved and user.check_password(saved) else None
