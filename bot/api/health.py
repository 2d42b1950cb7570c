"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from sqlalchemy.exc import SQLAlchemyError

from bot.api.schemas import Health
from bot.deps import DatabaseDep
from bot.store.faqs import FaqStore

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz(request: Request, database: DatabaseDep) -> Health:
    """200 when the service and its database answer; 503 otherwise. ``harvest_polls``: how many
    times this replica's harvest scheduler has looked (it grows every ``harvest.poll_seconds``)."""
    try:
        with database.session() as session:
            version = FaqStore(session).kb_version()
    except SQLAlchemyError as error:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, f"database unavailable: {type(error).__name__}"
        ) from None
    scheduler = getattr(request.app.state, "harvest", None)
    polls = scheduler.polls if scheduler is not None else 0
    return Health(status="ok", database=database.engine.dialect.name, kb_version=version, harvest_polls=polls)
