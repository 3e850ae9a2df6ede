"""The OpenAPI schema: valid, served with Swagger UI from the portal itself, and true: every
operation, fed generated requests by schemathesis, answers without a server error and as the
schema says (status codes, content types, bodies)."""

from pathlib import Path

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis import checks

from api import services as token_services

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_profile")]

MAX_EXAMPLES = 8  # per operation and generation mode: keeps the run to seconds


def test_it_generates_a_valid_schema_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = out.read_text()
    for path in ["/api/v1/jobs/", "/api/v1/hotword-lists/", "/api/v1/profiles/", "/v1/audio/transcriptions"]:
        assert f"  {path}:" in schema


def test_it_serves_swagger_ui_without_a_cdn(client):
    page = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    # Its start-up script is a file of its own (no inline script: the page's CSP allows none).
    assert '<script src="/api/docs/?script="></script>' in page and "<script>" not in page
    script = client.get("/api/docs/?script=").content.decode()
    assert "cdn" not in (page + script).lower() and "/api/schema/" in script
    assert (
        client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["info"]["title"]
        == "FunASR Portal API"
    )


def test_it_serves_the_sidecar_assets_locally():
    from django.contrib.staticfiles import finders

    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert Path(finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css")).stat().st_size > 0


@pytest.fixture
def api(settings, default_profile):
    """Django's WSGI app in this thread, on the test's database connection. Like Django's test
    client, keep request start and end from closing that connection."""
    settings.API_WAIT_SECONDS = 0  # transcriptions answer 202 at once: no worker runs here
    settings.API_THROTTLE_RATE = "100000/min"
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def token(alice) -> str:
    return token_services.token_create(user=alice, name="schemathesis").plain


# Left out: whether the API is as strict or as lenient as the schema could be. A schema-valid
# request may name a profile that does not exist (400 is right), and DRF reads 1 as "1" and an
# empty form field as absent, by design. Server errors and answers that differ from the schema
# (status codes, content types, bodies, headers) are all checked.
LENIENT = [checks.positive_data_acceptance, checks.negative_data_rejection]

# The schema the portal serves at /api/schema/ (generated the same way, without a request).
schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.app = get_wsgi_application()
schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True)


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_it_answers_every_operation_as_its_schema_says(case, api, token):
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, excluded_checks=LENIENT)
