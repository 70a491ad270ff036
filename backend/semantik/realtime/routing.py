"""WebSocket routes."""

from django.urls import path

from semantik.realtime.consumers import EventsConsumer

websocket_urlpatterns = [path("api/v2/ws", EventsConsumer.as_asgi())]
