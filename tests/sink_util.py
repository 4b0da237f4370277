"""A local webhook receiver and a bounded wait, for the sink tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiohttp import web

from tests.daemon import free_port


async def until(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    for _ in range(int(timeout * 20)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what}: not seen within {timeout}s")


class Receiver:
    """A local HTTP endpoint; `script` gives the status of each request in turn
    (then 200); `gate`, when given, holds every request until it is set."""

    def __init__(self, script: list[int] | None = None, gate: asyncio.Event | None = None,
                 port: int | None = None) -> None:
        self.script, self.gate, self.port = list(script or []), gate, port or free_port()
        self.requests: list[tuple[dict[str, str], bytes, int]] = []  # headers, body, status answered
        self.arrived: list[str] = []  # alert ids, as requests come in (before the gate)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def delivered(self) -> list[str]:
        return [headers["X-Newsmon-Alert-Id"] for headers, _, status in self.requests if status == 200]

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.arrived.append(request.headers["X-Newsmon-Alert-Id"])
        if self.gate is not None:
            await self.gate.wait()
        status = self.script.pop(0) if self.script else 200
        self.requests.append((dict(request.headers), body, status))
        return web.Response(status=status, text="ok" if status == 200 else "try later")

    async def __aenter__(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc) -> None:
        if self.gate is not None:
            self.gate.set()
        assert self._runner is not None
        await self._runner.cleanup()
