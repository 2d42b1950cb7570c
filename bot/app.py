"""The FastAPI application: ``create_app(settings)``; resources are made in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool

from bot import console, security
from bot.api import actions, chat, chat_updates, health, kb, open311, unavailable
from bot.channels import line, telegram
from bot.channels.running import start_channels
from bot.chat.breaker import Breaker
from bot.chat.degraded import DegradedResponder
from bot.chat.rasa_engine import RasaEngine
from bot.chat.service import ChatService
from bot.console import cases as case_inbox
from bot.console import dashboard, failures, kb_review, learned
from bot.handoff.delivery import start_delivery
from bot.handoff.takeover import human_asker
from bot.harvest import Harvester, HarvestScheduler, parse_schedule
from bot.kb_index import LiveIndex
from bot.retrieval import make_encoder, make_retriever
from bot.settings import Settings, get_settings
from bot.store import Database
from bot.web import cases as case_pages
from bot.web import chat_page, not_found

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings.database_url_plain)
        await run_in_threadpool(database.migrate)
        knowledge = settings.knowledge
        encoder = await run_in_threadpool(make_encoder, knowledge)
        index = LiveIndex(database, make_retriever(knowledge, encoder))
        await run_in_threadpool(index.warm_up)
        index.start(knowledge.refresh_seconds)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
            engine = RasaEngine(
                session,
                settings.rasa.url,
                timeout=settings.rasa.timeout_seconds,
                token=settings.rasa.token.get_secret_value(),
            )
            app.state.database = database
            app.state.index = index
            app.state.actions = await run_in_threadpool(actions.action_executor)  # Rasa's, lent our index
            app.state.chat = ChatService(
                engine,
                DegradedResponder(index),
                database,
                pseudonym_key=settings.privacy.pseudonym_key.get_secret_value(),
                breaker=Breaker(settings.rasa.cool_off_seconds),
                ask_human=human_asker(settings.handoff),
                citizen_learning=settings.citizen_learning,
            )
            channels = await start_channels(app, settings, app.state.chat, database)
            delivery = start_delivery(app, settings.handoff, database)
            app.state.harvest = _harvest_scheduler(settings, database)
            try:
                yield
            finally:
                await app.state.harvest.stop()
                await delivery.stop()
                await channels.stop()
                index.stop()
                database.dispose()

    app = FastAPI(
        title="bot1999",
        summary="Smart customer-service bot for a city's 1999 hotline",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    for router in (
        actions.router,
        health.router,
        chat.router,
        chat_updates.router,
        kb.router,
        open311.router,
        case_pages.router,
        chat_page.router,
        line.router,
        telegram.router,
    ):
        app.include_router(router)
    not_found.install(app)  # a browser's unknown page: a Chinese page with a way back; API clients: JSON
    unavailable.install(app)  # 503 "try again" while the database is away, not 500
    security.install(app, settings)  # size and rate limits, security headers (inside CORS: refusals get it)
    if settings.web.allowed_origins:  # other sites that embed the widget call /api/chat
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.web.allowed_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "Accept"],
            expose_headers=["Retry-After"],  # the widget waits as long as a 429 says
            max_age=600,
        )
    console.install(app)
    case_inbox.install(app)
    failures.install(app)
    learned.install(app)
    dashboard.install(app)
    kb_review.install(app)
    return app


def _harvest_scheduler(settings: Settings, database: Database) -> HarvestScheduler:
    """The harvest of the city FAQ service: on ``harvest.schedule`` if set, and "harvest now"."""
    schedule = parse_schedule(settings.harvest.schedule, settings.handoff.zone)
    scheduler = HarvestScheduler(
        Harvester(database, settings.harvest, schedule=schedule), settings.harvest.poll_seconds
    )
    if schedule is not None:
        scheduler.start()
    return scheduler
