"""rasa_run.py: the compiled check of action-server answers accepts and refuses what Rasa's own
does; the REST channel's answer carries the message's intent."""

from __future__ import annotations

import json
import subprocess

import httpx
import pytest

from tests.conftest import REPO
from tests.conversations.conftest import RASA, RasaStack

pytestmark = pytest.mark.integration

# Run in the Rasa environment: each response is checked by Rasa's original method and by ours.
CHECK = """
import json, sys
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
original = RemoteAction._validate_action_result
import rasa_run
action = RemoteAction("action_answer_faq", None)
results = []
for response in json.load(sys.stdin):
    outcome = []
    for check in (original, rasa_run._validate_action_result):
        try:
            outcome.append(check(action, response))
        except ValidationError as error:
            outcome.append("refused: " + error.message.split(". Failed")[0])
    results.append(outcome)
for _ in range(20):
    rasa_run._validate_action_result(action, {"events": [], "responses": []})
results.append(rasa_run._validator.cache_info().misses)
print(json.dumps(results))
"""

RESPONSES = [
    {
        "events": [{"event": "slot", "name": "faq_candidates", "value": ["F-1"], "timestamp": None}],
        "responses": [],
    },
    {"events": [], "responses": [{"custom": {"reply": {"kind": "answer", "text": "每年五月繳納房屋稅。"}}}]},
    {"events": [{"event": "slot", "value": "x"}], "responses": []},  # a slot event without its name
    {"events": "not a list", "responses": []},
    {"events": [{"event": "no_such_event"}], "responses": []},
]


def test_same_verdicts_as_rasa_with_one_compiled_validator() -> None:
    if not RASA.is_file():
        pytest.skip("needs the Rasa environment (make setup)")
    result = subprocess.run(
        [str(RASA.parent / "python"), "-c", CHECK],
        input=json.dumps(RESPONSES),
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"RASA_TELEMETRY_ENABLED": "false", "PATH": "/usr/bin:/bin"},
        check=True,
        timeout=300,
    )
    *verdicts, validators_built = json.loads(result.stdout.strip().splitlines()[-1])
    for original, ours in verdicts:
        assert ours == original
    assert [v[0] is True for v in verdicts] == [True, True, False, False, False]
    assert validators_built == 1, "the schema is compiled once, not re-checked on every answer (~35 ms)"


@pytest.mark.parametrize(
    ("message", "intent"),
    [("你好", "greet"), ("我家門口的路燈壞了", "report_issue"), ("/deny", "deny")],
)
def test_rest_answer_carries_the_intent(rasa_stack: RasaStack, message: str, intent: str) -> None:
    """One hidden ``custom.turn`` bubble with the intent Rasa's tracker records for the message
    (so the bot need not ask the tracker after the turn)."""
    sender = f"intent-bubble-{intent}"
    answer = httpx.post(
        f"{rasa_stack.rasa_url}/webhooks/rest/webhook",
        json={"sender": sender, "message": message},
        timeout=30,
    )
    answer.raise_for_status()
    turns = [
        m["custom"]["turn"] for m in answer.json() if "intent" in (m.get("custom") or {}).get("turn", {})
    ]
    tracker = httpx.get(f"{rasa_stack.rasa_url}/conversations/{sender}/tracker", timeout=30).json()
    recorded = tracker["latest_message"]["intent"]
    assert turns[0] == {"intent": recorded["name"], "intent_confidence": recorded["confidence"]}
    assert turns[0]["intent"] == intent
