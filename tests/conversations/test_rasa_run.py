"""rasa_run.py: the compiled check of action-server answers accepts and refuses what Rasa's own
does; the REST channel's answer carries the message's intent."""

from __future__ import annotations

import json
import subprocess

import httpx
import pytest

from tests.conftest import REPO
from tests.conversations.conftest import MODEL, RASA, RasaStack

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


EVENT_CLASSES = """
import json
from rasa.shared.core.events import Event
original = Event.resolve_by_type
import rasa_run
from rasa.shared.utils.common import all_subclasses

def outcome(resolve, name, *default):
    try:
        found = resolve(name, *default)
        return found.__name__ if found is not None else None
    except ValueError as error:
        return "refused: " + str(error)

names = sorted({cls.type_name for cls in all_subclasses(Event)} | {"no_such_event"})
results = []
for _ in range(2):  # the second round answers from what the first found
    for name in names:
        results.append([name, outcome(original, name), outcome(Event.resolve_by_type, name),
                        outcome(original, name, Event), outcome(Event.resolve_by_type, name, Event)])
print(json.dumps({"results": results, "remembered": sorted(rasa_run._event_classes)}))
"""


def test_event_classes_resolve_as_rasa_resolves_them() -> None:
    """Every event type name gives Rasa's own class (an unknown one is still refused, or gives
    the default asked for), and only the names found are remembered."""
    if not RASA.is_file():
        pytest.skip("needs the Rasa environment (make setup)")
    found = json.loads(_in_rasa(EVENT_CLASSES))
    assert len(found["results"]) > 40
    for name, original, ours, original_default, ours_default in found["results"]:
        assert (ours, ours_default) == (original, original_default), name
    unknown = [r for r in found["results"] if r[0] == "no_such_event"]
    assert unknown
    assert all(r[2].startswith("refused: ") for r in unknown)
    assert all(r[4] == "Event" for r in unknown)
    assert "no_such_event" not in found["remembered"]
    assert {"user", "bot", "slot", "action"} <= set(found["remembered"])


SESSIONS = """
import asyncio, json, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import rasa_run
from rasa.utils.endpoints import EndpointConfig

peers = []
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        peers.append([self.client_address[1], self.headers.get("X-Token")])
        body = b'{"events": [], "responses": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
url = f"http://127.0.0.1:{server.server_address[1]}/webhook"

async def calls():
    endpoint = EndpointConfig(url, headers={"X-Token": "a"})
    other = EndpointConfig(url, headers={"X-Token": "b"})
    answers = [await endpoint.request(method="post", json={"n": n}) for n in range(3)]
    answers.append(await other.request(method="post", json={"n": 3}))
    async with endpoint.session() as first:
        pass
    async with endpoint.session() as again:
        same = again is first and not first.closed
    return answers, same, id(first)

first_loop = asyncio.run(calls())
second_loop = asyncio.run(calls())
print(json.dumps({"answers": first_loop[0], "same": first_loop[1], "peers": peers,
                  "new_loop_new_session": first_loop[2] != second_loop[2]}))
"""


def test_action_server_connections_are_kept_open_and_reused() -> None:
    """Requests to one endpoint reuse one connection (Rasa opened one per request); other
    headers get their own session, and a new event loop a new one."""
    if not RASA.is_file():
        pytest.skip("needs the Rasa environment (make setup)")
    found = json.loads(_in_rasa(SESSIONS))
    assert found["answers"] == [{"events": [], "responses": []}] * 4
    assert found["same"]
    assert found["new_loop_new_session"]
    first_loop = found["peers"][:4]
    assert [token for _, token in first_loop] == ["a", "a", "a", "b"]
    assert len({port for port, _ in first_loop[:3]}) == 1, "one kept-alive connection for the three calls"
    assert first_loop[3][0] != first_loop[0][0], "other headers, another session"


PREDICTIONS = """
import asyncio, json, sys
import rasa_run
from rasa.core.agent import Agent
from rasa.utils.tensorflow import models

messages = json.load(sys.stdin)
agent = Agent.load(sys.argv[1])

async def parse_all():
    out = []
    for text in messages:
        parsed = await agent.parse_message(text)
        ranking = [[r["name"], round(r["confidence"], 6)] for r in parsed["intent_ranking"][:3]]
        out.append([parsed["intent"]["name"], round(parsed["intent"]["confidence"], 6), ranking])
    return out

concrete = asyncio.run(parse_all())
import gc
used_concrete = any(hasattr(o, rasa_run.CONCRETE) for o in gc.get_objects() if isinstance(o, models.RasaModel))
models.RasaModel._rasa_predict = rasa_run._rasa_predict  # Rasa's own path
original = asyncio.run(parse_all())
print(json.dumps({"concrete": concrete, "original": original, "used_concrete": used_concrete}))
"""


def test_diet_predicts_the_same_through_the_concrete_function() -> None:
    """Calling DIET's graph directly gives the intents and confidences of Rasa's own call."""
    if not RASA.is_file() or not MODEL.is_file():
        pytest.skip("needs the Rasa environment and a trained model (make setup)")
    messages = [
        "你好",
        "我家門口的路燈壞了",
        "房屋稅什麼時候繳",
        "謝謝",
        "查詢案件進度",
        "/deny",
        "路樹倒了擋住車道",
    ]
    found = json.loads(_in_rasa(PREDICTIONS, str(MODEL), stdin=json.dumps(messages)))
    assert found["used_concrete"], "the patched path ran"
    assert len(found["concrete"]) == len(messages)
    assert found["concrete"] == found["original"]
    assert {intent for intent, _, _ in found["concrete"]} >= {"greet", "report_issue"}


def _in_rasa(script: str, *args: str, stdin: str = "") -> str:
    result = subprocess.run(
        [str(RASA.parent / "python"), "-c", script, *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"RASA_TELEMETRY_ENABLED": "false", "PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "2"},
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


# Run in the Rasa environment: the kept-open session's pool, as Rasa uses it for the actions.
KEEPALIVE = """
import asyncio, json
from rasa.utils.endpoints import EndpointConfig
import rasa_run

async def main():
    async with EndpointConfig("http://127.0.0.1:1/actions/webhook").session() as session:
        return session.connector._keepalive_timeout, session is rasa_run._sessions[next(iter(rasa_run._sessions))]

print(json.dumps(asyncio.run(main())))
"""


def test_rasa_lets_go_of_idle_action_connections_before_the_bot_closes_them() -> None:
    """A turn's action call sent on a connection the bot's server is closing fails after being
    sent (aiohttp's ServerDisconnectedError): the citizen got a degraded answer, about one turn
    in 600 under bench.chat_load. Rasa's pool must drop idle connections sooner than the bot."""
    from bot.cli import SERVER_KEEPALIVE_SECONDS

    if not RASA.is_file():
        pytest.skip("needs the Rasa environment (make setup)")
    result = subprocess.run(
        [str(RASA.parent / "python"), "-c", KEEPALIVE], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    keepalive, kept = json.loads(result.stdout.strip().splitlines()[-1])
    assert kept, "the session is rasa_run's kept-open one"
    assert 0 < keepalive < SERVER_KEEPALIVE_SECONDS
