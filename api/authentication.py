from rest_framework.authentication import BaseAuthentication


class PersonalTokenAuthentication(BaseAuthentication):
    """Placeholder: replaced by the real implementation."""

    def authenticate(self, request):
        return None
