"""Django's ASGI handler, with each HTTP request answered whole on one thread of a fixed pool.

Stock Django under ASGI runs the synchronous parts of a request (every `MiddlewareMixin`
middleware's process_request and process_response, then the view) as separate hops onto a
thread it starts for that request: about twenty thread switches and a thread start per request,
all holding the GIL. Measured on the search endpoint (2 cores, 8 clients): that bookkeeping was a
fifth of the process's GIL time. Here the synchronous middleware chain runs in one call on a
pooled thread, as under WSGI; the event loop still reads bodies, streams responses and serves
WebSockets.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.base import BaseHandler
from django.db import close_old_connections
from django.http import HttpRequest


class PooledThreadASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        # BaseHandler's, not ASGIHandler's: that would build the asynchronous middleware chain,
        # which this handler never calls.
        BaseHandler.__init__(self)
        self.load_middleware(is_async=False)  # the synchronous chain, called once per request
        self._threads = ThreadPoolExecutor(max_workers=settings.WEB_THREADS, thread_name_prefix="http")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        # No per-request ThreadSensitiveContext: Django's would start a thread per request for
        # the request_started/finished signals and response.close(); they are quick, and share
        # asgiref's one thread for such calls.
        await self.handle(scope, receive, send)

    async def get_response_async(self, request: HttpRequest) -> Any:
        respond = sync_to_async(self._respond, thread_sensitive=False, executor=self._threads)
        return await respond(request)

    def _respond(self, request: HttpRequest) -> Any:
        # Django closes a request's database connections from the request_started and
        # request_finished signals, which run on another thread: this one does its own.
        close_old_connections()
        try:
            return self.get_response(request)
        finally:
            close_old_connections()
