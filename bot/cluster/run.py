"""``bot1999 run-cluster``: the shared database made ready, then every replica and the balancer."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

from bot.cluster.database import ensure_database
from bot.cluster.plan import cluster_children, shared_environment
from bot.services import import_file, kb_status
from bot.settings import Settings
from bot.store import Database
from bot.supervisor import supervise

__all__ = ["prepare", "run_cluster"]

log = logging.getLogger(__name__)


def prepare(settings: Settings) -> Iterator[str]:
    """Create the cluster's PostgreSQL database if missing, migrate it and load the default
    knowledge base (what ``bot1999 setup`` does, on that database); says what it did."""
    url = settings.cluster.database_url
    created = ensure_database(url.get_secret_value())
    yield f"cluster database {'created' if created else 'present'}"
    on_cluster = settings.model_copy(update={"database_url": url})
    database = Database(url.get_secret_value())
    try:
        database.migrate()
        yield "database schema up to date"
        content = settings.knowledge.content_dir
        if content.is_dir() and any(content.glob("*.jsonl")):
            report = import_file(on_cluster, content, "jsonl", actor="setup", database=database)
            yield f"default knowledge base ({content}): {report.summary()}"
            yield from (f"  rejected {rejected.where}: {rejected.reason}" for rejected in report.rejected)
        else:
            yield f"no default knowledge base found in {content}"
        yield kb_status(on_cluster, database)
    finally:
        database.dispose()


def run_cluster(settings: Settings) -> int:
    """Start the cluster in the foreground; Ctrl-C (or SIGTERM) stops every process, and a
    process that dies is started again (with a growing pause if it keeps dying)."""
    rasa = settings.rasa.venv / "bin" / "python"
    if not rasa.exists() or not settings.rasa.model.exists():
        log.error("the cluster needs Rasa: no %s or no model %s (make setup)", rasa, settings.rasa.model)
        return 2
    children = cluster_children(settings)
    os.environ.update(shared_environment(settings))  # every child inherits it (secrets stay out of argv)
    cluster = settings.cluster
    log.info(
        "cluster: %d replicas of Rasa and the bot (with the actions); balancer on http://%s:%d",
        cluster.replicas,
        cluster.balancer_host,
        cluster.balancer_port,
    )
    return supervise(children, restart=True)  # a replica that crashes is started again
