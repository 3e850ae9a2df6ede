from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def company_login() -> dict:
    """What the log-in page offers: the provider's button, and the password form (hidden when
    passwords are the directory's business alone: no local passwords and no LDAP)."""
    return {
        "oidc": settings.OIDC_ENABLED,
        "label": settings.OIDC_BUTTON_LABEL,
        "password_form": settings.LOCAL_PASSWORDS or bool(settings.AUTH_LDAP_SERVER_URI),
    }
