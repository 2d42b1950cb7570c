"""The wire formats of Open311 GeoReport v2 (JSON), with the standard's field names.

https://wiki.open311.org/GeoReport_v2 — one model per request and response, so the OpenAPI
document describes exactly what a client sends and gets (and the fuzzer checks it).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Open311Error",
    "Service",
    "ServiceDefinition",
    "ServiceRequest",
    "ServiceRequestCreated",
    "ServiceRequestForm",
]


class Open311Error(BaseModel):
    """One error, as GeoReport v2 writes them (the body is a list of these)."""

    code: int
    description: str = Field(description="Why, in Traditional Chinese then English.")


class Service(BaseModel):
    """A case category as an Open311 service."""

    service_code: str
    service_name: str
    description: str
    metadata: bool = Field(description="Whether the service has attributes (never here).")
    type: Literal["realtime", "batch", "blackbox"]
    keywords: str
    group: str = Field(description="The agency responsible.")


class ServiceDefinition(BaseModel):
    service_code: str
    attributes: list[dict[str, str]] = Field(description="Extra fields of the service (none here).")


class ServiceRequest(BaseModel):
    """A case as the API shows it. Never a phone, a name or an account; the description is
    redacted; the address is cut to its street and the coordinates rounded to about 100 m unless
    the client has a read key."""

    service_request_id: str
    status: Literal["open", "closed"]
    status_notes: str | None
    service_name: str
    service_code: str
    description: str
    agency_responsible: str
    service_notice: str | None
    requested_datetime: str | None
    updated_datetime: str | None
    expected_datetime: str | None
    address: str
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


class ServiceRequestCreated(BaseModel):
    service_request_id: str
    service_notice: str | None
    account_id: str | None


class ServiceRequestForm(BaseModel):
    """``POST /requests.json``, form-encoded as the standard says. Name, e-mail, account and
    device fields are accepted and not kept."""

    model_config = ConfigDict(extra="allow")

    api_key: str = Field(description="A key of `open311.api_keys`.")
    service_code: str
    jurisdiction_id: str | None = None
    lat: str | None = Field(default=None, description="Latitude, decimal degrees (WGS84).")
    long: str | None = Field(default=None, description="Longitude, decimal degrees (WGS84).")
    address_string: str | None = None
    address_id: str | None = None
    email: str | None = None
    device_id: str | None = None
    account_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    description: str | None = None
    media_url: str | None = None
