"""503 "please try again" while the database is away (restarting, failing over, down).

Without this, a route whose store call fails because PostgreSQL is restarting answers 500,
which reads as a bug. Here such errors (``bot.store.db.unavailable``) become 503 with a
message to try again, in the form the client reads (JSON ``{"detail"}``, the Open311 error
list, a small page for a browser) and no ``Retry-After``: the web widget then resends the
same message (same ``message_id``) with its own backoff and tells the citizen it will. Any
other database error stays a 500.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from sqlalchemy import exc
from starlette.responses import Response

from bot.security.refusals import unavailable_response
from bot.store.db import unavailable

__all__ = ["install"]

log = logging.getLogger(__name__)


async def _database_away(request: Request, error: Exception) -> Response:
    if not unavailable(error):
        raise error
    log.warning("%s %s: the database is away, answered 503: %s", request.method, request.url.path, error)
    return unavailable_response(request.scope)


def install(app: FastAPI) -> None:
    app.add_exception_handler(exc.DBAPIError, _database_away)
