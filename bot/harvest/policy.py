"""What an import does with upstream changes: one policy for harvests and file imports alike.

Every way content arrives from outside (``bot1999 kb scrape``, the scheduled harvest, ``bot1999
kb import`` and the console's import page) reads it from ``harvest.upstream_changes`` and
``harvest.new_entries`` through :meth:`UpstreamPolicy.of`, so a file never undoes what a
harvest would have kept for review.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.settings import HarvestSettings
from knowledge.faq import FaqStatus

__all__ = ["UpstreamPolicy"]


@dataclass(frozen=True, slots=True)
class UpstreamPolicy:
    """``hold``: every upstream change waits for review (else a change to a field staff did not
    override is applied). ``new_status``: the status of entries new upstream (None: the row's own,
    so a file's 狀態 column is kept)."""

    hold: bool = False
    new_status: FaqStatus | None = None

    @classmethod
    def of(cls, settings: HarvestSettings) -> UpstreamPolicy:
        """The policy the settings ask for: ``new_entries = "draft"`` makes every new entry a
        draft, ``"published"`` keeps what the source says (the city's service lists only
        published entries; a file may say draft)."""
        return cls(
            hold=settings.upstream_changes == "review",
            new_status=FaqStatus.DRAFT if settings.new_entries == "draft" else None,
        )
