"""The load of ``bench.faults``: simulated citizens in a background thread, every message observed.

The citizens are ``bench.load_citizens``'s (FAQ questions, did-you-mean picks, ratings, case
filings, status checks), retrying exactly as the web widget does (``ObservedCitizen``): an
unanswered message is sent again with the same ``message_id``, with the widget's backoff.
Each message is recorded — every attempt, what came back, when — so that what a fault did
to the citizens, and when they were served normally again, can be read off afterwards.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench.load_citizens import NETWORK_ERRORS, Citizen, Pacer, Stats, session, timeout

__all__ = ["LoadThread", "Message", "effects", "last_trouble"]

MAX_CITIZENS = 500
WIDGET_TIMEOUT = timeout(20.0)  # before the widget gives up on one try
WIDGET_MAX_DELAY = 30.0  # its longest pause between tries
GIVE_UP_SECONDS = 180.0


@dataclass
class Message:
    """One message a citizen sent, and how it went (times are ``time.monotonic()``)."""

    sender: str
    message_id: str
    started: float
    attempts: list[str] = field(default_factory=list)  # "ok normal", "ok degraded", "HTTP 502", ...
    details: list[str] = field(default_factory=list)  # what a refusal said, as the client got it
    ended: float | None = None
    answered: bool = False
    mode: str = ""
    empty: bool = False
    feedback: str = ""  # "good" / "bad" for a rating that was answered

    @property
    def clean(self) -> bool:
        """Answered at the first try, by the dialogue engine, with something in it."""
        return self.answered and len(self.attempts) == 1 and self.mode == "normal" and not self.empty


class ObservedCitizen(Citizen):
    """A ``Citizen`` that retries as the web widget does, with every message and attempt
    recorded in ``messages``.

    As ``bot/web/static/widget.js``: a message that was not answered (connection error,
    timeout, any status but 200 and the refusals 400 / 413 / 422) is sent again with the same
    ``message_id`` after 1, 2, 4 … up to 30 s (±25 %), or after ``Retry-After`` when a 429 or
    503 says one. The widget never gives up; here a message is given up after
    ``GIVE_UP_SECONDS`` so that a run ends.
    """

    def __init__(self, *args: Any, messages: list[Message], lock: threading.Lock, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.messages = messages
        self.lock = lock

    async def say(self, kind: str, *, text: str = "", payload: str = "") -> list[dict[str, Any]] | None:
        body = await self._next_message(text, payload)
        message = Message(self.sender, body["message_id"], time.monotonic())
        with self.lock:
            self.messages.append(message)
        answer = await self._until_answered(body, message)
        ended = time.monotonic()
        replies: list[dict[str, Any]] | None = None if answer is None else (answer.get("replies") or [])
        with self.lock:
            message.ended = ended
            message.answered = replies is not None
            message.empty = replies == []
            if replies is not None and payload.startswith("/feedback_"):
                message.feedback = payload.removeprefix("/feedback_")
        if answer is None:
            self.stats.failed[self.sender] += 1
            return None
        return self._answered(kind, message.started, ended, answer)

    async def _until_answered(self, body: dict[str, str], message: Message) -> dict[str, Any] | None:
        attempt = 0
        while True:
            answer, wait = await self._attempt(body, message)
            if answer is not None:
                return answer
            if wait is None or time.monotonic() - message.started > GIVE_UP_SECONDS:
                self.stats.errors[message.attempts[-1]] += 1
                return None
            self.stats.retries[message.attempts[-1]] += 1
            if wait == 0:
                wait = min(WIDGET_MAX_DELAY, 2.0**attempt) * self.rng.uniform(0.75, 1.25)
                attempt += 1
            await asyncio.sleep(wait)

    async def _attempt(
        self, body: dict[str, str], message: Message
    ) -> tuple[dict[str, Any] | None, float | None]:
        """(the answer, None) or (None, seconds to wait before the next try: 0 for the backoff,
        None for a refusal that is not tried again)."""
        try:
            async with self.client.post(
                "api/chat", json=body, headers=self.headers, timeout=WIDGET_TIMEOUT
            ) as response:
                status, content = response.status, await response.read()
                retry_after = response.headers.get("retry-after", "")
        except NETWORK_ERRORS as error:
            message.attempts.append(type(error).__name__)
            return None, 0.0
        if status == 200:
            answer: dict[str, Any] = json.loads(content)
            message.mode = str(answer.get("mode"))
            message.attempts.append(f"ok {message.mode}")
            return answer, None
        message.attempts.append(f"HTTP {status}")
        message.details.append(f"HTTP {status}: {content.decode(errors='replace')[:120].strip()}")
        if status in {400, 413, 422}:
            return None, None
        if status in {429, 503} and retry_after.isdigit() and int(retry_after) > 0:
            return None, min(float(retry_after), 3600.0)
        return None, 0.0


class LoadThread:
    """Offers ``rate`` turns a second from a background thread until ``stop()``."""

    def __init__(
        self,
        url: str,
        rate: float,
        questions: list[str],
        *,
        think: tuple[float, float] = (1.0, 3.0),
        seed: int = 1999,
    ) -> None:
        self.url = url
        self.rate = rate
        self.questions = questions
        self.think = think
        self.seed = seed
        self.stats = Stats()
        self.messages: list[Message] = []
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._drive()), name="fault-load", daemon=True
        )
        self.error: BaseException | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self, drain_seconds: float = 60.0) -> None:
        """Stop offering new turns; wait for the conversations under way to end (or give up)."""
        self._stop.set()
        self._thread.join(timeout=drain_seconds + 10)

    def snapshot(self) -> list[Message]:
        with self.lock:
            return list(self.messages)

    async def _drive(self) -> None:
        try:
            await self._citizens()
        except BaseException as error:  # seen by the caller, not lost in the thread
            self.error = error
            raise

    async def _citizens(self) -> None:
        pacer = Pacer(self.rate)
        rng = random.Random(self.seed)
        tasks: set[asyncio.Task[None]] = set()
        async with session(self.url, MAX_CITIZENS) as client:
            number = 0
            while not self._stop.is_set():
                while pacer.waiting < max(3, self.rate * 0.2) and len(tasks) < MAX_CITIZENS:
                    citizen = ObservedCitizen(
                        number,
                        client,
                        pacer,
                        self.stats,
                        self.questions,
                        self.think,
                        random.Random(rng.random()),
                        messages=self.messages,
                        lock=self.lock,
                    )
                    number += 1
                    task = asyncio.create_task(citizen.run())
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                    await asyncio.sleep(0)
                await asyncio.sleep(0.05)
            pacer.stop()
            if tasks:
                await asyncio.wait(set(tasks), timeout=60)


def effects(messages: list[Message]) -> Counter[str]:
    """What the citizens saw, beyond a clean answer: each kind of attempt, degraded and empty
    answers, and messages never answered."""
    seen: Counter[str] = Counter()
    for message in messages:
        for attempt in message.attempts:
            if attempt != "ok normal":
                seen["degraded answer" if attempt == "ok degraded" else attempt] += 1
        if message.empty:
            seen["answer with no reply"] += 1
        if message.ended is not None and not message.answered:
            seen["no answer after retries"] += 1
        if message.answered and len(message.attempts) > 1:
            seen["answered after a retry"] += 1
    return seen


def last_trouble(messages: list[Message]) -> float | None:
    """When the last message that was not clean ended (None if every one was clean)."""
    ends = [m.ended for m in messages if m.ended is not None and not m.clean]
    return max(ends) if ends else None
