"""A polite HTTP client for the soweb API: one kept-alive connection, a rate limit, bounded retries."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter

from knowledge.importers.soweb._ratelimit import RateLimiter
from knowledge.importers.soweb._wire import SowebCategory, SowebDetail, SowebListItem

__all__ = ["USER_AGENT", "FetchFailed", "SowebClient"]

logger = logging.getLogger("knowledge.importers.soweb")

USER_AGENT = "bot1999-faq-scraper/0.1 (+https://github.com/bot1999)"
MAX_BACKOFF_SECONDS = 60.0
# "R" reads an entry; "N" would also add one to its public view counter.
_READ_ONLY = "R"

T = TypeVar("T")

_CATEGORIES = TypeAdapter(list[SowebCategory])
_LIST = TypeAdapter(list[SowebListItem])


class FetchFailed(Exception):
    """A request that still failed after its last attempt (or failed in a way not worth retrying)."""

    def __init__(self, what: str, attempts: int, reason: str) -> None:
        super().__init__(f"{what}: {reason} (after {attempts} attempt{'s' if attempts != 1 else ''})")
        self.what = what
        self.attempts = attempts
        self.reason = reason


class _Retry(Exception):
    """This attempt failed in a way another attempt may fix."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class _GiveUp(Exception):
    """This attempt failed in a way another attempt will not fix (404, 403...)."""


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    return float(value) if value.isdigit() else None


def _decode(response: httpx.Response) -> Any:
    """The JSON body of a good answer; raises ``_Retry`` / ``_GiveUp`` for everything else."""
    status = response.status_code
    if status in (408, 429) or status >= 500:
        raise _Retry(f"HTTP {status}", _retry_after(response))
    if 300 <= status < 400:
        raise _Retry(f"HTTP {status} redirect to {response.headers.get('Location', '?')!r} (blocked?)")
    if status >= 400:
        raise _GiveUp(f"HTTP {status}")
    body = response.content
    content_type = response.headers.get("Content-Type", "?")
    try:
        if "html" in content_type.lower():
            raise ValueError("an HTML page")
        return json.loads(body)
    except ValueError:
        snippet = body[:80].decode("utf-8", "replace")
        raise _Retry(
            f"blocked? HTTP {status} with a {len(body)}-byte non-JSON body ({content_type}): {snippet!r}"
        ) from None


class SowebClient:
    """The three API calls, each retried with exponential backoff on time-outs, connection
    errors, 5xx / 429 and blocked answers (a 200 whose body is not JSON, such as an HTML
    block page). Every attempt waits its turn at the rate limiter; one connection is kept alive.
    """

    def __init__(
        self,
        base_url: str,
        *,
        rate: float = 3.0,
        timeout: float = 10.0,
        max_retries: int = 4,
        backoff: float = 1.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        self.max_retries = max_retries
        self.backoff = backoff
        self.requests = 0
        self._limiter = RateLimiter(rate, sleep=sleep)
        self._sleep = sleep
        self._jitter = random.Random()
        self._http = httpx.Client(
            base_url=base_url,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            transport=transport,
            follow_redirects=False,
        )

    def __enter__(self) -> SowebClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def categories(self) -> list[SowebCategory]:
        return self._get("/webapi/api/category", {}, "category", _CATEGORIES.validate_python)

    def search(self, keyword: str, kind: str) -> list[SowebListItem]:
        """Entries matching ``keyword``, of category ``kind`` ('' for no category filter)."""
        path = f"/webapi/api/faqqry/{quote(keyword, safe='')}"
        what = f"listing kind={kind!r}" if kind else "listing without kind"
        return self._get(path, {"kind": kind}, what, _LIST.validate_python)

    def detail(self, organ_no: str, seq_no: int, what: str) -> tuple[SowebDetail, dict[str, Any]]:
        """The entry, validated and as received (the raw object is what the state keeps)."""
        path = f"/webapi/api/faqqry/{quote(organ_no, safe='')}"
        params = {"seqNo": str(seq_no), "updFlag": _READ_ONLY}

        def parse(data: Any) -> tuple[SowebDetail, dict[str, Any]]:
            if not isinstance(data, dict):
                raise ValueError(f"expected an object, got {type(data).__name__}")
            return SowebDetail.model_validate(data), data

        return self._get(path, params, what, parse)

    def _get(self, path: str, params: dict[str, str], what: str, parse: Callable[[Any], T]) -> T:
        attempts = self.max_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                return parse(self._attempt(path, params))
            except _GiveUp as error:
                raise FetchFailed(what, attempt, str(error)) from None
            except (_Retry, ValueError) as error:  # ValueError: pydantic's, or parse's own
                retry = error if isinstance(error, _Retry) else _Retry(f"unexpected response: {error}")
                if attempt == attempts:
                    raise FetchFailed(what, attempt, retry.reason) from None
                delay = self._delay(attempt, retry.retry_after)
                logger.info(
                    "%s: %s; retry %d/%d in %.1fs", what, retry.reason, attempt, self.max_retries, delay
                )
                self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(self, path: str, params: dict[str, str]) -> Any:
        self._limiter.wait()
        self.requests += 1
        try:
            response = self._http.get(path, params=params)
        except httpx.TimeoutException as error:
            raise _Retry(f"timed out ({type(error).__name__})") from None
        except httpx.TransportError as error:
            raise _Retry(f"connection error ({type(error).__name__}: {error})") from None
        return _decode(response)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """``backoff * 2**(attempt-1)`` plus up to 25 % jitter, at least Retry-After, at most a minute."""
        delay = self.backoff * 2.0 ** (attempt - 1) * (1 + 0.25 * self._jitter.random())
        if retry_after is not None:
            delay = max(delay, retry_after)
        return min(delay, MAX_BACKOFF_SECONDS)
