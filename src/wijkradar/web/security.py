"""What every response and every request goes through: headers, host and origin, sessions, throttling.

- Security headers on every response: a Content-Security-Policy without inline script,
  ``frame-ancestors 'none'``, ``nosniff``, a strict Referrer-Policy.
- The Host header must be one of the allowed names (``WIJKRADAR_HOSTS``, or the address the server
  listens on); a POST whose Origin (or Referer) is another site is refused.
- Sessions live in the operational store: the cookie holds a random token, the store its hash.
  Logging out revokes the session, so a replayed cookie no longer works.
- Form tokens are bound to the session (and, on the login form, to a cookie of its own).
- Failed logins are counted per name and per address; after five in a quarter of an hour the next
  try waits half a minute, and each further failure doubles that (up to fifteen minutes); every
  failure is logged.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
from datetime import datetime, timedelta
from typing import Final
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wijkradar.access import User
from wijkradar.appdb.core import now
from wijkradar.web.errors import wants_data
from wijkradar.web.site import Site
from wijkradar.web.threads import quick

log = logging.getLogger("wijkradar.web")

SESSION_COOKIE: Final = "wijkradar_sessie"
LOGIN_COOKIE: Final = "wijkradar_login"
PUBLIC: Final = ("/login", "/static/", "/healthz")
FREE_TRIES: Final = 5
FREE_TRIES_PER_ADDRESS: Final = 50
WINDOW: Final = timedelta(minutes=15)
MAX_WAIT_SECONDS: Final = 900
CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; worker-src 'self' blob:; child-src 'self' blob:; connect-src 'self'; "
    "font-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS: Final = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class Guard:
    """Check host, origin and session, then add the security headers to whatever is answered.

    Plain ASGI rather than Starlette's ``BaseHTTPMiddleware``, which costs every request an extra
    task and a pair of memory streams: measurable on a worker whose CPU is the limit.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one request (websockets and lifespan pass untouched)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        refused = _refusal(request) or await _with_user(request)
        user = getattr(request.state, "user", None)
        private = user is not None and request.url.path.startswith(("/gemeente/", "/regio/"))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                if private:  # own data stay off shared caches
                    headers.setdefault("Cache-Control", "private, no-store")
            await send(message)

        if refused is not None:
            await refused(scope, receive, with_headers)
        else:
            await self.app(scope, receive, with_headers)


def _refusal(request: Request) -> Response | None:
    site: Site = request.app.state.site
    host = (request.headers.get("host") or "").rsplit(":", 1)[0].strip("[]").lower()
    if site.hosts and host not in site.hosts:
        return PlainTextResponse("Onbekende hostnaam.", status_code=400)
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        claimed = request.headers.get("origin") or request.headers.get("referer")
        if claimed and claimed != "null":
            origin = urlsplit(claimed)
            if origin.netloc.lower() != (request.headers.get("host") or "").lower():
                log.warning("POST van een andere site geweigerd: %s", origin.netloc[:100])
                return PlainTextResponse("Dit formulier komt niet van deze site.", status_code=403)
        elif claimed == "null":
            return PlainTextResponse("Dit formulier komt niet van deze site.", status_code=403)
    return None


async def _with_user(request: Request) -> Response | None:
    """Set the request's user and form token from its session; answer when it must log in first."""
    site: Site = request.app.state.site
    request.state.user = None
    request.state.form_token = site.site_token
    if site.accounts:
        # In a thread: a query on the event loop would hold up every other request meanwhile.
        session = await quick(request, site.own.accounts.session, request.cookies.get(SESSION_COOKIE, ""))
        if session is not None:
            request.state.user = User.from_row(session[0])
            request.state.form_token = session[1]
        elif not request.url.path.startswith(PUBLIC):
            if wants_data(request):
                return JSONResponse({"detail": "Log eerst in op /login."}, status_code=401)
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?volgende={quote(target)}", status_code=303)
    return None


def login_token(site: Site, nonce: str) -> str:
    """Return the login form's token, bound to the nonce in the login cookie."""
    return hmac.new(site.secret.encode(), f"login:{nonce}".encode(), hashlib.sha256).hexdigest()


def claim_login(site: Site, name: str, address: str) -> tuple[int | None, int]:
    """Count a login attempt before its password is checked; return its id, or how long to wait.

    Per name the free tries are few; per address many more (an office shares one address, and one
    person's typos must not lock out the others), so one address spraying guesses over many names
    still waits.
    """
    return site.own.accounts.claim_attempt(name, address, now() - WINDOW, _wait)


def _wait(by_name: list[datetime], by_address: list[datetime]) -> int:
    """Seconds to wait after these failures (0: go ahead), doubling from 30 s up to 15 minutes."""
    wait = 0
    for failures, free in ((by_name, FREE_TRIES), (by_address, FREE_TRIES_PER_ADDRESS)):
        if len(failures) >= free:
            backoff = min(30 * 2 ** (len(failures) - free), MAX_WAIT_SECONDS)
            left = (failures[-1] + timedelta(seconds=backoff) - now()).total_seconds()
            wait = max(wait, math.ceil(left))
    return max(wait, 0)


def client_address(request: Request) -> str:
    """Return the client's address (the proxy in front decides what that is)."""
    return request.client.host if request.client else "onbekend"
