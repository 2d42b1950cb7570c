"""HTML answers (Taipei open data, the soweb API) to plain text a chat bubble can show."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from knowledge.normalize import clean_text

__all__ = ["html_to_text", "links_in", "only_dead_links"]

_BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "section"}
_SKIP = {"script", "style", "head", "title", "noscript"}
_URL = re.compile(r"https?://[^\s<>\"'）)]+")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._skip = 0
        self._in_anchor = False
        self._href = ""
        self._anchor_text: list[str] = []
        self.text_outside_links = False
        self.dead_links = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip += 1
        elif tag == "a":
            self._in_anchor = True
            self._href = dict(attrs).get("href") or ""
            self._anchor_text = []
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag == "a" and self._in_anchor:
            text = "".join(self._anchor_text).strip()
            href = self._href.strip()
            if href.startswith(("http://", "https://")):
                self.links.append(href)
                self.parts.append(f"{text} ({href})" if text and text != href else href)
            else:
                self.dead_links += 1
                self.parts.append(text)
            self._in_anchor = False
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_anchor:
            self._anchor_text.append(data)
        else:
            self.text_outside_links = self.text_outside_links or bool(data.strip())
            self.parts.append(data)


def _parse(markup: str) -> _TextExtractor:
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    return parser


def only_dead_links(markup: str) -> bool:
    """True when all the visible text sits in links that lead nowhere (``<a href="">...</a>``)."""
    parser = _parse(markup)
    return parser.dead_links > 0 and not parser.links and not parser.text_outside_links


def html_to_text(markup: str) -> str:
    """Visible text with paragraph breaks; links become ``text (url)``; scripts and styles go."""
    if "<" not in markup:
        return clean_text(html.unescape(markup))
    return clean_text("".join(_parse(markup).parts))


def links_in(text: str) -> list[str]:
    """The http(s) URLs that occur in plain text."""
    return _URL.findall(text)
