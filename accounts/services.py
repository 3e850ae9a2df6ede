"""Writes at a log-in through the company directory (OIDC or LDAP)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import transaction

from accounts.models import OidcIdentity
from teams.services import memberships_sync_from_directory

USERNAME_MAX = 150
# What Django's username validator accepts: anything else becomes "_".
_NOT_USERNAME = re.compile(r"[^\w.@+-]")


@transaction.atomic
def oidc_user_create(
    *, issuer: str, subject: str, username: str, email: str = "", first_name: str = "", last_name: str = ""
):
    """The portal user of a person's first OIDC log-in, linked to the provider's subject. The
    name is theirs when free; a name already taken (a local account, or another provider's
    person) gets a number rather than that account."""
    user = get_user_model().objects.create_user(
        _free_username(username or subject),
        email=email,
        first_name=first_name[:150],
        last_name=last_name[:150],
    )  # no password: create_user makes it unusable
    OidcIdentity.objects.create(user=user, issuer=issuer, subject=subject)
    return user


@transaction.atomic
def directory_profile_update(*, user, email: str, first_name: str, last_name: str) -> None:
    """The directory is the reference for a person's address and names: refreshed at each log-in
    (a value the directory does not give is left as it is)."""
    given = {"email": email, "first_name": first_name[:150], "last_name": last_name[:150]}
    changed = [field for field, value in given.items() if value and getattr(user, field) != value]
    for field in changed:
        setattr(user, field, given[field])
    if changed:
        user.save(update_fields=changed)


@transaction.atomic
def directory_login_apply(
    *, user, groups: Iterable[str], manager_groups: Iterable[str] = (), staff: bool | None = None
) -> None:
    """At each directory log-in: staff rights follow the staff group (`staff` None: no staff
    group is configured, the rights are set by hand), and the teams follow the groups. A
    superuser stays staff whatever the directory says, so that the admin stays reachable."""
    if staff is not None:
        wanted = staff or user.is_superuser
        if user.is_staff != wanted:
            user.is_staff = wanted
            user.save(update_fields=["is_staff"])
    memberships_sync_from_directory(user=user, groups=groups, manager_groups=manager_groups)


def _free_username(wanted: str) -> str:
    base = _NOT_USERNAME.sub("_", wanted.strip())[: USERNAME_MAX - 6] or "user"
    users = get_user_model().objects
    candidate, number = base, 1
    while users.filter(username__iexact=candidate).exists():
        number += 1
        candidate = f"{base}-{number}"
    return candidate
