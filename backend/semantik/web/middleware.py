"""Static files (the UI, the admin's assets) served by WhiteNoise without serialising the API behind it.

WhiteNoise's middleware is synchronous only. Under ASGI, Django then runs it, and every view
below it, on its one thread for synchronous code, so requests are answered one at a time however
many arrive together. This subclass also runs asynchronously: a request that is no static file
goes straight on to the next middleware, and a view may run in a thread of its own.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponseBase
from whitenoise.middleware import WhiteNoiseMiddleware


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Any = None) -> None:
        super().__init__(get_response)
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self._async:
            return self._acall(request)
        return super().__call__(request)

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        if self.autorefresh:  # development: looks on disk
            static_file = await sync_to_async(self.find_file)(request.path_info)
        else:
            static_file = self.files.get(request.path_info)
        if static_file is not None:
            return await sync_to_async(self.serve)(static_file, request)
        response: HttpResponseBase = await self.get_response(request)
        return response
