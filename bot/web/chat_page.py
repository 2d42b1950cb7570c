"""The web chat: the full page at ``/``, the embeddable widget's assets, and the embed snippet.

The page and the widget run the same ``static/widget.js``: on ``/`` it fills the page, on any
other site it adds a floating launcher. Message text is only ever inserted with
``textContent``; as a second line, every page gets a strict Content-Security-Policy from
``bot.security.headers`` (which also decides which sites may frame these pages).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

from bot.web import templates

__all__ = ["router", "embed_snippet"]

router = APIRouter(tags=["citizen pages"], include_in_schema=False)
STATIC = Path(__file__).with_name("static")
_ASSET_CACHE = "public, max-age=300"


def embed_snippet(base_url: str) -> str:
    """The one line a city web page adds to get the floating chat launcher."""
    base = base_url if base_url.endswith("/") else base_url + "/"
    return f'<script src="{base}widget.js" data-bot1999-endpoint="{base}" defer></script>'


def _asset(name: str, media_type: str) -> FileResponse:
    return FileResponse(STATIC / name, media_type=media_type, headers={"Cache-Control": _ASSET_CACHE})


@router.get("/", response_class=HTMLResponse)
def chat_page(request: Request) -> HTMLResponse:
    max_photo_bytes = request.app.state.settings.channels.max_photo_bytes  # the widget checks it first
    return templates.TemplateResponse(request, "chat.html", {"max_photo_bytes": max_photo_bytes})


@router.get("/embed", response_class=HTMLResponse)
def embed_page(request: Request) -> HTMLResponse:
    """How to embed the widget, with the widget itself running on the page."""
    context = {"snippet": embed_snippet(str(request.base_url))}
    return templates.TemplateResponse(request, "embed.html", context)


@router.get("/widget.js")
def widget_js() -> FileResponse:
    return _asset("widget.js", "text/javascript; charset=utf-8")


@router.get("/widget.css")
def widget_css() -> FileResponse:
    return _asset("widget.css", "text/css; charset=utf-8")


@router.get("/favicon.ico")
def favicon_ico() -> FileResponse:
    """Browsers ask for it on every site; the SVG (linked from the pages) is the sharper one."""
    return _asset("favicon.ico", "image/x-icon")


@router.get("/favicon.svg")
def favicon_svg() -> FileResponse:
    return _asset("favicon.svg", "image/svg+xml")


@router.get("/pages.css")
def pages_css() -> FileResponse:
    """The style of the plain pages (the case form): a file, since the CSP allows no inline style."""
    return _asset("pages.css", "text/css; charset=utf-8")
