"""Simulated citizens for ``bench.loadtest``: realistic conversations through ``POST /api/chat``.

A citizen opens one conversation of a kind drawn from ``MIX`` and follows what the bot
answers, the way a person at the web widget does:

- ``faq``: a question from the Kaohsiung development set (read at run time), sometimes after
  a greeting; a did-you-mean list is answered by clicking one of its buttons (the payload the
  bot returned), an answer sometimes rated with its feedback buttons; sometimes a second
  question and a thank-you;
- ``case``: reports a problem and fills the case form — category (a returned button or typed
  words), place, description, no photo, phone, consent and confirmation (returned buttons) —
  and keeps the case number the bot gives;
- ``status``: asks for a case's status with a number filed earlier in the run and the last 3
  digits of its phone (or, before any was filed, one that does not exist).

Every message has a ``message_id``; a message that got no answer (connection error, 502/503
from the balancer, 409 while the first try is still being answered) is sent again with the
same id for up to ``RETRY_SECONDS``, as the widget does. Each citizen comes from its own
address (``X-Forwarded-For`` from 198.18.0.0/15, the benchmarking range), so per-address
rate limits apply as they would to real citizens.

The citizens of a run share one ``aiohttp`` session (``session()``): on a 2-core machine the
load generator shares the CPU with the cluster it measures, and aiohttp takes a fraction of
httpx's CPU per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

import aiohttp

from bot.cases import format_case_number

__all__ = ["MIX", "NETWORK_ERRORS", "Citizen", "FiledCase", "Pacer", "Stats", "Stopped", "session", "timeout"]

MIX = {"faq": 0.6, "case": 0.2, "status": 0.2}
RETRY_SECONDS = 30.0
RETRYABLE = {409, 502, 503, 504}
CASE_NUMBER = re.compile(r"\d{6}-\d{4,}-\d")
NO_SUCH_CASE = "查不到符合的案件"
LOCKED_OUT = "查詢錯誤次數太多"  # a few wrong checks of one number lock it (the unknown number soon is)
UNKNOWN_CASE = format_case_number(date(2026, 1, 5), 9)  # well-formed, never filed
CATEGORIES = ("道路坑洞", "路樹傾倒", "路燈故障", "道路積水", "號誌故障")
TYPED_REPORTS = ("我要報修路燈", "我要通報路面坑洞", "我要反映道路積水", "我要報修紅綠燈")
PLACES = (
    "三民區建國二路 100 號前",
    "苓雅區四維三路與中正一路口",
    "前鎮區中山二路 88 號旁",
    "左營區博愛二路與裕誠路口",
    "鳳山區光復路二段 130 號對面",
    "楠梓區德賢路與藍昌路口",
)
DESCRIPTIONS = (
    "大概一個禮拜了，晚上經過很危險",
    "整排都壞了，機車騎過去差點摔倒",
    "從昨天開始就這樣，影響兩個車道",
    "下雨後更嚴重，麻煩盡快處理",
)
GREETINGS = ("你好", "哈囉", "請問一下")
THANKS = ("謝謝", "感謝你", "好的謝謝")
# no answer, and no status either (httpx's TransportError): connection refused or dropped, timeouts
NETWORK_ERRORS = (aiohttp.ClientError, TimeoutError)


def timeout(seconds: float) -> aiohttp.ClientTimeout:
    """As httpx's ``timeout=seconds``: that long at most to get a connection (waiting for a free
    one included) and between two reads; no limit on the whole request."""
    return aiohttp.ClientTimeout(total=None, connect=seconds, sock_read=seconds)


def session(url: str, max_connections: int) -> aiohttp.ClientSession:
    """The HTTP client of a run's citizens (paths relative to ``url``), at most
    ``max_connections`` open. Idle connections are dropped after 2 s, before the balancer's
    (uvicorn's 5 s) would be, so that a message is never sent on a connection the balancer is
    closing. Bodies are encoded as httpx and browsers do (UTF-8, no spaces)."""
    return aiohttp.ClientSession(
        base_url=url.rstrip("/") + "/",
        connector=aiohttp.TCPConnector(limit=max_connections, keepalive_timeout=2.0),
        timeout=timeout(60),
        json_serialize=partial(json.dumps, ensure_ascii=False, separators=(",", ":")),
    )


class Stopped(Exception):
    """The run is over: the citizen leaves mid-conversation."""


class Pacer:
    """Hands out turn slots at ``rate`` per second (the offered load), until ``stop()``."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.next = time.monotonic()
        self.waiting = 0
        self.stopped = False

    async def slot(self) -> None:
        if self.stopped:
            raise Stopped
        now = time.monotonic()
        at = max(now, self.next)
        self.next = at + self.interval
        self.waiting += 1
        try:
            await asyncio.sleep(at - now)
        finally:
            self.waiting -= 1
        if self.stopped:
            raise Stopped

    def stop(self) -> None:
        self.stopped = True


@dataclass(frozen=True, slots=True)
class FiledCase:
    number: str
    sender: str
    phone: str


@dataclass
class Stats:
    started: float = field(default_factory=time.monotonic)
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)  # per turn kind
    done_at: list[float] = field(default_factory=list)  # seconds after start, per answered turn
    timeline: list[tuple[float, float]] = field(default_factory=list)  # (done at, latency ms) per turn
    answered: Counter[str] = field(default_factory=Counter)  # per sender
    failed: Counter[str] = field(default_factory=Counter)  # per sender: turns without an answer
    errors: Counter[str] = field(default_factory=Counter)
    retries: Counter[str] = field(default_factory=Counter)
    modes: Counter[str] = field(default_factory=Counter)
    empty: int = 0  # answered with no reply at all
    conversations: Counter[str] = field(default_factory=Counter)
    deviations: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    cases: list[FiledCase] = field(default_factory=list)

    def all_latencies(self) -> list[float]:
        return [ms for values in self.latencies_ms.values() for ms in values]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else float("nan")


def _buttons(replies: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [button for reply in replies for button in reply.get("buttons", [])]


def _text(replies: list[dict[str, Any]]) -> str:
    return "\n".join(str(reply.get("text", "")) for reply in replies)


class Citizen:
    """One citizen, one conversation; ``run()`` plays it until done or the run stops."""

    def __init__(
        self,
        number: int,
        client: aiohttp.ClientSession,
        pacer: Pacer,
        stats: Stats,
        questions: list[str],
        think: tuple[float, float],
        rng: random.Random,
    ) -> None:
        self.client = client
        self.pacer = pacer
        self.stats = stats
        self.questions = questions
        self.think = think
        self.rng = rng
        self.sender = f"load-{number}-{uuid.uuid4().hex[:8]}"
        self.address = f"198.{18 + (number >> 16) % 2}.{(number >> 8) % 256}.{number % 256}"
        self.headers = {"x-forwarded-for": self.address}
        self.first = True

    async def run(self) -> None:
        kind = self.rng.choices(list(MIX), weights=list(MIX.values()))[0]
        self.stats.conversations[kind] += 1
        with contextlib.suppress(Stopped):
            await {"faq": self._faq, "case": self._case, "status": self._status}[kind]()

    # --- one message ------------------------------------------------------------------
    async def say(self, kind: str, *, text: str = "", payload: str = "") -> list[dict[str, Any]] | None:
        """Send one message (after a pause, at the next slot); its replies, or None if unanswered."""
        body = await self._next_message(text, payload)
        started = time.monotonic()
        while True:
            reason = await self._post(body)
            if isinstance(reason, dict):
                break
            if reason.startswith("!") or time.monotonic() - started > RETRY_SECONDS:
                self.stats.errors[reason.lstrip("!")] += 1
                self.stats.failed[self.sender] += 1
                return None
            self.stats.retries[reason] += 1
            await asyncio.sleep(0.25)
        return self._answered(kind, started, time.monotonic(), reason)

    async def _next_message(self, text: str, payload: str) -> dict[str, str]:
        """Wait the citizen's pause (not before a conversation's first message) and the next
        slot; the request body, with a new ``message_id``."""
        if not self.first:
            await asyncio.sleep(self.rng.uniform(*self.think))
        self.first = False
        await self.pacer.slot()
        body: dict[str, str] = {"sender": self.sender, "message_id": uuid.uuid4().hex}
        body.update({"payload": payload} if payload else {"text": text})
        return body

    def _answered(
        self, kind: str, started: float, ended: float, answer: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Count an answered message; its replies."""
        self.stats.latencies_ms.setdefault(kind, []).append((ended - started) * 1000)
        self.stats.done_at.append(ended - self.stats.started)
        self.stats.timeline.append((ended - self.stats.started, (ended - started) * 1000))
        self.stats.answered[self.sender] += 1
        self.stats.modes[str(answer.get("mode"))] += 1
        replies: list[dict[str, Any]] = answer.get("replies") or []
        if not replies:
            self.stats.empty += 1
        return replies

    async def _post(self, body: dict[str, str]) -> dict[str, Any] | str:
        """The response body, or why there is none (``!`` first: do not retry)."""
        try:
            async with self.client.post("api/chat", json=body, headers=self.headers) as response:
                status, content = response.status, await response.read()
        except NETWORK_ERRORS as error:
            return type(error).__name__
        if status == 200:
            answer: dict[str, Any] = json.loads(content)
            return answer
        if status in RETRYABLE:
            return f"HTTP {status}"
        return f"!HTTP {status}"

    def _deviate(self, what: str) -> None:
        self.stats.deviations[what] += 1

    # --- conversations ----------------------------------------------------------------
    async def _faq(self) -> None:
        if self.rng.random() < 0.3:
            await self.say("small talk", text=self.rng.choice(GREETINGS))
        for question_number in range(2):
            replies = await self.say("faq", text=self.rng.choice(self.questions))
            if replies is None:
                return
            picks = [b for b in _buttons(replies) if b["payload"].startswith("/pick_suggestion")]
            if picks:
                replies = await self.say("clarify pick", payload=self.rng.choice(picks)["payload"])
                self.stats.events["clarify picks"] += 1
                if replies is None:
                    return
            feedback = [b for b in _buttons(replies) if b["payload"].startswith("/feedback_")]
            if feedback and self.rng.random() < 0.5:
                await self.say("feedback", payload=self.rng.choice(feedback)["payload"])
            if question_number == 0 and self.rng.random() >= 0.4:
                break
        if self.rng.random() < 0.3:
            await self.say("small talk", text=self.rng.choice(THANKS))

    async def _case(self) -> None:
        phone = "09" + "".join(self.rng.choice("0123456789") for _ in range(8))
        if self.rng.random() < 0.5:
            replies = await self.say("case form", text="我要通報問題")
        else:
            replies = await self.say("case form", text=self.rng.choice(TYPED_REPORTS))
        for _ in range(12):  # answer whatever the form asks next
            if replies is None:
                return
            text, buttons = _text(replies), _buttons(replies)
            number = CASE_NUMBER.search(text)
            if number and "確認送出" not in text:
                self.stats.cases.append(FiledCase(number.group(), self.sender, phone))
                self.stats.events["cases filed"] += 1
                return
            replies = await self._next_answer(text, buttons, phone)
            if replies is False:
                self._deviate(f"case form: unexpected reply {text[:30]!r}")
                return
        self._deviate("case form: no case number after 12 messages")

    async def _next_answer(
        self, text: str, buttons: list[dict[str, str]], phone: str
    ) -> list[dict[str, Any]] | None | bool:
        by_title = {b["title"]: b["payload"] for b in buttons}
        if "確認送出" in by_title:
            return await self.say("case form", payload=by_title["確認送出"])
        if "同意" in by_title:
            return await self.say("case form", payload=by_title["同意"])
        categories = [by_title[c] for c in CATEGORIES if c in by_title]
        if categories:
            return await self.say("case form", payload=self.rng.choice(categories))
        if "地點" in text:
            return await self.say("case form", text=self.rng.choice(PLACES))
        if "描述" in text:
            return await self.say("case form", text=self.rng.choice(DESCRIPTIONS))
        if "照片" in text:
            return await self.say("case form", text="沒有")
        if "電話" in text:
            return await self.say("case form", text=phone)
        return False

    async def _status(self) -> None:
        known = self.rng.choice(self.stats.cases) if self.stats.cases else None
        replies = await self.say("case status", text="我想查案件進度")
        if replies is None:
            return
        if "編號" not in _text(replies):
            self._deviate("status: no question for the case number")
            return
        number = known.number if known else UNKNOWN_CASE
        replies = await self.say("case status", text=number)
        if replies is None:
            return
        if "末三碼" not in _text(replies):
            self._deviate("status: no question for the phone digits")
            return
        replies = await self.say("case status", text=known.phone[-3:] if known else "678")
        if replies is None:
            return
        answer = _text(replies)
        if known and known.number in answer:
            self.stats.events["status checks: case found"] += 1
        elif NO_SUCH_CASE in answer:
            self.stats.events["status checks: no such case" + (" (A FILED CASE!)" if known else "")] += 1
        elif LOCKED_OUT in answer:
            self.stats.events["status checks: locked out" + (" (A FILED CASE!)" if known else "")] += 1
        else:
            self._deviate("status: neither a status nor 'no such case'")
