"""Serving a simulator over real loopback HTTP with uvicorn."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import anyio
import uvicorn

from ._http import ASGIApp, Message, Receive, Scope, Send, error, send_reply
from ._simulator import Simulator

__all__ = ["run_server", "serve"]

_START_TIMEOUT = 10.0
# uvicorn's backstop for anything still running once we have cancelled what we track.
_GRACEFUL_SECONDS = 1


class _Stoppable:
    """Wraps the app so that shutdown can end open requests (hangs) at once, with a 503."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self._scopes: set[anyio.CancelScope] = set()
        self.closing = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        with anyio.CancelScope() as cancel_scope:
            if self.closing:
                cancel_scope.cancel()
            self._scopes.add(cancel_scope)
            try:
                await self._app(scope, receive, tracked)
            finally:
                self._scopes.discard(cancel_scope)
        if cancel_scope.cancelled_caught and not started:
            await send_reply(send, error(503, str(uuid.uuid4()), "Simulator shutting down"))

    def cancel_all(self) -> None:
        """Cancel every open request; must run on the server's loop."""
        for cancel_scope in list(self._scopes):
            cancel_scope.cancel()


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@contextmanager
def serve(sim: Simulator | ASGIApp, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``sim`` on a loopback port in a daemon thread, for the ``with`` block.

    Open requests (a hanging run, say) are answered 503 when the block ends, so leaving
    it takes a fraction of a second whatever the simulator is doing.

    Args:
        sim: The simulator to serve, or any ASGI app (e.g. a test's callback receiver).
        host: Interface to listen on.
        port: Port to listen on; 0 picks a free one.

    Yields:
        The base URL, e.g. ``http://127.0.0.1:54321``.

    Raises:
        OSError: The server could not start (e.g. the port is taken).

    Example:
        >>> with serve(Simulator(latency=(0, 0))) as url:  # doctest: +SKIP
        ...     httpx.get(url + "/api/v2/api-key/validate", headers={"api_key": "sim-key"})

    """
    app = _Stoppable(sim if not isinstance(sim, Simulator) else sim.app)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=_GRACEFUL_SECONDS,
    )
    server = uvicorn.Server(config)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            server.run()
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run, name=f"octave-simulator:{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + _START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(_START_TIMEOUT)
            raise OSError(f"the simulator could not listen on {host}:{port}") from (
                failure[0] if failure else None
            )
        time.sleep(0.005)
    listener = server.servers[0]
    loop: asyncio.AbstractEventLoop = listener.get_loop()
    bound_port = listener.sockets[0].getsockname()[1]
    try:
        yield _url(host, bound_port)
    finally:
        app.closing = True
        loop.call_soon_threadsafe(app.cancel_all)
        server.should_exit = True
        thread.join(_START_TIMEOUT + _GRACEFUL_SECONDS)


def run_server(
    sim: Simulator, host: str = "127.0.0.1", port: int = 8080, *, log_level: str = "info"
) -> None:
    """Serve ``sim`` in the foreground until interrupted (``octave-frames simulator``).

    Args:
        sim: The simulator to serve.
        host: Interface to listen on.
        port: Port to listen on.
        log_level: uvicorn's log level.

    """
    config = uvicorn.Config(
        sim.app,
        host=host,
        port=port,
        log_level=log_level,
        lifespan="off",
        timeout_graceful_shutdown=_GRACEFUL_SECONDS,
    )
    uvicorn.Server(config).run()
