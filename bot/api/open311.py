"""Open311 GeoReport v2 (JSON): services, requests, request status; filing needs an API key.

https://wiki.open311.org/GeoReport_v2 — errors are a list of ``{"code", "description"}``.
What a request shows, and to whom, is ``bot.store.publication``'s: without a key only the
publishable dispatch categories, redacted and at street level; a read key (``open311.read_keys``)
sees more; cases built from a conversation are never served. No phone ever leaves.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import SecretStr, ValidationError
from sqlalchemy import select

from bot.api.open311_schemas import (
    Open311Error,
    Service,
    ServiceDefinition,
    ServiceRequest,
    ServiceRequestCreated,
    ServiceRequestForm,
)
from bot.cases import CATEGORIES, CaseStatus, category_by_code
from bot.deps import DatabaseDep, SettingsDep
from bot.settings import Settings
from bot.store.cases import CaseInputError, CaseStore, NewCase
from bot.store.models import CaseRow
from bot.store.publication import Audience, coordinate, description, place, visible

__all__ = ["router"]

router = APIRouter(prefix="/open311/v2", tags=["Open311 GeoReport v2"])

_OPEN = {CaseStatus.RECEIVED.value, CaseStatus.ASSIGNED.value, CaseStatus.IN_PROGRESS.value}
MAX_IDS = 50
MAX_RESULTS = 1000
_KEY_HELP = "Optional: a key of `open311.read_keys` reads more than the public (docs/deployment.md)."
ApiKey = Annotated[str | None, Query(description=_KEY_HELP)]


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The error responses a route may give, for the OpenAPI document."""
    return {code: {"model": list[Open311Error], "description": "GeoReport v2 errors"} for code in codes}


def _error(status: int, description: str) -> JSONResponse:
    return JSONResponse([{"code": status, "description": description}], status_code=status)


def _key_matches(given: str, keys: Sequence[SecretStr]) -> bool:
    given_bytes = given.encode("utf-8", "surrogatepass")  # compare_digest refuses non-ASCII str
    return bool(given) and any(
        hmac.compare_digest(given_bytes, key.get_secret_value().encode("utf-8", "surrogatepass"))
        for key in keys
    )


class _BadKey(Exception):
    pass


def _audience(settings: Settings, api_key: str | None) -> Audience:
    """Who is reading: the public, or a client with a read key (any other key is refused)."""
    if not api_key:
        return Audience.PUBLIC
    if _key_matches(api_key, settings.open311.read_keys):
        return Audience.READER
    raise _BadKey


_BAD_KEY = "這個 api_key 不能讀取案件；不帶 api_key 可讀取公開的案件。(api_key is not a read key)"


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.isoformat()  # stored times are aware, UTC


def _service(code: str) -> Service:
    category = category_by_code(code)
    return Service(
        service_code=category.code,
        service_name=category.name,
        description=category.description,
        metadata=False,
        type="realtime",
        keywords="派工" if category.dispatch else "陳情",
        group=category.agency,
    )


def _request(row: CaseRow, audience: Audience) -> ServiceRequest:
    category = category_by_code(row.category)
    return ServiceRequest(
        service_request_id=row.number,
        status="open" if row.status in _OPEN else "closed",
        status_notes=row.status,
        service_name=category.name,
        service_code=row.category,
        description=description(row.description),
        agency_responsible=row.agency,
        service_notice=None,
        requested_datetime=_iso(row.created_at),
        updated_datetime=_iso(row.updated_at),
        expected_datetime=_iso(row.due_at),
        address=place(row.location_text),
        address_id=None,
        zipcode=None,
        lat=coordinate(row.latitude, audience),
        long=coordinate(row.longitude, audience),
        media_url=(row.photo_ref or None) if audience is Audience.READER else None,
    )


@router.get("/services.json", response_model=list[Service])
def services() -> list[Service]:
    """Every case category as an Open311 service."""
    return [_service(category.code) for category in CATEGORIES]


@router.get("/services/{service_code}.json", response_model=ServiceDefinition, responses=_errors(404))
def service_definition(service_code: str) -> ServiceDefinition | JSONResponse:
    try:
        category_by_code(service_code)
    except KeyError:
        return _error(404, f"沒有這個服務代碼。(no service with code {service_code})")
    return ServiceDefinition(service_code=service_code, attributes=[])


def _parse_time(name: str, value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{name} 的日期時間格式不正確。({name} is not a W3C/ISO 8601 date-time: {value!r})"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@router.get("/requests.json", response_model=list[ServiceRequest], responses=_errors(400, 403))
def list_requests(
    database: DatabaseDep,
    settings: SettingsDep,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
    api_key: ApiKey = None,
) -> list[ServiceRequest] | JSONResponse:
    """Requests filtered as the standard says: by ids, service, period and status. Without a key,
    only the public categories' cases (``open311.public_categories``)."""
    try:
        audience = _audience(settings, api_key)
    except _BadKey:
        return _error(403, _BAD_KEY)
    query = select(CaseRow).where(visible(audience, settings.open311.public_categories))
    if service_request_id:
        ids = [part.strip() for part in service_request_id.split(",") if part.strip()]
        if len(ids) > MAX_IDS:
            return _error(
                400, f"一次最多查詢 {MAX_IDS} 件。(at most {MAX_IDS} service_request_id values at once)"
            )
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
                return _error(400, f"沒有這個服務代碼。(unknown service_code {', '.join(unknown)})")
            query = query.where(CaseRow.category.in_(codes))
        if status:
            if status not in {"open", "closed"}:
                return _error(400, "status 只能是 open 或 closed。(status must be open or closed)")
            query = query.where(
                CaseRow.status.in_(_OPEN) if status == "open" else CaseRow.status.not_in(_OPEN)
            )
    with database.session() as session:
        rows = session.scalars(query.order_by(CaseRow.created_at.desc()).limit(MAX_RESULTS)).all()
        return [_request(row, audience) for row in rows]


@router.get(
    "/requests/{service_request_id}.json",
    response_model=list[ServiceRequest],
    responses=_errors(403, 404),
)
def get_request(
    service_request_id: str, database: DatabaseDep, settings: SettingsDep, api_key: ApiKey = None
) -> list[ServiceRequest] | JSONResponse:
    """One request; a case this client may not read is answered as one that does not exist."""
    try:
        audience = _audience(settings, api_key)
    except _BadKey:
        return _error(403, _BAD_KEY)
    query = select(CaseRow).where(
        CaseRow.number == service_request_id, visible(audience, settings.open311.public_categories)
    )
    with database.session() as session:
        row = session.scalar(query)
        if row is None:
            return _error(404, f"查無此案件。(no service request {service_request_id})")
        return [_request(row, audience)]


def _float(value: str | None, name: str) -> float | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise CaseInputError(f"{name} 必須是數字。({name} is not a number: {value!r})") from None


_FORM_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": ServiceRequestForm.model_json_schema(ref_template="#/components/schemas/{model}")
            }
        },
    }
}


@router.post(
    "/requests.json",
    response_model=list[ServiceRequestCreated],
    responses=_errors(400, 403, 404),
    openapi_extra=_FORM_BODY,
)
async def create_request(
    request: Request, database: DatabaseDep, settings: SettingsDep
) -> list[ServiceRequestCreated] | JSONResponse:
    """File a request (form-encoded, as the standard says); needs an ``api_key`` of ``open311.api_keys``."""
    try:
        raw = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    except Exception:  # a body that is not a form
        return _error(
            400,
            "請以表單格式送出。(the body must be application/x-www-form-urlencoded or multipart/form-data)",
        )
    if not _key_matches(str(raw.get("api_key", "")), settings.open311.api_keys):
        return _error(403, "需要有效的 api_key 才能送出案件。(a valid api_key is required to file a request)")
    code = str(raw.get("service_code", "")).strip()
    if not code:
        return _error(400, "請提供 service_code。(service_code is required)")
    try:
        form = ServiceRequestForm.model_validate(raw)
    except ValidationError as error:  # pragma: no cover - every declared field is a string
        return _error(400, f"表單欄位不正確。({error.errors(include_url=False)})")
    try:
        category_by_code(code)
        lat, lon = _float(form.lat, "lat"), _float(form.long, "long")
        case = NewCase(
            category=code,
            description=form.description or "",
            channel="open311",
            sender_id=form.account_id or form.device_id or "open311",
            location_text=form.address_string or "",
            latitude=lat,
            longitude=lon,
            photo_ref=form.media_url or "",
            phone=form.phone or "",
            contact_consent=bool(form.phone),
        )
        with database.session() as session:
            row = CaseStore(session).file(case, actor="open311")
            number = row.number
    except KeyError:
        return _error(404, f"沒有這個服務代碼。(no service with code {code})")
    except CaseInputError as error:
        return _error(400, f"案件內容不完整或不正確：{error}")
    return [ServiceRequestCreated(service_request_id=number, service_notice=None, account_id=None)]
