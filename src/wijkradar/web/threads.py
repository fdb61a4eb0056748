"""Two queues for the work a web worker does off its event loop: pages, and the short steps.

Pages (rendering, exports, logging in with its deliberately slow password hash) take
milliseconds to tens of milliseconds of CPU each, and Python runs one thread at a time: ten pages
rendered at once do not finish sooner than three, they only hand the interpreter lock around
(every hand-over costing up to 5 ms) and keep the event loop from getting it. So a worker renders
a few pages at a time (``WIJKRADAR_THREADS``, default 2) and the rest wait their turn in order.
The short steps every request or form needs (looking up the session, saving a goal and its audit
entry) have a queue of their own, so they never wait behind a row of pages.

Measured with ``benchmarks/web.py`` (2 workers, 20 clients, 10% writes, a 2-core machine), before
the goals page was drawn from per-goal parts: goal save p95 212-262 ms with anyio's default of 40
threads; 133-198 ms with 1 or 2, 177-217 ms with 3. Since: 100-118 ms with 2, 120 ms with 3.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from fastapi import FastAPI, Request

T = TypeVar("T")
QUICK_THREADS = 4


def configure(app: FastAPI, page_threads: int) -> None:
    """Set the size of both queues; call from the app's lifespan (they belong to its event loop)."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = page_threads
    app.state.quick_steps = anyio.CapacityLimiter(QUICK_THREADS)


async def quick(request: Request, func: Callable[..., T], *args: Any) -> T:
    """Run a short step in a thread of the quick queue (before any queued page)."""
    limiter = getattr(request.app.state, "quick_steps", None)
    return await anyio.to_thread.run_sync(partial(func, *args), limiter=limiter)
