"""``POST /actions/webhook``: Rasa's action endpoint, served by the bot itself.

rasa-sdk's executor runs the actions of ``actions/`` here, with the bot's own store and FAQ
index (``actions.providers.hosting``): one encoder and one index per replica, and the
actions answer from whatever version the bot's index has caught up with. Rasa's
``action_endpoint`` points here (``bot.supervisor.rasa_endpoints``).

Only Rasa may call it: the caller must be on this machine (a loopback peer, not a request
the balancer forwarded) and send ``Authorization: Bearer <rasa.actions_token>``; without a
token set the endpoint refuses every call. The refusal comes before the body is read, so
the request guard (body limits) lets this path through: Rasa's calls carry the whole
conversation and the domain, often more than a citizen's request may. (rasa-sdk's own
server also warns on every call that Rasa 3.6 and rasa-sdk 3.21 differ in version; the pair
is the one tested here, so that check is left out.)
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import zlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import (
    ActionExecutionRejection,
    ActionMissingDomainException,
    ActionNotFoundException,
)
from starlette.concurrency import run_in_threadpool

from actions.providers import ActionResources, hosting
from bot.chat.rasa_engine import ACTIONS_PATH

__all__ = ["ACTIONS_PATH", "action_executor", "caller_allowed", "router"]

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


def action_executor() -> ActionExecutor:
    """rasa-sdk's executor with every action of the ``actions`` package registered."""
    executor = ActionExecutor()
    executor.register_package("actions")
    return executor


def caller_allowed(request: Request, token: str) -> bool:
    """A loopback peer, no forwarding proxy in between, and the token."""
    if not token or request.client is None or "x-forwarded-for" in request.headers:
        return False
    try:
        if not ipaddress.ip_address(request.client.host).is_loopback:
            return False
    except ValueError:
        return False
    sent = request.headers.get("authorization", "")
    return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())


def _run(executor: ActionExecutor, call: dict[str, Any], resources: ActionResources) -> Any:
    """One action call on a worker thread (the actions block on the store and the encoder)."""
    with hosting(resources):
        return asyncio.run(executor.run(call))


def _refusal(
    error: ActionExecutionRejection | ActionNotFoundException | ActionMissingDomainException,
) -> Response:
    status = {ActionExecutionRejection: 400, ActionNotFoundException: 404, ActionMissingDomainException: 449}
    return JSONResponse({"error": error.message, "action_name": error.action_name}, status[type(error)])


@router.post(ACTIONS_PATH)
async def webhook(request: Request) -> Response:
    settings = request.app.state.settings
    if not caller_allowed(request, settings.rasa.actions_token.get_secret_value()):
        return JSONResponse({"error": "only this machine's Rasa may call the actions"}, 403)
    body = await request.body()
    try:
        if request.headers.get("content-encoding") == "deflate":
            body = zlib.decompress(body)
        call = json.loads(body)
    except (ValueError, zlib.error):
        call = None
    if not isinstance(call, dict):
        return JSONResponse({"error": "Invalid body request"}, 400)
    resources = ActionResources(settings, request.app.state.database, request.app.state.index)
    try:
        result = await run_in_threadpool(_run, request.app.state.actions, call, resources)
    except (ActionExecutionRejection, ActionNotFoundException, ActionMissingDomainException) as error:
        log.debug("action call refused: %s", error)
        return _refusal(error)
    # rasa-sdk 3.21 gives a pydantic model, earlier versions the dict itself
    return JSONResponse(result.model_dump() if hasattr(result, "model_dump") else result)
