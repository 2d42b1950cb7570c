"""What a scrape has already done, kept on disk so an interrupted run resumes where it stopped.

The state folder holds ``listing.json`` (every entry the listing found, written once the
listing is complete), ``details.jsonl`` (one fetched detail per line, appended and
fsync'd as it arrives, so a crash loses at most the line being written) and, once a run
has fetched everything, ``complete.json``: the next run then starts afresh.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

__all__ = ["EntryKey", "Fetched", "Listed", "ScrapeState"]

logger = logging.getLogger("knowledge.importers.soweb")

EntryKey = tuple[str, int]
"""``(OrganNo, SeqNo)``: what addresses an entry in the API."""


@dataclass(frozen=True, slots=True)
class Listed:
    """An entry as the listing named it, with the category it was listed under (None: none)."""

    organ_no: str
    seq_no: int
    organ_name: str | None = None
    kind_name: str | None = None

    @property
    def key(self) -> EntryKey:
        return (self.organ_no, self.seq_no)

    def to_json(self) -> dict[str, Any]:
        return {
            "organ_no": self.organ_no,
            "seq_no": self.seq_no,
            "organ_name": self.organ_name,
            "kind_name": self.kind_name,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Listed:
        return cls(str(data["organ_no"]), int(data["seq_no"]), data.get("organ_name"), data.get("kind_name"))


@dataclass(frozen=True, slots=True)
class Fetched:
    """A detail response as received, with the listing entry it answers."""

    listed: Listed
    detail: dict[str, Any]


class ScrapeState:
    """The state folder of one scrape; ``reset()`` empties it for a fresh run."""

    LISTING = "listing.json"
    DETAILS = "details.jsonl"
    COMPLETE = "complete.json"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._details: IO[bytes] | None = None

    def is_complete(self) -> bool:
        """True when the last run fetched every entry (nothing is left to resume)."""
        return (self.path / self.COMPLETE).is_file()

    def mark_complete(self, summary: dict[str, Any]) -> None:
        _write_atomically(self.path / self.COMPLETE, json.dumps(summary, ensure_ascii=False))

    def load_listing(self) -> list[Listed] | None:
        """The complete listing of an earlier run, or None when there is none."""
        file = self.path / self.LISTING
        if not file.is_file():
            return None
        try:
            return [Listed.from_json(item) for item in json.loads(file.read_text("utf-8"))["entries"]]
        except (ValueError, KeyError, TypeError) as error:
            logger.warning("ignoring unreadable %s (%s); listing again", file, error)
            return None

    def save_listing(self, entries: list[Listed]) -> None:
        blob = json.dumps({"entries": [e.to_json() for e in entries]}, ensure_ascii=False)
        _write_atomically(self.path / self.LISTING, blob)

    def load_details(self) -> dict[EntryKey, Fetched]:
        """Every detail fetched so far. A torn last line (a crash mid-write) is cut off."""
        file = self.path / self.DETAILS
        if not file.is_file():
            return {}
        blob = file.read_bytes()
        if blob and not blob.endswith(b"\n"):
            keep = blob.rfind(b"\n") + 1
            logger.warning("%s ends in a partial line (interrupted write); dropping it", file)
            with file.open("r+b") as handle:
                handle.truncate(keep)
            blob = blob[:keep]
        fetched: dict[EntryKey, Fetched] = {}
        for number, line in enumerate(blob.splitlines(), start=1):
            try:
                data = json.loads(line)
                item = Fetched(Listed.from_json(data["listed"]), dict(data["detail"]))
            except (ValueError, KeyError, TypeError) as error:
                logger.warning(
                    "%s line %d is unreadable (%s); that entry will be fetched again", file, number, error
                )
                continue
            fetched[item.listed.key] = item
        return fetched

    def append(self, item: Fetched) -> None:
        """Add one fetched detail; it is on disk when this returns."""
        if self._details is None:
            self.path.mkdir(parents=True, exist_ok=True)
            self._details = (self.path / self.DETAILS).open("ab")
            _fsync_dir(self.path)
        line = json.dumps({"listed": item.listed.to_json(), "detail": item.detail}, ensure_ascii=False)
        self._details.write(line.encode("utf-8") + b"\n")
        self._details.flush()
        os.fsync(self._details.fileno())

    def close(self) -> None:
        if self._details is not None:
            self._details.close()
            self._details = None

    def reset(self) -> None:
        """Forget everything: the next scrape lists and fetches from scratch."""
        self.close()
        if self.path.is_dir():
            shutil.rmtree(self.path)


def _write_atomically(file: Path, text: str) -> None:
    """Write a temporary file, fsync it, then rename it over ``file``."""
    file.parent.mkdir(parents=True, exist_ok=True)
    temporary = file.with_name(file.name + ".tmp")
    with temporary.open("wb") as handle:
        handle.write(text.encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(file)
    _fsync_dir(file.parent)


def _fsync_dir(path: Path) -> None:
    """Make a new or renamed file's directory entry durable (a no-op where unsupported)."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
