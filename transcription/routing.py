from django.urls import path

from transcription.consumers import JobsConsumer
from transcription.live_consumer import LiveConsumer

websocket_urlpatterns = [
    path("ws/jobs/", JobsConsumer.as_asgi()),
    path("ws/jobs/<uuid:job_id>/", JobsConsumer.as_asgi()),
    path("ws/live/", LiveConsumer.as_asgi()),
]
