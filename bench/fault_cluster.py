"""``bot1999 run-cluster`` on a PostgreSQL and a Redis of its own, and the faults done to it.

``FaultCluster`` starts a private PostgreSQL and Redis (``bench.private_services``), then the
cluster against them through the environment (``BOT1999_CLUSTER__*``, ``BOT1999_LIMITS__REDIS_URL``)
on free ports in 8100-8199 and 5100-5199, so that restarting PostgreSQL or stopping Redis
disturbs nothing else on the machine. ``FAULTS`` are what ``bench.faults`` and
``tests/bot/cluster/test_faults.py`` do to it, one after another.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.private_services import PrivatePostgres, PrivateRedis, port_answers

__all__ = ["FAULTS", "Fault", "FaultCluster", "free_block"]

REPO = Path(__file__).resolve().parents[1]
DATABASE = "bot1999_faults"
REDIS_OUTAGE_SECONDS = 10.0


def free_block(first: int, last: int, count: int, taken: set[int]) -> int:
    """The first of ``count`` consecutive free ports in ``first``..``last`` (none in ``taken``,
    which then holds them too)."""
    for start in range(first, last - count + 2):
        ports = range(start, start + count)
        if taken.isdisjoint(ports) and all(_bindable(port) for port in ports):
            taken.update(ports)
            return start
    raise RuntimeError(f"no {count} free ports in a row in {first}-{last}")


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class FaultCluster:
    """The cluster, its private PostgreSQL and Redis, and how to find and hurt its processes."""

    def __init__(self, workdir: Path, *, replicas: int = 2) -> None:
        self.workdir = workdir
        self.log = workdir / "cluster.log"
        taken: set[int] = set()
        self.postgres = PrivatePostgres(free_block(5100, 5199, 1, taken))
        self.redis = PrivateRedis(free_block(5100, 5199, 1, taken))
        balancer = free_block(8100, 8199, replicas + 1, taken)
        self.env = {
            "BOT1999_CLUSTER__REPLICAS": str(replicas),
            "BOT1999_CLUSTER__DATABASE_URL": self.postgres.url(DATABASE),
            "BOT1999_CLUSTER__BALANCER_PORT": str(balancer),
            "BOT1999_CLUSTER__BOT_PORT": str(balancer + 1),
            "BOT1999_CLUSTER__RASA_PORT": str(free_block(5100, 5199, replicas, taken)),
            "BOT1999_CLUSTER__LOCK_STORE_PREFIX": "faults",
            "BOT1999_LIMITS__REDIS_URL": self.redis.url,
            "BOT1999_HANDOFF__PRESENCE_REDIS_URL": self.redis.url,
            "RASA_TELEMETRY_ENABLED": "false",
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def database_url(self) -> str:
        return self.postgres.url(DATABASE)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.env['BOT1999_CLUSTER__BALANCER_PORT']}"

    def port(self, kind: str, number: int) -> int:
        """The port of replica ``number`` (1-based) of ``bot`` or ``rasa``."""
        return int(self.env[f"BOT1999_CLUSTER__{kind.upper()}_PORT"]) + number - 1

    # --- start and stop ---------------------------------------------------------------
    def start(self, within: float = 900.0) -> float:
        """Start everything; seconds until the balancer answers with every bot healthy."""
        self.postgres.create()
        self.postgres.start()
        self.redis.start()
        started = time.monotonic()
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(REPO / ".venv" / "bin" / "bot1999"), "run-cluster"],
                cwd=REPO,
                env={**os.environ, **self.env, "BOT1999_SERVER__LOG_LEVEL": "warning"},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        while not self.healthy():
            if self.process.poll() is not None or time.monotonic() - started > within:
                raise RuntimeError(f"the cluster did not come up:\n{self.log_tail()}")
            time.sleep(1.0)
        return time.monotonic() - started

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.redis.stop()
        self.postgres.remove()
        for number in range(1, int(self.env["BOT1999_CLUSTER__REPLICAS"]) + 1):  # Rasa's endpoints files
            (REPO / "var" / "rasa" / f"endpoints-cluster-{self.port('rasa', number)}.yml").unlink(
                missing_ok=True
            )

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def supervisor_lines(self) -> list[str]:
        """What the supervisor said about processes that died and were started again."""
        words = ("was killed by", "exited with", "restarted ", "is ready (")
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return [
            line for line in text.splitlines() if "bot.supervisor" in line and any(w in line for w in words)
        ]

    # --- state ------------------------------------------------------------------------
    def backends(self) -> list[dict[str, object]]:
        try:
            backends: list[dict[str, object]] = httpx.get(f"{self.url}/_balancer", timeout=2).json()[
                "backends"
            ]
        except (httpx.HTTPError, ValueError, KeyError):
            return []
        return backends

    def healthy(self) -> bool:
        backends = self.backends()
        return bool(backends) and all(b["healthy"] for b in backends)

    def pid(self, kind: str, number: int) -> int:
        """The process id of replica ``number`` of ``bot`` or ``rasa``."""
        assert self.process is not None
        marker = {"bot": " bot serve ", "rasa": "rasa_run.py"}[kind]
        port = str(self.port(kind, number))
        children = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True, check=False
        ).stdout.split()
        for child in children:
            try:
                argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            words = [part.decode(errors="replace") for part in argv]
            if marker in f" {' '.join(words)} " and port in words:
                return int(child)
        raise LookupError(f"no {kind}-{number} process")

    def answers(self, kind: str, number: int) -> bool:
        """Replica ``number`` of ``kind`` is up again and answering."""
        port = self.port(kind, number)
        path = {"bot": "/healthz", "rasa": "/status"}[kind]
        try:
            response = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=2)
        except httpx.HTTPError:
            return False
        if kind == "rasa":
            return response.status_code == 200 and bool(response.json().get("model_file"))
        return response.status_code == 200


@dataclass(frozen=True, slots=True)
class Fault:
    """A fault: ``inject`` does it (and returns once it is done); ``back`` says whether what was
    hurt is there again (a killed process restarted and answering, a server up)."""

    name: str
    what: str
    inject: Callable[[FaultCluster], None]
    back: Callable[[FaultCluster], bool]


def _kill(kind: str, number: int) -> Fault:
    def inject(cluster: FaultCluster) -> None:
        os.kill(cluster.pid(kind, number), signal.SIGKILL)

    def back(cluster: FaultCluster) -> bool:
        return cluster.answers(kind, number) and (kind != "bot" or cluster.healthy())

    return Fault(f"kill -9 {kind}-{number}", f"SIGKILL to {kind} replica {number}", inject, back)


def _restart_postgres(cluster: FaultCluster) -> None:
    cluster.postgres.restart()


def _postgres_back(cluster: FaultCluster) -> bool:
    return port_answers(cluster.postgres.port) and cluster.healthy()


def _stop_redis(cluster: FaultCluster) -> None:
    """Redis away for ``REDIS_OUTAGE_SECONDS`` (stopped, then started empty); returns at once."""
    cluster.redis.stop()
    threading.Timer(REDIS_OUTAGE_SECONDS, cluster.redis.start).start()


def _redis_back(cluster: FaultCluster) -> bool:
    return port_answers(cluster.redis.port)


FAULTS = [
    _kill("bot", 1),
    _kill("rasa", 1),
    Fault(
        "PostgreSQL restart",
        "pg_ctl restart -m fast (every connection cut)",
        _restart_postgres,
        _postgres_back,
    ),
    Fault(
        "Redis stop",
        f"redis-server stopped for {REDIS_OUTAGE_SECONDS:.0f} s, then started empty",
        _stop_redis,
        _redis_back,
    ),
]
