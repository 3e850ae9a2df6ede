"""A tiny OpenID Connect provider for the tests: django-oauth-toolkit with OIDC, run as a
separate Django project in a subprocess on loopback (see `server.py`)."""
