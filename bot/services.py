"""Application services shared by the CLI and the HTTP API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from bot.harvest.policy import UpstreamPolicy
from bot.settings import Settings
from bot.store import Database
from bot.store.faqs import FaqStore
from bot.store.kb_import import ImportReport, import_rows
from knowledge.faq import FaqStatus
from knowledge.importers import Row, read

__all__ = ["HarvestBusy", "ScrapeOutcome", "import_file", "kb_status", "scrape_kaohsiung", "setup_store"]


def import_file(
    settings: Settings,
    path: Path,
    fmt: str | None,
    *,
    actor: str,
    merge_duplicates: bool = False,
    database: Database | None = None,
    policy: UpstreamPolicy | None = None,
) -> ImportReport:
    """Import one file or folder through the one import path, with a progress bar on a terminal.

    A file is an upstream like the city's service: ``policy`` (default: the settings'
    ``harvest.upstream_changes`` and ``harvest.new_entries``) says whether a change is applied
    or held for review and what status new entries take; staff's overrides are never undone."""
    policy = policy or UpstreamPolicy.of(settings.harvest)
    db = database or Database(settings.database_url_plain)
    db.migrate()
    with tqdm(desc=f"importing {path.name}", unit=" rows", disable=None, leave=False) as bar:

        def tick(_row: Row) -> None:
            bar.update(1)

        with db.session() as session:
            return import_rows(
                session,
                read(path, fmt),
                actor=actor,
                merge_duplicates=merge_duplicates,
                progress=tick,
                hold=policy.hold,
                new_status=policy.new_status,
            )


def setup_store(settings: Settings) -> Iterator[str]:
    """Migrate the database and load the default knowledge base; idempotent."""
    db = Database(settings.database_url_plain)
    try:
        db.migrate()
        yield "database schema up to date"
        content = settings.knowledge.content_dir
        if content.is_dir() and any(content.glob("*.jsonl")):
            # the shipped base is loaded as shipped (published), whatever harvest.new_entries says
            shipped = UpstreamPolicy(hold=settings.harvest.upstream_changes == "review")
            report = import_file(settings, content, "jsonl", actor="setup", database=db, policy=shipped)
            yield f"default knowledge base ({content}): {report.summary()}"
            for rejected in report.rejected:
                yield f"  rejected {rejected.where}: {rejected.reason}"
        else:
            yield f"no default knowledge base found in {content}"
        yield kb_status(settings, db)
    finally:
        db.dispose()


def kb_status(settings: Settings, database: Database | None = None) -> str:
    db = database or Database(settings.database_url_plain)
    with db.session() as session:
        store = FaqStore(session)
        counts = {status.value: store.search(status=status, per_page=1).total for status in FaqStatus}
        version = store.kb_version()
    parts = ", ".join(f"{n} {status}" for status, n in counts.items())
    return f"knowledge base version {version}: {parts}"


@dataclass(frozen=True, slots=True)
class ScrapeOutcome:
    report: ImportReport
    summary: str
    complete: bool
    blocked: str = ""
    counts: dict[str, int] = field(default_factory=dict)


class HarvestBusy(RuntimeError):
    """Another replica or command is harvesting now."""


def scrape_kaohsiung(
    settings: Settings,
    *,
    base_url: str,
    state_dir: Path,
    rate: float,
    fresh: bool,
    actor: str,
) -> ScrapeOutcome:
    """Scrape the city FAQ API (resuming an interrupted run) and import it as a harvest
    (``bot.harvest``): under the harvest lease, recorded as a run, never over staff's changes.

    What was fetched is imported even when the site starts refusing us part-way; the next
    run resumes from the saved state.
    """
    from bot.harvest import Harvester

    db = Database(settings.database_url_plain)
    db.migrate()
    harvest = settings.harvest.model_copy(update={"base_url": base_url, "state_dir": state_dir, "rate": rate})
    outcome = Harvester(db, harvest).run(trigger="cli", actor=actor, fresh=fresh)
    if outcome is None:
        raise HarvestBusy("another harvest is running now (see the console's 來源更新 page); try again later")
    return ScrapeOutcome(
        outcome.report, outcome.summary, outcome.complete, outcome.blocked, outcome.run.counts
    )
