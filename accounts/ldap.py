"""Log-in with a directory password (django-auth-ldap) on the portal's usual log-in form, which
throttles failures as for any password. Users are matched by user name (the directory's is the
reference: a portal account of the same name is that person's), created at their first log-in.
A team follows an LDAP group when its `directory_group` is the group's DN (compared as DNs:
case and spaces between parts do not matter); staff rights follow LDAP_STAFF_GROUP."""

from __future__ import annotations

from collections.abc import Iterable

import ldap
from django.conf import settings
from django_auth_ldap.backend import LDAPBackend, LDAPSettings
from django_auth_ldap.config import (
    ActiveDirectoryGroupType,
    GroupOfNamesType,
    GroupOfUniqueNamesType,
    LDAPSearch,
    PosixGroupType,
)

from accounts.services import directory_login_apply
from teams.models import Team

# LDAP_GROUP_TYPE: how membership is recorded, and which entries are groups.
GROUP_TYPES = {
    "groupOfNames": (GroupOfNamesType, "(objectClass=groupOfNames)"),
    "groupOfUniqueNames": (GroupOfUniqueNamesType, "(objectClass=groupOfUniqueNames)"),
    "posixGroup": (PosixGroupType, "(objectClass=posixGroup)"),
    "activeDirectory": (ActiveDirectoryGroupType, "(objectClass=group)"),
}
USER_ATTR_MAP = {"first_name": "givenName", "last_name": "sn", "email": "mail"}


def dn_key(dn: str) -> str:
    try:
        return ldap.dn.dn2str(ldap.dn.str2dn(dn)).lower()
    except ldap.DECODING_ERROR:
        return dn.strip().lower()


def ldap_settings() -> LDAPSettings:
    """django-auth-ldap's settings, built from the portal's plain ones (portal/settings.py holds
    strings only, so that it imports no LDAP library)."""
    conf = LDAPSettings("AUTH_LDAP_", {})
    conf.USER_SEARCH = LDAPSearch(
        settings.LDAP_USER_SEARCH_BASE, ldap.SCOPE_SUBTREE, settings.LDAP_USER_FILTER
    )
    group_type, groups_filter = GROUP_TYPES[settings.LDAP_GROUP_TYPE]
    group_base = settings.LDAP_GROUP_SEARCH_BASE or settings.LDAP_USER_SEARCH_BASE
    conf.GROUP_SEARCH = LDAPSearch(group_base, ldap.SCOPE_SUBTREE, groups_filter)
    conf.GROUP_TYPE = group_type()
    conf.USER_ATTR_MAP = USER_ATTR_MAP
    # A directory that does not answer must not hold the log-in page for minutes.
    conf.CONNECTION_OPTIONS = {ldap.OPT_NETWORK_TIMEOUT: 5, ldap.OPT_TIMEOUT: 10}
    return conf


def team_groups(dns: Iterable[str]) -> set[str]:
    """The teams' `directory_group` values that name these DNs, as written on the teams."""
    wanted = {dn_key(dn) for dn in dns}
    named = Team.objects.exclude(directory_group="").values_list("directory_group", flat=True)
    return {group for group in named if dn_key(group) in wanted}


class DirectoryLdapBackend(LDAPBackend):
    @property
    def settings(self) -> LDAPSettings:
        if self._settings is None:
            self._settings = ldap_settings()
        return self._settings

    @settings.setter
    def settings(self, value: LDAPSettings) -> None:
        self._settings = value

    def authenticate_ldap_user(self, ldap_user, password):
        user = super().authenticate_ldap_user(ldap_user, password)
        if user is not None and user.is_active:
            group_dns = ldap_user.group_dns
            staff_group = settings.LDAP_STAFF_GROUP
            directory_login_apply(
                user=user,
                groups=team_groups(group_dns),
                manager_groups=team_groups(settings.LDAP_MANAGER_GROUPS),
                staff=dn_key(staff_group) in {dn_key(dn) for dn in group_dns} if staff_group else None,
            )
        return user
