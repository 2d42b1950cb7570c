"""Refusals made before a route runs, written into the OpenAPI document so that clients (and the
fuzzer) know them: 400 (a NUL character), 413 and 429 from the request guard, and FastAPI's own
400 for a JSON body it cannot read (not UTF-8, not JSON at all).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI

from bot.security.guard import Rule

__all__ = ["document_refusals"]

_WITH_BODY = {"post", "put", "patch", "delete"}
_BAD_REQUEST = "A NUL character in the request, or a body that cannot be read."
_REFUSAL = {
    "title": "Refusal",
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "Why, in Traditional Chinese then English."},
        "retry_after": {"type": "integer", "minimum": 1, "description": "Seconds to wait (429 only)."},
    },
    "required": ["detail"],
}
_OPEN311_ERRORS = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
        "required": ["code", "description"],
    },
}


def _response(path: str, description: str, *, retry: bool) -> dict[str, Any]:
    schema = _OPEN311_ERRORS if path.startswith("/open311/") else {"$ref": "#/components/schemas/Refusal"}
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": schema}, "text/html": {"schema": {"type": "string"}}},
    }
    if retry:
        response["headers"] = {
            "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer", "minimum": 1}}
        }
    return response


def document_refusals(app: FastAPI, rules: Sequence[Rule]) -> None:
    """Add 400 to every operation, 413 to every one that takes a body, 429 to the rate-limited ones."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        if "Refusal" in components:  # already written into this (cached) document
            return schema
        for path, item in schema.get("paths", {}).items():
            for method, operation in item.items():
                responses = operation.setdefault("responses", {})
                responses.setdefault("400", _response(path, _BAD_REQUEST, retry=False))
                if method not in _WITH_BODY:
                    continue
                responses.setdefault("413", _response(path, "The request body is too large.", retry=False))
                if any(rule.matches(method.upper(), path) for rule in rules):
                    responses.setdefault("429", _response(path, "Too many requests.", retry=True))
        components["Refusal"] = _REFUSAL
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
