"""Open311 GeoReport v2 (JSON): services, requests, request status; filing needs an API key.

https://wiki.open311.org/GeoReport_v2 — errors are a list of ``{"code", "description"}``.
Personal data never leaves through this API: no phone, and descriptions are redacted.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select

from bot.api.deps import DatabaseDep, SettingsDep
from bot.cases import CATEGORIES, CaseStatus, category_by_code
from bot.privacy import redact
from bot.store.cases import CaseInputError, CaseStore, NewCase
from bot.store.models import CaseRow

__all__ = ["router"]

router = APIRouter(prefix="/open311/v2", tags=["Open311 GeoReport v2"])

_OPEN = {CaseStatus.RECEIVED.value, CaseStatus.ASSIGNED.value, CaseStatus.IN_PROGRESS.value}
MAX_IDS = 50
MAX_RESULTS = 1000


class Open311Error(BaseModel):
    """One error, as GeoReport v2 writes them (the body is a list of these)."""

    code: int
    description: str


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The error responses a route may give, for the OpenAPI document."""
    return {code: {"model": list[Open311Error], "description": "GeoReport v2 errors"} for code in codes}


def _error(status: int, description: str) -> JSONResponse:
    return JSONResponse([{"code": status, "description": description}], status_code=status)


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def _service(code: str) -> dict[str, Any]:
    category = category_by_code(code)
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description,
        "metadata": False,
        "type": "realtime",
        "keywords": "派工" if category.dispatch else "陳情",
        "group": category.agency,
    }


def _request(row: CaseRow) -> dict[str, Any]:
    category = category_by_code(row.category)
    return {
        "service_request_id": row.number,
        "status": "open" if row.status in _OPEN else "closed",
        "status_notes": row.status,
        "service_name": category.name,
        "service_code": row.category,
        "description": redact(row.description),
        "agency_responsible": row.agency,
        "service_notice": None,
        "requested_datetime": _iso(row.created_at),
        "updated_datetime": _iso(row.updated_at),
        "expected_datetime": _iso(row.due_at),
        "address": redact(row.location_text),
        "address_id": None,
        "zipcode": None,
        "lat": row.latitude,
        "long": row.longitude,
        "media_url": row.photo_ref or None,
    }


@router.get("/services.json")
def services() -> list[dict[str, Any]]:
    """Every case category as an Open311 service."""
    return [_service(category.code) for category in CATEGORIES]


@router.get("/services/{service_code}.json", response_model=None, responses=_errors(404))
def service_definition(service_code: str) -> dict[str, Any] | JSONResponse:
    try:
        category_by_code(service_code)
    except KeyError:
        return _error(404, f"no service with code {service_code}")
    return {"service_code": service_code, "attributes": []}


def _parse_time(name: str, value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{name} is not a W3C/ISO 8601 date-time: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@router.get("/requests.json", response_model=None, responses=_errors(400))
def list_requests(
    database: DatabaseDep,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]] | JSONResponse:
    """Requests filtered as the standard says: by ids, service, period (default the last 90 days) and status."""
    query = select(CaseRow)
    if service_request_id:
        ids = [part.strip() for part in service_request_id.split(",") if part.strip()]
        if len(ids) > MAX_IDS:
            return _error(400, f"at most {MAX_IDS} service_request_id values at once")
        query = query.where(CaseRow.number.in_(ids))
    else:
        try:
            start, end = _parse_time("start_date", start_date), _parse_time("end_date", end_date)
        except ValueError as error:
            return _error(400, str(error))
        if start is not None:
            query = query.where(CaseRow.created_at >= start)
        if end is not None:
            query = query.where(CaseRow.created_at <= end)
        if service_code:
            codes = [code.strip() for code in service_code.split(",")]
            unknown = [code for code in codes if code not in {c.code for c in CATEGORIES}]
            if unknown:
                return _error(400, f"unknown service_code {', '.join(unknown)}")
            query = query.where(CaseRow.category.in_(codes))
        if status:
            if status not in {"open", "closed"}:
                return _error(400, "status must be open or closed")
            query = query.where(
                CaseRow.status.in_(_OPEN) if status == "open" else CaseRow.status.not_in(_OPEN)
            )
    with database.session() as session:
        rows = session.scalars(query.order_by(CaseRow.created_at.desc()).limit(MAX_RESULTS)).all()
        return [_request(row) for row in rows]


@router.get("/requests/{service_request_id}.json", response_model=None, responses=_errors(404))
def get_request(service_request_id: str, database: DatabaseDep) -> list[dict[str, Any]] | JSONResponse:
    with database.session() as session:
        row = session.scalar(select(CaseRow).where(CaseRow.number == service_request_id))
        if row is None:
            return _error(404, f"no service request {service_request_id}")
        return [_request(row)]


def _float(form: dict[str, str], name: str) -> float | None:
    value = form.get(name, "").strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise CaseInputError(f"{name} is not a number: {value!r}") from None


@router.post("/requests.json", response_model=None, responses=_errors(400, 403, 404))
async def create_request(request: Request, database: DatabaseDep, settings: SettingsDep) -> Any:
    """File a request (form-encoded, as the standard says); needs ``api_key``."""
    try:
        form = {key: str(value) for key, value in (await request.form()).items()}
    except Exception:  # a body that is not a form
        return _error(400, "the body must be application/x-www-form-urlencoded or multipart/form-data")
    key = form.get("api_key", "")
    keys = [k.get_secret_value() for k in settings.open311.api_keys]
    if not key or not any(hmac.compare_digest(key, known) for known in keys):
        return _error(403, "a valid api_key is required to file a request")
    code = form.get("service_code", "").strip()
    if not code:
        return _error(400, "service_code is required")
    try:
        category_by_code(code)
        lat, lon = _float(form, "lat"), _float(form, "long")
        case = NewCase(
            category=code,
            description=form.get("description", ""),
            channel="open311",
            sender_id=form.get("account_id") or form.get("device_id") or "open311",
            location_text=form.get("address_string", ""),
            latitude=lat,
            longitude=lon,
            photo_ref=form.get("media_url", ""),
            phone=form.get("phone", ""),
            contact_consent=bool(form.get("phone")),
        )
        with database.session() as session:
            row = CaseStore(session).file(case, actor="open311")
            number = row.number
    except KeyError:
        return _error(404, f"no service with code {code}")
    except CaseInputError as error:
        return _error(400, str(error))
    return [{"service_request_id": number, "service_notice": None, "account_id": None}]
