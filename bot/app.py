"""The FastAPI application: ``create_app(settings)``; resources are made in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from bot.api import health, kb, open311
from bot.settings import Settings, get_settings
from bot.store import Database
from bot.web import cases as case_pages

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings.database_url_plain)
        database.migrate()
        app.state.database = database
        try:
            yield
        finally:
            database.dispose()

    app = FastAPI(
        title="bot1999",
        summary="Smart customer-service bot for a city's 1999 hotline",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.include_router(health.router)
    app.include_router(kb.router)
    app.include_router(open311.router)
    app.include_router(case_pages.router)
    return app
