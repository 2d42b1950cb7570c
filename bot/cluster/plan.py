"""The processes of ``bot1999 run-cluster``: N Rasa servers, N bots, one balancer.

Replica ``i`` is a pair: bot ``i`` asks Rasa ``i``, which calls the actions bot ``i`` serves
(``bot.api.actions``: one FAQ engine per replica, in the bot). The
balancer sends each request to the next healthy bot, so one conversation's messages land on
different replicas; that works because everything a turn needs is shared — PostgreSQL (the
stores, Rasa's tracker store) and Redis (rate limits, Rasa's lock store).

Start-up order (``bot.supervisor.supervise``): the Rasa servers at once (warmed up on a turn
that needs no action); the bots once every Rasa is warmed up; the balancer once every bot
answers /healthz.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from bot.chat.rasa_engine import ACTIONS_PATH, RasaWarmUp
from bot.cluster.endpoints import cluster_endpoints, store_secrets
from bot.settings import Settings
from bot.supervisor import Child, actions_token_environment, rasa_argv

__all__ = ["AllReady", "HealthReady", "Replica", "cluster_children", "replicas", "shared_environment"]

LOOPBACK = "127.0.0.1"
RASA_POOL = "5"  # connections per Rasa to the tracker store (Rasa's default, 50 + 100, is for big servers)


@dataclass(frozen=True, slots=True)
class Replica:
    number: int  # 1-based, as the log names it
    bot_port: int
    rasa_port: int

    @property
    def bot_url(self) -> str:
        return f"http://{LOOPBACK}:{self.bot_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://{LOOPBACK}:{self.rasa_port}"

    @property
    def actions_url(self) -> str:
        return f"{self.bot_url}{ACTIONS_PATH}"


def replicas(settings: Settings) -> list[Replica]:
    cluster = settings.cluster
    return [Replica(i + 1, cluster.bot_port + i, cluster.rasa_port + i) for i in range(cluster.replicas)]


class AllReady:
    """Ready once every check has passed once (each check is retried until it does)."""

    def __init__(self, checks: Sequence[Callable[[], bool]]) -> None:
        self.waiting = list(checks)

    def __call__(self) -> bool:
        self.waiting = [check for check in self.waiting if not check()]
        return not self.waiting


class HealthReady:
    """One attempt at ``GET url`` answering 200."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __call__(self) -> bool:
        try:
            return httpx.get(self.url, timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False


def shared_environment(settings: Settings) -> dict[str, str]:
    """What every child of the cluster shares: the database, Redis for the rate limits and
    agents' presence, the balancer as a trusted proxy, and the secrets Rasa's endpoints
    refer to (the stores' passwords, the token of the bots' action endpoints)."""
    database_url = settings.cluster.database_url.get_secret_value()
    redis_url = settings.limits.redis_url.get_secret_value()
    proxies = list(dict.fromkeys([*settings.limits.trusted_proxies, f"{LOOPBACK}/32"]))
    return {
        "BOT1999_DATABASE_URL": database_url,
        "BOT1999_LIMITS__BACKEND": "redis",
        "BOT1999_HANDOFF__PRESENCE": "redis",
        "BOT1999_HANDOFF__PRESENCE_REDIS_URL": redis_url,
        "BOT1999_LIMITS__TRUSTED_PROXIES": json.dumps(proxies),
        "SQL_POOL_SIZE": RASA_POOL,
        "SQL_MAX_OVERFLOW": RASA_POOL,
        **store_secrets(database_url, redis_url),
        **actions_token_environment(settings),
    }


def cluster_children(settings: Settings, *, endpoints_dir: Path = Path("var") / "rasa") -> list[Child]:
    """Every process of the cluster, in start-up order, with the readiness checks between them."""
    cluster = settings.cluster
    group = replicas(settings)
    token = settings.rasa.token.get_secret_value()
    children: list[Child] = []
    for r in group:
        endpoints = cluster_endpoints(
            Path("endpoints.yml"),
            endpoints_dir / f"endpoints-cluster-{r.rasa_port}.yml",  # by port: clusters apart never share one
            actions_url=r.actions_url,
            database_url=cluster.database_url.get_secret_value(),
            redis_url=settings.limits.redis_url.get_secret_value(),
            key_prefix=cluster.lock_store_prefix,
        )
        children.append(Child(f"rasa-{r.number}", rasa_argv(settings, endpoints, LOOPBACK, r.rasa_port)))
    warm = AllReady(
        [
            RasaWarmUp(
                r.rasa_url,
                token=token,
                turn_seconds=settings.rasa.timeout_seconds,
                message=RasaWarmUp.WITHOUT_ACTIONS,  # the actions are the bots', which start after
            )
            for r in group
        ]
    )
    children[-1] = Child(children[-1].name, children[-1].argv, ready=warm, ready_within=600.0)
    for r in group:  # each bot asks its own Rasa; the port is an option, the Rasa URL a setting
        argv = ["env", f"BOT1999_RASA__URL={r.rasa_url}", sys.executable, "-m", "bot", "serve"]
        children.append(Child(f"bot-{r.number}", [*argv, "--host", LOOPBACK, "--port", str(r.bot_port)]))
    healthy = AllReady([HealthReady(f"{r.bot_url}/healthz") for r in group])
    children[-1] = Child(children[-1].name, children[-1].argv, ready=healthy, ready_within=300.0)
    balancer = [sys.executable, "-m", "bot.cluster.balancer", "--host", cluster.balancer_host]
    balancer += ["--port", str(cluster.balancer_port)]
    balancer += ["--health-interval", str(cluster.health_interval_seconds)]
    balancer += ["--max-body-mb", str(settings.console.import_max_mb + 1)]
    for r in group:
        balancer += ["--backend", r.bot_url]
    children.append(Child("balancer", balancer))
    return children
