"""The city's agencies: one canonical name each, and every other name it goes by.

The list is ``agencies.yml`` beside this module (docs/configuration.md, "Agencies"). FAQs
(on import and edit), cases (a category's responsible agency) and the supervisors' figures
use :func:`canonical_agency`, so one agency is one row whatever name a source gave it. A
name the list does not know is kept as it is; `bot1999 agencies report` lists such names.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import yaml

__all__ = ["Agency", "AgencyList", "agencies", "canonical_agency", "load_agencies"]


def _key(name: str) -> str:
    """What two spellings of a name share: NFKC (full-width letters and digits), no spaces."""
    return "".join(unicodedata.normalize("NFKC", name).split())


@dataclass(frozen=True, slots=True)
class Agency:
    name: str
    short: str
    aliases: tuple[str, ...] = ()
    former: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, self.short, *self.aliases, *self.former)


class AgencyList:
    """Canonical names by any of their names, with or without the city's (or the former county's) prefix."""

    def __init__(
        self, entries: Iterable[Agency], prefixes: Iterable[str] = (), former_prefixes: Iterable[str] = ()
    ) -> None:
        self.agencies = tuple(entries)
        # longest first: 「高雄市政府」 is stripped before 「高雄市」 could leave 「政府…」
        self.prefixes = tuple(
            sorted({_key(p) for p in (*prefixes, *former_prefixes) if p}, key=len, reverse=True)
        )
        self._by_key: dict[str, str] = {}
        for agency in self.agencies:
            for name in agency.names:
                key = _key(name)
                if not key:
                    continue
                other = self._by_key.setdefault(key, agency.name)
                if other != agency.name:
                    raise ValueError(f"the agency name {name!r} is given for both {other} and {agency.name}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> AgencyList:
        entries = []
        for item in data.get("agencies") or ():
            if not isinstance(item, Mapping) or not str(item.get("name") or "").strip():
                raise ValueError(f"an agency without a name: {item!r}")
            entries.append(
                Agency(
                    name=str(item["name"]).strip(),
                    short=str(item.get("short") or "").strip(),
                    aliases=tuple(str(a).strip() for a in item.get("aliases") or ()),
                    former=tuple(str(a).strip() for a in item.get("former") or ()),
                )
            )
        return cls(entries, data.get("prefixes") or (), data.get("former_prefixes") or ())

    def find(self, name: str) -> str | None:
        """The canonical name of ``name``, or None when the list does not know it."""
        key = _key(name)
        if not key:
            return None
        found = self._by_key.get(key)
        if found is not None:
            return found
        for prefix in self.prefixes:
            if key.startswith(prefix) and len(key) > len(prefix):
                found = self._by_key.get(key[len(prefix) :])
                if found is not None:
                    return found
        return None

    def canonical(self, name: str) -> str:
        """The canonical name of ``name``; a name the list does not know, as it is (trimmed)."""
        return self.find(name) or name.strip()

    def known(self, name: str) -> bool:
        return self.find(name) is not None

    @property
    def names(self) -> list[str]:
        return [agency.name for agency in self.agencies]


def load_agencies(text: str) -> AgencyList:
    """An agency list from the YAML text of ``agencies.yml``'s format."""
    data = yaml.safe_load(text) or {}
    if not isinstance(data, Mapping):
        raise ValueError("the agency list must be a mapping with an 'agencies' list")
    return AgencyList.from_mapping(data)


@cache
def agencies() -> AgencyList:
    """The city's agency list shipped with the bot (read once)."""
    return load_agencies(files(__package__).joinpath("agencies.yml").read_text(encoding="utf-8"))


def canonical_agency(name: str) -> str:
    """``name`` as the city's agency list spells it; unknown names as they are."""
    return agencies().canonical(name)
