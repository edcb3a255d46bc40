"""The few ASGI pieces the package's two raw-ASGI apps share (simulator, callback receiver).

Both are raw ASGI on purpose (no web framework to install or to pay for per request);
these are the types they are written against and the lifespan handshake both answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["ASGIApp", "Message", "Receive", "Scope", "Send", "lifespan"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def lifespan(receive: Receive, send: Send) -> None:
    """Answer the server's startup and shutdown messages; the apps keep no resources.

    Args:
        receive: The ASGI receive callable of a ``lifespan`` scope.
        send: The ASGI send callable of that scope.

    """
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
