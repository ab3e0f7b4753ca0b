"""A console user changes their own password: the current one is required (checked under the login
throttle, so a borrowed session cannot guess it), every other session of theirs ends and this browser
gets a new session. The page's form and the JSON route share one service function.
"""

from __future__ import annotations

import msgspec
from aiohttp import web

from wall.store.audit import Event
from wall.web.admin import MIN_PASSWORD
from wall.web.auth import (
    MAX_PASSWORD,
    LoginResult,
    csrf_for,
    identity,
    require,
    set_session_cookie,
    verify_throttled,
)
from wall.web.console import page, read
from wall.web.http import json_response
from wall.web.inputs import refusal
from wall.web.keys import STORE


class PasswordChange(msgspec.Struct, forbid_unknown_fields=True):
    current: str
    new: str
    again: str | None = None  # the form asks twice; a script knows what it sends


class Refused(Exception):
    """A password change refused: the HTTP status, what to fix, and for a 429 the wait in seconds."""

    def __init__(self, status: int, message: str, retry_after: int = 0) -> None:
        super().__init__(message)
        self.status, self.retry_after = status, retry_after


async def change_own_password(request: web.Request, change: PasswordChange) -> tuple[str, int]:
    """Check and store the new password; returns (the new session's token, how many other sessions
    ended). Raises Refused with the status and what to fix."""
    ident = identity(request)
    if not MIN_PASSWORD <= len(change.new) <= MAX_PASSWORD:
        raise Refused(400, f"new: a password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    if change.again is not None and change.again != change.new:
        raise Refused(400, "again: the two new passwords differ")
    if change.new == change.current:
        raise Refused(400, "new: choose a password other than the current one")
    user = await verify_throttled(request, ident.username, change.current[:MAX_PASSWORD])
    if isinstance(user, LoginResult):
        if user.status in (429, 503):  # throttled, or too many password checks at once
            raise Refused(user.status, user.message, user.retry_after)
        raise Refused(403, "current: that is not your current password")
    store = request.app[STORE]
    await store.users.passwd(user.username, change.new)
    ended = await store.sessions.revoke_all_for_user(user.id)  # this browser's too: it gets a new one
    token, _ = await store.sessions.create(user.id)
    await store.audit.record(Event("user.password", user.username, target=user.username,
                                   after={"other_sessions_ended": max(0, ended - 1)}))
    return token, max(0, ended - 1)


@require("presenter")
async def password_page(request: web.Request) -> web.Response:
    ended = request.query.get("changed")
    message = f"Password changed; {ended} other session(s) ended." if ended and ended.isdigit() else ""
    return page(request, "console/password.html", done=message, message="", min_password=MIN_PASSWORD)


@require("presenter")
async def password_form(request: web.Request) -> web.StreamResponse:
    """POST /console/password from the page: back to the page with what happened."""
    change = await read(request, PasswordChange)
    try:
        token, ended = await change_own_password(request, change)
    except Refused as e:
        response = page(request, "console/password.html", done="", message=str(e), min_password=MIN_PASSWORD)
        response.set_status(e.status)
        if e.retry_after:
            response.headers["Retry-After"] = str(e.retry_after)
        return response
    redirect = web.HTTPSeeOther(f"/console/password?changed={ended}")
    set_session_cookie(request, redirect, token)
    raise redirect


@require("presenter")
async def password_api(request: web.Request) -> web.StreamResponse:
    """POST /console/api/password {"current", "new"}: the new session's CSRF token comes back."""
    change = await read(request, PasswordChange)
    try:
        token, ended = await change_own_password(request, change)
    except Refused as e:
        extra = {"retry_after": e.retry_after} if e.retry_after else {}
        answer = refusal(e.status, str(e), **extra)
        if e.retry_after:
            answer.headers["Retry-After"] = str(e.retry_after)
        raise answer from None
    response = json_response({"ok": True, "result": {"other_sessions_ended": ended, "csrf": csrf_for(token)}})
    set_session_cookie(request, response, token)
    return response


def add_password_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/console/password", password_page)
    r.add_post("/console/password", password_form)
    r.add_post("/console/api/password", password_api)
