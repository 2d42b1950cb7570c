"""The ``rasa`` command (Rasa 3.6, ``.venv-rasa``), with two changes that save CPU on every turn.

- Rasa checks every action-server response against its JSON schema with
  ``jsonschema.validate``, which first re-checks the schema itself: about 35 ms of CPU per
  action call, and a turn makes one to three calls (answer an FAQ; validate a form slot, ask
  the next one; file the case). Here the validator is built once; the check, and the error
  for a malformed response, are the same.
- The REST channel's answer also carries the message's intent and confidence, as a hidden
  ``{"custom": {"turn": {"intent": …, "intent_confidence": …}}}`` bubble (the contract of
  ``bot/chat/rasa_engine.py``). Without it the bot reads them from the tracker after the turn:
  one more request, which loads the conversation's events from the tracker store again.

Everything else is Rasa's own command line:

    .venv-rasa/bin/python rasa_run.py run --enable-api --model models/bot1999.tar.gz ...

(`bot1999 run` starts Rasa this way; docs/conversation.md has the figures.)
"""

from __future__ import annotations

import sys
from functools import lru_cache
from typing import Any

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.__main__ import main
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.trackers import DialogueStateTracker


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


RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
MessageProcessor.log_message = _log_message_with_intent  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main())
