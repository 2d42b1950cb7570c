"""The FastAPI application: ``create_app(settings)``; resources are made in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from bot.api import chat, health, kb, open311
from bot.chat.breaker import Breaker
from bot.chat.degraded import DegradedResponder
from bot.chat.rasa_engine import RasaEngine
from bot.chat.service import ChatService
from bot.kb_index import LiveIndex
from bot.settings import Settings, get_settings
from bot.store import Database
from bot.web import cases as case_pages
from bot.web import chat_page
from knowledge.encoder import load_encoder
from knowledge.retriever import Retriever

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings.database_url_plain)
        await run_in_threadpool(database.migrate)
        knowledge = settings.knowledge
        encoder = await run_in_threadpool(load_encoder, knowledge.encoder, knowledge.model_cache_dir)
        index = LiveIndex(database, Retriever(encoder, cache_root=knowledge.model_cache_dir / "vectors"))
        await run_in_threadpool(index.warm_up)
        index.start(knowledge.refresh_seconds)
        async with httpx.AsyncClient() as client:
            engine = RasaEngine(
                client,
                settings.rasa.url,
                timeout=settings.rasa.timeout_seconds,
                token=settings.rasa.token.get_secret_value(),
            )
            app.state.database = database
            app.state.index = index
            app.state.chat = ChatService(
                engine,
                DegradedResponder(index),
                database,
                pseudonym_key=settings.privacy.pseudonym_key.get_secret_value(),
                breaker=Breaker(settings.rasa.cool_off_seconds),
            )
            try:
                yield
            finally:
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
        health.router,
        chat.router,
        kb.router,
        open311.router,
        case_pages.router,
        chat_page.router,
    ):
        app.include_router(router)
    return app
