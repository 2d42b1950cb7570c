"""The ``rasa`` command (Rasa 3.6, ``.venv-rasa``), with the action server's answers checked faster.

Rasa checks every action-server response against its JSON schema with
``jsonschema.validate``, which first re-checks the schema itself: about 35 ms of CPU per
action call, and a turn makes one to three calls (answer an FAQ; validate a form slot, ask
the next one; file the case). Here the validator is built once; the check, and the error
for a malformed response, are the same. Everything else is Rasa's own command line:

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
from rasa.shared.constants import DOCS_BASE_URL


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


RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main())
