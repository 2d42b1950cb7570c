"""A loopback fake of the Kaohsiung FAQ web API (soweb), with faults on demand.

A real HTTP/1.1 server (stdlib, keep-alive) on 127.0.0.1 with an ephemeral port, in a
thread. It serves entries in the real response shapes (see ``../shared/data/soweb_api_samples``):
``/webapi/api/category``, ``/webapi/api/faqqry/{q}?kind=`` and
``/webapi/api/faqqry/{OrganNo}?seqNo=&updFlag=``. An entry is listed under the code of its
category name when ``/category`` names it; every entry matches a listing without ``kind``
and a blank keyword. ``updFlag=N`` bumps the entry's view count, as the real one does.

Every request is logged as a ``Hit`` (resource key, query, User-Agent, connection number,
arrival time, fault) so tests can check politeness. Faults: ``inject`` (the next requests
for a key), ``always`` (every request for a key) and ``random_faults`` (seeded, at most
``max_per_key`` per key so a scraper with enough retries always gets through).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = [
    "CATEGORY",
    "FakeEntry",
    "FakeSowebApi",
    "Fault",
    "Hit",
    "detail_key",
    "list_key",
    "load_categories",
    "load_harvest",
]

logger = logging.getLogger(__name__)

CATEGORY = "category"
BLOCK_PAGE = b"<html><body>Request blocked</body></html>"


def list_key(kind: str) -> str:
    return f"list:{kind}"


def detail_key(organ_no: str, seq_no: int) -> str:
    return f"detail:{organ_no}/{seq_no}"


class Fault(StrEnum):
    SLOW = "slow"  # answer only after ``slow_seconds``: long after the client gave up (or at stop)
    ERROR = "error"  # HTTP 500
    BLOCKED = "blocked"  # HTTP 200 with a tiny HTML block page
    DROP = "drop"  # close the connection without an answer
    NOT_FOUND = "not_found"  # HTTP 404


@dataclass(frozen=True, slots=True)
class FakeEntry:
    organ_no: str
    seq_no: int
    question: str
    answer: str
    agency: str
    kind_name: str | None = None
    post_date: str | None = None
    revise_date: str | None = None
    view_count: int = 0

    @classmethod
    def from_harvest(cls, obj: dict[str, Any]) -> FakeEntry:
        """One line of ``kaohsiung_faq.jsonl``."""
        return cls(
            organ_no=obj["organ_no"],
            seq_no=int(obj["seq_no"]),
            question=obj["question"],
            answer=obj["answer"],
            agency=obj["agency"],
            kind_name=obj.get("issue_kind"),
            post_date=obj.get("post_date"),
            revise_date=obj.get("revise_date"),
            view_count=int(obj.get("view_count") or 0),
        )

    def detail(self, views: int) -> dict[str, Any]:
        return {
            "IssueContent": self.question,
            "IssueKind": self.kind_name,
            "PostDate": self.post_date,
            "ReplyContent": self.answer,
            "ReplyOrganName": self.agency,
            "ReviseDate": self.revise_date,
            "ViewCount": str(views),
            "Name": self.agency,
        }


def load_harvest(path: Path) -> list[FakeEntry]:
    with path.open(encoding="utf-8") as handle:
        return [FakeEntry.from_harvest(json.loads(line)) for line in handle if line.strip()]


def load_categories(path: Path) -> list[dict[str, str]]:
    categories: list[dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))
    return categories


@dataclass(frozen=True, slots=True)
class Hit:
    key: str
    path: str
    query: dict[str, list[str]]
    user_agent: str
    connection: int
    at: float
    fault: Fault | None


class FakeSowebApi:
    """Start with ``with FakeSowebApi(...) as api:``; ``api.url`` is the base URL."""

    def __init__(
        self,
        entries: Iterable[FakeEntry],
        categories: list[dict[str, str]],
        *,
        slow_seconds: float = 60.0,
        idle_seconds: float = 60.0,
    ) -> None:
        """``slow_seconds``: how late a SLOW fault answers (far beyond any client time-out, so it
        is a time-out on any machine; ``stop()`` ends the wait). ``idle_seconds``: a kept-alive
        connection without a request for that long is closed (far beyond a stalled client)."""
        self.entries = {(e.organ_no, e.seq_no): e for e in entries}
        self.categories = categories
        self.slow_seconds = slow_seconds
        self.idle_seconds = idle_seconds
        self.views = Counter({key: e.view_count for key, e in self.entries.items()})
        self._codes = {c["kind_name"]: c["kind"] for c in categories}
        self._lock = threading.Lock()
        self._hits: list[Hit] = []
        self._connections = 0
        self._idle_closed = 0
        self._queued: dict[str, deque[Fault]] = {}
        self._always: dict[str, Fault] = {}
        self._random_rate = 0.0
        self._random_kinds: tuple[Fault, ...] = ()
        self._random_max = 0
        self._random_done: Counter[str] = Counter()
        self._rng = random.Random(0)
        self.stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> FakeSowebApi:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-soweb", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- faults ----------------------------------------------------------------------------
    def inject(self, key: str, *faults: Fault) -> None:
        """The next ``len(faults)`` requests for ``key`` get these faults, in order."""
        with self._lock:
            self._queued.setdefault(key, deque()).extend(faults)

    def always(self, key: str, fault: Fault) -> None:
        with self._lock:
            self._always[key] = fault

    def random_faults(
        self, rate: float, *, seed: int = 0, kinds: Iterable[Fault] = (), max_per_key: int = 2
    ) -> None:
        """Each request gets a random fault with probability ``rate``, at most ``max_per_key`` per key."""
        with self._lock:
            self._random_rate = rate
            self._random_kinds = tuple(kinds) or (Fault.SLOW, Fault.ERROR, Fault.BLOCKED, Fault.DROP)
            self._random_max = max_per_key
            self._rng = random.Random(seed)

    def clear_faults(self) -> None:
        with self._lock:
            self._queued.clear()
            self._always.clear()
            self._random_rate = 0.0

    def _fault_for(self, key: str) -> Fault | None:
        with self._lock:
            if key in self._always:
                return self._always[key]
            queue = self._queued.get(key)
            if queue:
                return queue.popleft()
            if (
                self._random_rate
                and self._random_done[key] < self._random_max
                and self._rng.random() < self._random_rate
            ):
                self._random_done[key] += 1
                return self._rng.choice(self._random_kinds)
            return None

    # -- observations ----------------------------------------------------------------------
    @property
    def hits(self) -> list[Hit]:
        with self._lock:
            return list(self._hits)

    def count(self, key: str) -> int:
        return sum(1 for hit in self.hits if hit.key == key)

    @property
    def connections(self) -> int:
        with self._lock:
            return self._connections

    @property
    def idle_closed(self) -> int:
        """Kept-alive connections this server closed because no request came within ``idle_seconds``."""
        with self._lock:
            return self._idle_closed

    def _idle_timeout(self) -> None:
        with self._lock:
            self._idle_closed += 1

    def _new_connection(self) -> int:
        with self._lock:
            self._connections += 1
            return self._connections

    def _record(self, hit: Hit) -> None:
        with self._lock:
            self._hits.append(hit)

    # -- the API ---------------------------------------------------------------------------
    def route(self, path: str, query: dict[str, list[str]]) -> tuple[str, int, Any]:
        """``(key, status, JSON payload)`` for a request, before any fault."""
        if path.rstrip("/").lower() == "/webapi/api/category":
            return CATEGORY, 200, self.categories
        prefix = "/webapi/api/faqqry/"
        if not path.lower().startswith(prefix):
            return f"other:{path}", 404, {"Message": "No HTTP resource was found"}
        segment = path[len(prefix) :]
        if "seqNo" in query:
            return self._detail(segment, query)
        kind = query.get("kind", [""])[0]
        return list_key(kind), 200, self._listing(segment.strip(), kind)

    def _detail(self, organ_no: str, query: dict[str, list[str]]) -> tuple[str, int, Any]:
        try:
            seq_no = int(query["seqNo"][0])
        except ValueError:
            return f"detail:{organ_no}/?", 400, {"Message": "bad seqNo"}
        key = (organ_no, seq_no)
        entry = self.entries.get(key)
        if entry is None:
            return detail_key(*key), 404, {"Message": "not found"}
        with self._lock:
            if query.get("updFlag") == ["N"]:
                self.views[key] += 1
            views = self.views[key]
        return detail_key(*key), 200, entry.detail(views)

    def _listing(self, keyword: str, kind: str) -> list[dict[str, Any]]:
        found = [
            e
            for e in self.entries.values()
            if (not kind or self._codes.get(e.kind_name or "") == kind) and keyword in e.question
        ]
        found.sort(key=lambda e: -self.views[(e.organ_no, e.seq_no)])
        return [
            {
                "SerialNo": number,
                "CaseContent": e.question,
                "OrganName": e.agency.removeprefix("高雄市政府") or e.agency,
                "ViewCount": str(self.views[(e.organ_no, e.seq_no)]),
                "OrganNo": e.organ_no,
                "SeqNo": e.seq_no,
            }
            for number, e in enumerate(found, start=1)
        ]


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins the handler threads
    block_on_close = True

    def __init__(self, address: tuple[str, int], handler: type[_Handler], api: FakeSowebApi) -> None:
        self.api = api
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("fake soweb: error serving %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        self.timeout = self.server.api.idle_seconds  # an idle kept-alive connection is closed after this
        super().setup()
        self.connection_number = self.server.api._new_connection()

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("fake soweb: " + format, *args)

    def log_error(self, format: str, *args: Any) -> None:
        # BaseHTTPRequestHandler reports an idle kept-alive connection it closes this way
        if format.startswith("Request timed out"):
            self.server.api._idle_timeout()
        super().log_error(format, *args)

    def do_GET(self) -> None:
        api = self.server.api
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        key, status, payload = api.route(unquote(url.path), query)
        fault = api._fault_for(key)
        api._record(
            Hit(
                key,
                url.path,
                query,
                self.headers.get("User-Agent", ""),
                self.connection_number,
                time.monotonic(),
                fault,
            )
        )
        if fault is Fault.DROP:
            self.close_connection = True
            return
        if fault is Fault.SLOW and api.stopping.wait(api.slow_seconds):
            self.close_connection = True
            return
        if fault is Fault.ERROR:
            self._send(500, b"Internal Server Error", "text/plain")
        elif fault is Fault.BLOCKED:
            self._send(200, BLOCK_PAGE, "text/html")
        elif fault is Fault.NOT_FOUND:
            self._send(404, b'{"Message": "not found"}', "application/json; charset=utf-8")
        else:
            body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            self._send(status, body, "application/json; charset=utf-8")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client gave up (a time-out): nothing to answer to
            self.close_connection = True
