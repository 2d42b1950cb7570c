"""RasaWarmUp against a loopback Rasa going through its start-up: no model, no action server, slow, warm.

(The real Rasa is warmed up by the same class in tests/conversations.)
"""

from __future__ import annotations

import pytest

from bot.chat.rasa_engine import RasaWarmUp
from tests.fakes.loopback import LoopbackApp, Request, Response, json_response


class Clock:
    """The warm-up's clock: a turn takes as long as the fake Rasa says, whatever the machine."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class StartingRasa(LoopbackApp):
    """Rasa's /status, /model/parse and REST webhook, in one of the stages of its start-up."""

    name = "starting-rasa"

    def __init__(self, clock: Clock | None = None) -> None:
        super().__init__()
        self.stage = "loading"  # loading -> no-actions -> slow -> warm
        self.clock = clock or Clock()

    def handle(self, request: Request) -> Response:
        if request.path == "/status":
            model = "" if self.stage == "loading" else "models/bot1999.tar.gz"
            return json_response(200, {"model_file": model, "num_active_training_jobs": 0})
        if request.path == "/model/parse":
            return json_response(
                200, {"intent": {"name": "faq", "confidence": 0.9}, "text": request.json()["text"]}
            )
        if request.path == "/webhooks/rest/webhook":
            if self.stage == "no-actions":  # Rasa answers, but the action server did not
                return json_response(200, [])
            self.clock.now += 0.4 if self.stage == "slow" else 0.01  # the turn's duration
            sender = request.json()["sender"]
            return json_response(200, [{"recipient_id": sender, "custom": {"reply": {"kind": "abstain"}}}])
        return json_response(404, {})


def test_ready_only_once_a_whole_turn_is_fast() -> None:
    clock = Clock()
    with StartingRasa(clock) as rasa:
        warm_up = RasaWarmUp(rasa.url, token="s3cret", turn_seconds=0.3, clock=clock)
        assert not warm_up(), "no model loaded yet"
        rasa.stage = "no-actions"
        assert not warm_up(), "a turn without the action server's reply"
        rasa.stage = "slow"
        assert not warm_up(), "turns slower than the chat's timeout"
        assert warm_up.last_turn_seconds == pytest.approx(0.4)
        rasa.stage = "warm"
        assert warm_up()
        assert warm_up.last_turn_seconds == pytest.approx(0.01)
        turns = [r for r in rasa.requests if r.path == "/webhooks/rest/webhook"]
        assert {r.json()["sender"] for r in turns} == {RasaWarmUp.SENDER}, "a conversation of its own"
        assert all(r.query == {"token": ["s3cret"]} for r in rasa.requests)
        assert any(r.path == "/model/parse" for r in rasa.requests)


def test_a_rasa_that_is_not_there_is_simply_not_ready() -> None:
    with StartingRasa() as rasa:
        url = rasa.url
    assert not RasaWarmUp(url, turn_seconds=1.0)()


def test_a_rasa_whose_actions_start_later_is_warmed_up_on_a_turn_without_actions() -> None:
    with StartingRasa() as rasa:
        rasa.stage = "warm"
        assert RasaWarmUp(rasa.url, turn_seconds=1.0, message=RasaWarmUp.WITHOUT_ACTIONS)()
        turns = [r for r in rasa.requests if r.path == "/webhooks/rest/webhook"]
        assert {r.json()["message"] for r in turns} == {"/greet"}  # answered by Rasa alone (utter_greet)
