"""``bot1999``: run the service, manage the store and the knowledge base."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from bot.settings import Settings, SettingsError, get_settings

__all__ = ["SERVER_KEEPALIVE_SECONDS", "app", "main"]

# How long the HTTP server keeps an idle connection (uvicorn's default, named): its clients —
# Rasa calling the actions (rasa_run.KEEPALIVE_SECONDS), the cluster's balancer — let go of
# idle connections sooner, so that none sends a request on a connection being closed.
SERVER_KEEPALIVE_SECONDS = 5

app = typer.Typer(help="Smart customer-service bot for a city's 1999 hotline.", no_args_is_help=True)
db_app = typer.Typer(help="The database: migrations.", no_args_is_help=True)
kb_app = typer.Typer(help="The knowledge base: import, scrape, inspect.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(kb_app, name="kb")
user_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
app.add_typer(user_app, name="user")
metrics_app = typer.Typer(help="The supervisors' figures.", no_args_is_help=True)
app.add_typer(metrics_app, name="metrics")
agencies_app = typer.Typer(help="The city's agency list (bot/agencies/agencies.yml).", no_args_is_help=True)
app.add_typer(agencies_app, name="agencies")

log = logging.getLogger("bot1999")


def _settings() -> Settings:
    try:
        return get_settings()
    except SettingsError as error:
        typer.secho(str(error), fg="red", err=True)
        raise typer.Exit(2) from None


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(message, fg="red", err=True)
    return typer.Exit(code)


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug detail.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from bot.privacy import install_log_redaction

    install_log_redaction()  # no personal data in any log line
    if not verbose:  # a line per migration step, per outgoing HTTP request (each chat turn asks Rasa)
        for chatty in ("alembic", "httpx", "httpcore"):
            logging.getLogger(chatty).setLevel(logging.WARNING)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default: settings server.host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: settings server.port).")] = None,
) -> None:
    """Serve the HTTP API (knowledge base, /healthz, /docs) in the foreground."""
    import uvicorn

    from bot.app import create_app

    settings = _settings()
    uvicorn.run(
        create_app(settings),
        host=host or settings.server.host,
        port=port or settings.server.port,
        log_level=settings.server.log_level,
        timeout_keep_alive=SERVER_KEEPALIVE_SECONDS,
    )


@app.command()
def setup() -> None:
    """Create or upgrade the database and load the default knowledge base (idempotent)."""
    from bot.services import setup_store

    settings = _settings()
    for line in setup_store(settings):
        typer.echo(line)


@app.command()
def run() -> None:
    """Set up, then run every process of the bot until Ctrl-C (what `make run` calls)."""
    from bot.supervisor import run_all

    settings = _settings()
    setup()
    raise typer.Exit(run_all(settings))


@app.command("run-cluster")
def run_cluster() -> None:
    """Run cluster.replicas of Rasa and the bot (which serves Rasa's actions) behind a load balancer on this
    machine, sharing PostgreSQL (cluster.database_url) and Redis, until Ctrl-C (`make run-cluster`)."""
    from psycopg import OperationalError

    from bot.cluster.run import prepare
    from bot.cluster.run import run_cluster as run_all_replicas

    settings = _settings()
    try:
        for line in prepare(settings):
            typer.echo(line)
    except OperationalError as error:
        raise _fail(f"PostgreSQL for the cluster (cluster.database_url) does not answer: {error}") from None
    raise typer.Exit(run_all_replicas(settings))


@metrics_app.command("refresh")
def metrics_refresh(
    full: Annotated[bool, typer.Option(help="Derive every conversation again.")] = False,
) -> None:
    """Bring the dashboard's figures up to date with the turn log (after an upgrade or an import)."""
    from bot.metrics.refresh import refresh
    from bot.store import Database

    database = Database(_settings().database_url_plain)
    try:
        database.migrate()
        result = refresh(database, full=full)
    finally:
        database.dispose()
    typer.echo(
        f"{result.conversations} conversations, {result.turns} turns derived ({result.changed} changed) "
        f"in {result.seconds:.1f} s; last turn {result.last_turn_id}"
    )


@app.command("telegram-poll")
def telegram_poll() -> None:
    """Telegram polling mode: fetch updates and hand them to the running bot service (Ctrl-C stops)."""
    import asyncio
    import contextlib

    from bot.channels.telegram_poll import run_poller

    settings = _settings()
    if not settings.channels.telegram.enabled:
        raise _fail(
            "the Telegram channel is off: set channels.telegram.bot_token (BOT1999_CHANNELS__TELEGRAM__BOT_TOKEN)"
        )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_poller(settings))


@app.command()
def purge(
    dry_run: Annotated[bool, typer.Option(help="Only count what would be purged.")] = False,
) -> None:
    """Remove personal data past its retention (privacy.retention_days, privacy.case_retention_days).

    Raw turn text is blanked (the redacted copy and every count stay), idle conversations
    forget their channel address, closed cases lose their phone and photo and are redacted.
    """
    from bot.cluster.tracker_events import purge_tracker_events
    from bot.store import Database
    from bot.store.retention import cutoffs
    from bot.store.retention import purge as run_purge
    from bot.store.status_checks import StatusChecks

    settings = _settings()
    database = Database(settings.database_url_plain)
    database.migrate()
    try:
        turn_cutoff, case_cutoff = cutoffs(settings.privacy)
        report = run_purge(database, turn_cutoff, case_cutoff, dry_run=dry_run)
        rasa_events = purge_tracker_events(database, turn_cutoff, dry_run=dry_run)
        stale = 0
        if not dry_run:  # counts of failed status checks past their window and lock-out
            with database.session() as session:
                stale = StatusChecks(session, settings.status_check).forget_stale()
    finally:
        database.dispose()
    typer.echo(report.summary())
    if rasa_events:
        verb = "would be" if dry_run else "were"
        typer.echo(f"Rasa's tracker store: {rasa_events} events before {turn_cutoff:%Y-%m-%d} {verb} deleted")
    if stale:
        typer.echo(f"status checks: {stale} stale failure count(s) deleted")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations to the configured database."""
    from bot.store.db import current_revision, make_engine, migrate

    engine = make_engine(_settings().database_url_plain)
    migrate(engine)
    typer.echo(f"database at revision {current_revision(engine)}")


@kb_app.command("import")
def kb_import(
    path: Annotated[Path, typer.Argument(help="A file, or a folder of files, to import.")],
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="jsonl, csv, xlsx or taipei-xml (default: from the file name)."),
    ] = None,
    merge_duplicates: Annotated[
        bool, typer.Option(help="Fold duplicate questions into the first entry as alternatives.")
    ] = False,
    actor: Annotated[str, typer.Option(help="Who is importing (kept in the history).")] = "cli",
    strict: Annotated[bool, typer.Option(help="Exit 1 if any row was rejected.")] = False,
) -> None:
    """Import FAQs (upsert by id) and report imported / updated / unchanged / duplicates / rejected."""
    from bot.services import import_file
    from knowledge.importers import FORMATS, ImportError_

    if fmt is not None and fmt not in FORMATS:
        raise _fail(f"unknown --format {fmt!r}; choose one of {', '.join(FORMATS)}")
    try:
        report = import_file(_settings(), path, fmt, actor=actor, merge_duplicates=merge_duplicates)
    except ImportError_ as error:
        raise _fail(f"cannot import {path}: {error}") from None
    for rejected in report.rejected:
        typer.echo(f"rejected {rejected.where}: {rejected.reason}")
    for duplicate in report.duplicates:
        typer.echo(f"duplicate {duplicate.where}: {duplicate.faq_id} asks the same as {duplicate.same_as}")
    typer.echo(report.summary())
    if report.kb_version is not None:
        typer.echo(f"knowledge base now at version {report.kb_version}")
    if strict and report.rejected:
        raise typer.Exit(1)


@kb_app.command("scrape")
def kb_scrape(
    source: Annotated[str, typer.Argument(help="Which FAQ service: kaohsiung.")],
    base_url: Annotated[
        str | None, typer.Option(help="The API's base URL (default: the city's public site).")
    ] = None,
    state_dir: Annotated[Path, typer.Option(help="Where an interrupted run is resumed from.")] = Path(
        "var/scrape/kaohsiung"
    ),
    rate: Annotated[float, typer.Option(min=0.1, max=3.0, help="Requests per second (at most 3).")] = 3.0,
    fresh: Annotated[bool, typer.Option(help="Forget a previous run's state and fetch everything.")] = False,
    actor: Annotated[str, typer.Option(help="Who is importing (kept in the history).")] = "scraper",
) -> None:
    """Scrape the city's FAQ web API politely and import it (resumes an interrupted run)."""
    from bot.services import HarvestBusy, scrape_kaohsiung
    from knowledge.importers.soweb import SOWEB_SITE

    if source != "kaohsiung":
        raise _fail(f"unknown FAQ service {source!r}; known: kaohsiung")
    try:
        outcome = scrape_kaohsiung(
            _settings(),
            base_url=base_url or SOWEB_SITE,
            state_dir=state_dir,
            rate=rate,
            fresh=fresh,
            actor=actor,
        )
    except HarvestBusy as error:
        raise _fail(str(error), 1) from None
    for rejected in outcome.report.rejected:
        typer.echo(f"rejected {rejected.where}: {rejected.reason}")
    typer.echo(f"scrape: {outcome.summary}")
    typer.echo(outcome.report.summary())
    counts = outcome.counts
    typer.echo(
        f"harvest: {counts.get('new', 0)} new, {counts.get('changed', 0)} changed, {counts.get('gone', 0)} gone, "
        f"{counts.get('conflicts', 0) + counts.get('held', 0)} for review, {counts.get('errors', 0)} errors"
    )
    if outcome.blocked:
        raise _fail(f"stopped early, the site refused us: {outcome.blocked}; run again later to resume", 1)
    if not outcome.complete:
        typer.echo("some entries could not be fetched; run the same command again to fetch only those")


@kb_app.command("version")
def kb_version() -> None:
    """Print the live knowledge-base version and the number of entries by status."""
    from bot.services import kb_status

    typer.echo(kb_status(_settings()))


@app.command()
def evaluate(
    kb: Annotated[Path, typer.Option(help="Knowledge-base file or folder (any importer format).")],
    queries: Annotated[
        Path, typer.Option(help='JSONL of {"query", "gold": id | [ids] | null, "style"?, "kind"?}.')
    ],
    fmt: Annotated[
        str | None, typer.Option("--format", help="The knowledge base's format (default: from the name).")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the figures as JSON here.")
    ] = None,
    encoder: Annotated[
        str | None, typer.Option(help="Encoder (default: settings knowledge.encoder).")
    ] = None,
    details: Annotated[
        Path | None,
        typer.Option(
            help="Also write one JSON line per query here: decision, confidence, top 5 with scores"
            " and features, rank of the right FAQ (docs/knowledge-base.md)."
        ),
    ] = None,
) -> None:
    """Score retrieval on labelled queries over an isolated index of KB (never touches the live store)."""
    from bot.retrieval import make_encoder, make_retriever
    from knowledge.eval_details import DetailWriter
    from knowledge.evaluate import evaluate as score
    from knowledge.evaluate import format_report, read_cases
    from knowledge.importers import ImportError_, read_records

    knowledge = _settings().knowledge
    try:
        records = [row.record for row in read_records(kb, fmt)]
        files = sorted(queries.glob("*.jsonl")) if queries.is_dir() else [queries]
        cases = [case for file in files for case in read_cases(file)]
    except (ImportError_, OSError, ValueError) as error:
        raise _fail(f"cannot read the input: {error}") from None
    if not records:
        raise _fail(f"no usable FAQ entries in {kb}")
    retriever = make_retriever(knowledge, make_encoder(knowledge, encoder))
    stats = retriever.build(records)
    typer.echo(
        f"index: {stats.records} entries, {stats.vectors} vectors, {stats.encoded} encoded, {stats.seconds:.1f} s"
    )
    if details is None:
        report = score(retriever, cases)
    else:
        details.parent.mkdir(parents=True, exist_ok=True)
        with details.open("w", encoding="utf-8") as out:
            writer = DetailWriter(retriever, out)
            report = score(retriever, cases, writer)
    typer.echo(format_report(report))
    if details is not None:
        typer.echo(f"details of {writer.lines} queries written to {details}")
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
        typer.echo(f"figures written to {json_out}")


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Argument(help="Log-in name (lower case).")],
    role: Annotated[str, typer.Option(help="staff, supervisor or admin.")] = "admin",
    display_name: Annotated[str, typer.Option(help="Name shown in the console.")] = "",
    password_stdin: Annotated[bool, typer.Option(help="Read the password from standard input.")] = False,
) -> None:
    """Create a staff account (the first one: `bot1999 user create NAME --role admin`)."""
    from bot.store import Database
    from bot.store.users import AccountError, Role, UserStore

    if role not in {r.value for r in Role}:
        raise _fail(f"unknown --role {role!r}; choose staff, supervisor or admin")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    database = Database(_settings().database_url_plain)
    database.migrate()
    try:
        with database.session() as session:
            UserStore(session).create(username, password, Role(role), actor="cli", display_name=display_name)
    except AccountError as error:
        raise _fail(str(error)) from None
    typer.echo(f"created {role} {username.strip().lower()}")


@agencies_app.command("report")
def agencies_report() -> None:
    """List the agency names stored in FAQs, cases and figures that the agency list does not know
    (kept as they are: add them to the list), and rows still under another name of a known agency."""
    from bot.agencies import agencies
    from bot.store import Database
    from bot.store.agency_names import stored_agency_names

    known = agencies()
    database = Database(_settings().database_url_plain)
    database.migrate()
    with database.session() as session:
        names = stored_agency_names(session)
    unknown: dict[str, list[str]] = {}
    aliased: dict[str, list[str]] = {}
    for found in names:
        canonical = known.find(found.name)
        count = f"{found.table} {found.rows}"
        if canonical is None:
            unknown.setdefault(found.name, []).append(count)
        elif canonical != found.name and found.table != "faq_source":  # the source layer keeps its names
            aliased.setdefault(f"{found.name} -> {canonical}", []).append(count)
    typer.echo(f"agency list: {len(known.agencies)} agencies; {len(unknown)} stored names not in it")
    if unknown:
        typer.echo(
            "not in the list (kept as they are; add each to bot/agencies/agencies.yml as an agency or an alias):"
        )
        for name, counts in sorted(unknown.items()):
            typer.echo(f"  {name}: {', '.join(counts)} rows")
    if aliased:
        typer.echo(
            "stored under another name of a known agency (an FAQ is renamed at its next import or edit):"
        )
        for pair, counts in sorted(aliased.items()):
            typer.echo(f"  {pair}: {', '.join(counts)} rows")


def main() -> None:
    app()
