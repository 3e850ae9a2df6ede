import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django_asgi_app = get_asgi_application()  # before importing consumers: it sets Django up

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from api.live_socket import TokenAuthMiddleware  # noqa: E402
from api.openai_compat import answer_ended  # noqa: E402
from api.waiting import WaitForTranscripts  # noqa: E402
from portal import server  # noqa: E402
from transcription.live_consumer import LiveConsumer  # noqa: E402
from transcription.routing import websocket_urlpatterns  # noqa: E402

# Sockets carry the session cookie: the origin check stops other sites using it.
pages = AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
# Programs send a personal token; no cookie is read, so no origin is checked (a program has none).
programs = TokenAuthMiddleware(LiveConsumer.as_asgi())


async def websockets(scope, receive, send):
    app = programs if scope["path"] == "/api/v1/live/" else pages
    return await app(scope, receive, send)


application = ProtocolTypeRouter(
    {
        # The OpenAI-compatible endpoint's wait happens here, after Django answered: no thread.
        "http": WaitForTranscripts(django_asgi_app, answer=answer_ended),
        "websocket": websockets,
    }
)

server.skip_twisted_form_parsing()
server.freeze_startup_objects()  # last: once everything is imported
