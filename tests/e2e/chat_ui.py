"""The chat as a citizen sees it in the browser: a small page object, axe-core, screenshots."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

__all__ = [
    "ChatPage",
    "PHONE",
    "SCREENSHOTS",
    "AXE_RESULTS",
    "DOCS_SCREENSHOTS",
    "docs_screenshot",
    "focused",
    "has_focus_ring",
    "run_axe",
    "screenshot",
]

REPO = Path(__file__).resolve().parents[2]
OUTPUT = Path(__file__).resolve().parents[1] / "output"
SCREENSHOTS = OUTPUT / "screenshots"
AXE_RESULTS = OUTPUT / "axe"
AXE_SOURCE = Path(__file__).with_name("vendor") / "axe.min.js"
# the folder for the README's screenshots (make screenshots sets it to docs/img); unset, none is taken
DOCS_SCREENSHOTS = "BOT1999_SCREENSHOTS"
DOCS_VIEWPORT = {"width": 1280, "height": 800}
PHONE: dict[str, Any] = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}

# the focused element, looking inside shadow roots (the widget lives in one)
_FOCUSED = """() => {
  let node = document.activeElement;
  while (node && node.shadowRoot && node.shadowRoot.activeElement) node = node.shadowRoot.activeElement;
  return node;
}"""


class ChatPage:
    """The widget on the full page (``/``) or, opened from its launcher, on any page."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url

    def open(self, path: str = "") -> ChatPage:
        self.page.goto(self.base_url + path)
        expect(self.input).to_be_visible()
        return self

    @property
    def input(self) -> Locator:
        return self.page.get_by_label("輸入您的問題")

    @property
    def log(self) -> Locator:
        return self.page.get_by_role("log")

    @property
    def typing(self) -> Locator:
        return self.page.locator(".typing")

    @property
    def offline_banner(self) -> Locator:
        return self.page.locator(".banner.offline")

    @property
    def degraded_banner(self) -> Locator:
        return self.page.locator(".banner.degraded")

    def ask(self, text: str) -> None:
        self.input.fill(text)
        self.input.press("Enter")

    def mine(self, text: str | None = None) -> Locator:
        """The citizen's own bubbles (exactly ``text``, if given)."""
        messages = self.log.locator(".msg.me")
        if text is None:
            return messages
        return messages.filter(has=self.page.locator(".text").get_by_text(text, exact=True))

    def replies(self, kind: str) -> Locator:
        return self.log.locator(f".msg.bot.kind-{kind}")

    def button(self, title: str) -> Locator:
        return self.log.get_by_role("button", name=title, exact=True)


def focused(page: Page) -> dict[str, Any]:
    """What has the keyboard focus: tag, id, text and its outline."""
    handle = page.evaluate_handle(_FOCUSED)
    info: dict[str, Any] = handle.evaluate(
        """(node) => {
          const style = getComputedStyle(node);
          return {tag: node.tagName.toLowerCase(), id: node.id, text: (node.textContent || '').trim(),
                  outline: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth) || 0,
                  focusVisible: node.matches(':focus-visible')};
        }"""
    )
    handle.dispose()
    return info


def has_focus_ring(info: dict[str, Any]) -> bool:
    return bool(info["focusVisible"]) and info["outline"] != "none" and info["outlineWidth"] >= 2


def run_axe(page: Page, name: str) -> list[dict[str, Any]]:
    """Run axe-core (WCAG 2.0/2.1 A and AA, and best practices) on the page; its violations.

    The full result is written to tests/output/axe/NAME.json.
    """
    if not page.evaluate("() => Boolean(window.axe)"):
        page.add_script_tag(content=AXE_SOURCE.read_text(encoding="utf-8"))
    result: dict[str, Any] = page.evaluate(
        """async () => {
          const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];
          const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
          const brief = (v) => ({id: v.id, impact: v.impact, help: v.help,
                  nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary}))});
          return {url: r.url, version: r.testEngine.version, passes: r.passes.map(v => v.id),
                  violations: r.violations.map(brief), incomplete: r.incomplete.map(brief)};
        }"""
    )
    AXE_RESULTS.mkdir(parents=True, exist_ok=True)
    (AXE_RESULTS / f"{name}.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def screenshot(page: Page, name: str, *, full_page: bool = False) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def docs_screenshot(page: Page, name: str, *, top: bool = False) -> Path | None:
    """The README's picture ``name``.png: the page at 1280×800, written into the folder that
    ``BOT1999_SCREENSHOTS`` names (``make screenshots``: docs/img) and made small (256 colours,
    optimised); ``top``: scrolled to the top of the page first. Without that variable nothing is
    written, so an ordinary test run leaves the tracked images alone."""
    folder = os.environ.get(DOCS_SCREENSHOTS, "")
    if not folder:
        return None
    path = Path(folder) if Path(folder).is_absolute() else REPO / folder
    path = path / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    before = page.viewport_size
    page.set_viewport_size(DOCS_VIEWPORT)
    try:
        if top:
            page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(path), animations="disabled", caret="hide")
    finally:
        if before is not None:
            page.set_viewport_size(before)
    _shrink(path)
    return path


def _shrink(path: Path) -> None:
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)
