"""The ``rasa`` command (Rasa 3.6, ``.venv-rasa``), with changes that save CPU on every turn.

- Rasa checks every action-server response against its JSON schema with
  ``jsonschema.validate``, which first re-checks the schema itself: about 35 ms of CPU per
  action call, and a turn makes one to three calls (answer an FAQ; validate a form slot, ask
  the next one; file the case). Here the validator is built once; the check, and the error
  for a malformed response, are the same.
- The REST channel's answer also carries the message's intent and confidence, as a hidden
  ``{"custom": {"turn": {"intent": …, "intent_confidence": …}}}`` bubble (the contract of
  ``bot/chat/rasa_engine.py``). Without it the bot reads them from the tracker after the turn:
  one more request, which loads the conversation's events from the tracker store again.
- Rasa opens a new HTTP session, and so a new TCP connection, for every request to an
  endpoint (each action-server call) and closes it after the answer. Here each endpoint's
  session is opened once per event loop and its connections are kept alive — for at most
  ``KEEPALIVE_SECONDS`` idle, less than the bot's server keeps them (uvicorn, 5 s): a call sent
  on a connection the bot is closing fails after being sent, and the citizen's turn with it.
- Every stored event, when a tracker is loaded, looks its class up by walking all subclasses
  of ``Event`` (with an ``inspect.isabstract`` for each); here a name found once is remembered.
- DIET's prediction is a ``tf.function`` with a fixed input signature, which TensorFlow still
  matches against every call's inputs before running the graph; here the graph's concrete
  function is called directly with the inputs as tensors (the same outputs).

Everything else is Rasa's own command line:

    .venv-rasa/bin/python rasa_run.py run --enable-api --model models/bot1999.tar.gz ...

(`bot1999 run` starts Rasa this way; docs/conversation.md has the figures.)
"""

from __future__ import annotations

import asyncio
import sys
from functools import lru_cache
from types import TracebackType
from typing import Any

import aiohttp
import tensorflow as tf
from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.__main__ import main
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.constants import DIAGNOSTIC_DATA, DOCS_BASE_URL
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig
from rasa.utils.tensorflow import models


@lru_cache(maxsize=1)
def _validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """``RemoteAction._validate_action_result`` with the compiled validator (same errors)."""
    error = best_match(_validator().iter_errors(result))
    if error is None:
        return True
    if isinstance(error, ValidationError):
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            f"from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
    raise error


_log_message = MessageProcessor.log_message


async def _log_message_with_intent(
    self: MessageProcessor, message: UserMessage, should_save_tracker: bool = True
) -> DialogueStateTracker:
    """``MessageProcessor.log_message``; a collecting channel (REST) also gets the intent."""
    tracker = await _log_message(self, message, should_save_tracker)
    if isinstance(message.output_channel, CollectingOutputChannel):
        intent = tracker.latest_message.intent if tracker.latest_message else {}
        turn = {"intent": intent.get("name"), "intent_confidence": intent.get("confidence")}
        message.output_channel.messages.append({"recipient_id": message.sender_id, "custom": {"turn": turn}})
    return tracker


class _KeptOpen:
    """``async with`` hands out a long-lived session and leaves it open."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self.session

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        return None


_sessions: dict[tuple[Any, ...], aiohttp.ClientSession] = {}
# aiohttp's pool keeps an idle connection 15 s by default; the bot (uvicorn, which serves the
# actions) closes one idle for 5 s (bot.cli.SERVER_KEEPALIVE_SECONDS)
KEEPALIVE_SECONDS = 2.0


def _session(self: EndpointConfig) -> _KeptOpen:
    """``EndpointConfig.session`` (the same headers, authentication and timeout), opened once
    per event loop for each such set and kept open: its connections are reused."""
    auth = None
    if self.basic_auth:
        auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
    loop = asyncio.get_running_loop()
    key = (id(loop), tuple(sorted((self.headers or {}).items())), auth)
    session = _sessions.get(key)
    if session is None or session.closed or session.loop is not loop:
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS),
            headers=self.headers,
            auth=auth,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
        )
        _sessions[key] = session
    return _KeptOpen(session)


_resolve_by_type = Event.resolve_by_type
_event_classes: dict[str, type[Event]] = {}


def _event_class(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
    """``Event.resolve_by_type``, remembering the classes it found (not the misses: a class
    imported later is still found, and an unknown name still raises or gives ``default``)."""
    found = _event_classes.get(type_name)
    if found is None:
        found = _resolve_by_type(type_name, default)
        if found is not None and found is not default:
            _event_classes[type_name] = found
    return found


_rasa_predict = models.RasaModel._rasa_predict
CONCRETE = "_bot1999_concrete_predict"


def _predict_concretely(self: models.RasaModel, batch_in: Any) -> dict[str, Any]:
    """``RasaModel._rasa_predict`` calling the graph's concrete function directly."""
    concrete = getattr(self, CONCRETE, None)
    if concrete is None:
        outputs: dict[str, Any] = _rasa_predict(self, batch_in)  # prepares, builds the tf.function
        if self._tf_predict_step is not None and not self._run_eagerly:
            setattr(self, CONCRETE, self._tf_predict_step.get_concrete_function())
        return outputs
    self._training = False
    inputs = [tf.convert_to_tensor(tensor) for tensor in tf.nest.flatten(batch_in)]
    outputs = models.tf_utils.sync_to_numpy_or_python_type(
        concrete._call_flat(inputs, concrete.captured_inputs)
    )
    if DIAGNOSTIC_DATA in outputs:
        outputs[DIAGNOSTIC_DATA] = self._empty_lists_to_none_in_dict(outputs[DIAGNOSTIC_DATA])
    return outputs


RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
MessageProcessor.log_message = _log_message_with_intent  # type: ignore[method-assign]
EndpointConfig.session = _session  # type: ignore[assignment,method-assign]
Event.resolve_by_type = staticmethod(_event_class)  # type: ignore[method-assign,assignment]
models.RasaModel._rasa_predict = _predict_concretely  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main())
