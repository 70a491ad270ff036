"""The ASGI entry point: HTTP through Django, WebSockets through Channels."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "semantik.settings")

import django  # noqa: E402

# Django must be set up before the handler, and the routing (and the models it imports), load.
django.setup(set_prefix=False)

from semantik.web.handler import PooledThreadASGIHandler  # noqa: E402

django_asgi_app = PooledThreadASGIHandler()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from semantik.realtime.auth import JWTSubprotocolAuthMiddleware  # noqa: E402
from semantik.realtime.origin import OriginValidator  # noqa: E402
from semantik.realtime.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": OriginValidator(JWTSubprotocolAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)
