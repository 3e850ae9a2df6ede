import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django_asgi_app = get_asgi_application()  # before importing consumers: it sets Django up

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from api.openai_compat import answer_ended  # noqa: E402
from api.waiting import WaitForTranscripts  # noqa: E402
from portal import server  # noqa: E402
from transcription.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        # The OpenAI-compatible endpoint's wait happens here, after Django answered: no thread.
        "http": WaitForTranscripts(django_asgi_app, answer=answer_ended),
        # Sockets carry the session cookie: the origin check stops other sites using it.
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

server.skip_twisted_form_parsing()
server.freeze_startup_objects()  # last: once everything is imported
