"""Security in front of every route: size limits, rate limits, security headers, log redaction.

``install(app, settings)`` (called by ``create_app``) adds, outermost first: the security
headers (so refusals carry them too), then the request guard (413 / 429). It puts the
limiter's per-user check for LINE and Telegram at ``app.state.sender_throttle`` and makes
every log record go through ``bot.privacy``'s redaction.
"""

from __future__ import annotations

from fastapi import FastAPI

from bot.privacy import install_log_redaction
from bot.security.guard import RequestGuard, Rule, SenderThrottle, client_address, rules_from
from bot.security.headers import SecurityHeaders, content_security_policy, header_policy
from bot.security.openapi import document_refusals
from bot.security.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter, Verdict, make_limiter
from bot.settings import Settings

__all__ = [
    "MemoryRateLimiter",
    "RateLimiter",
    "RedisRateLimiter",
    "RequestGuard",
    "Rule",
    "SecurityHeaders",
    "SenderThrottle",
    "Verdict",
    "client_address",
    "content_security_policy",
    "header_policy",
    "install",
    "make_limiter",
    "rules_from",
]


def install(app: FastAPI, settings: Settings) -> None:
    install_log_redaction()
    limiter = make_limiter(settings.limits)
    rules = rules_from(settings)
    app.state.rate_limiter = limiter
    app.state.sender_throttle = SenderThrottle(limiter, settings.limits.channel_per_sender)
    app.add_middleware(
        RequestGuard,
        limiter=limiter,
        rules=rules,
        max_body_bytes=settings.limits.max_body_kb * 1024,
        max_upload_bytes=settings.console.import_max_mb * 1024 * 1024,
        max_photo_bytes=settings.channels.max_photo_bytes,
        trusted_proxies=settings.limits.trusted_proxies,
    )
    app.add_middleware(
        SecurityHeaders,
        embedding_origins=settings.web.allowed_origins,
        docs_paths=[
            path for path in (app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url) if path
        ],
        hsts_seconds=settings.security.hsts_seconds,
    )
    document_refusals(app, rules)
