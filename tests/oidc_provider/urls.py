"""The provider's pages: OAuth 2 and OIDC under o/, a log-in page, and two test-only endpoints
the fixture uses to set up people and the portal's client."""

import json

from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.models import Group
from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.models import get_application_model


@csrf_exempt
def person_put(request):
    """{"username", "password", "email", "first_name", "last_name", "groups": [...]}."""
    data = json.loads(request.body)
    user, _ = get_user_model().objects.get_or_create(username=data["username"])
    user.email = data.get("email", "")
    user.first_name, user.last_name = data.get("first_name", ""), data.get("last_name", "")
    user.set_password(data["password"])
    user.save()
    user.groups.set([Group.objects.get_or_create(name=name)[0] for name in data.get("groups", [])])
    return JsonResponse({"id": user.pk})


@csrf_exempt
def client_put(request):
    """A confidential client, authorization code, RS256: {"client_id", "client_secret", "redirect_uri"}."""
    data = json.loads(request.body)
    application_model = get_application_model()
    application_model.objects.filter(client_id=data["client_id"]).delete()
    application_model.objects.create(
        name="FunASR Portal",
        client_id=data["client_id"],
        client_secret=data["client_secret"],
        client_type=application_model.CLIENT_CONFIDENTIAL,
        authorization_grant_type=application_model.GRANT_AUTHORIZATION_CODE,
        redirect_uris=data["redirect_uri"],
        algorithm=application_model.RS256_ALGORITHM,
        skip_authorization=True,
    )
    return JsonResponse({"client_id": data["client_id"]})


urlpatterns = [
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("testing/person/", person_put),
    path("testing/client/", client_put),
]
