"""A local HTTP server whose answers each test scripts (feed and page fetching tests)."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestServer


class LocalServer:
    """Serves every GET path with `handler` (settable after creation) and
    records the requests it got."""

    def __init__(self, handler=None, host: str = "127.0.0.1"):
        self.requests: list[web.Request] = []
        self.handler = handler
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._dispatch)
        self.server = TestServer(app, host=host)

    async def _dispatch(self, request):
        self.requests.append(request)
        return await self.handler(request)

    @property
    def paths(self) -> list[str]:
        """Path and query of each request, in order."""
        return [r.path_qs for r in self.requests]

    def url(self, path: str = "/feed.xml") -> str:
        return str(self.server.make_url(path))

    async def __aenter__(self):
        await self.server.start_server()
        return self

    async def __aexit__(self, *exc):
        await self.server.close()
