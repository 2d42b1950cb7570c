"""The city's agency list: every name of an agency gives its one canonical name; unknown names stay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.agencies import agencies, canonical_agency, load_agencies
from bot.cases import CATEGORIES

CONTENT = Path(__file__).resolve().parents[3] / "knowledge" / "content"


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("高雄市政府工務局", "高雄市政府工務局"),
        ("工務局", "高雄市政府工務局"),
        ("工務局養護工程處", "高雄市政府工務局"),  # a unit, counted under its bureau
        ("高雄市政府工務局養護工程處", "高雄市政府工務局"),
        ("研考會", "高雄市政府研究發展考核委員會"),
        ("高雄市研考會", "高雄市政府研究發展考核委員會"),
        ("研究發展考核委員會", "高雄市政府研究發展考核委員會"),
        ("高雄市政府研究發展考核委員會", "高雄市政府研究發展考核委員會"),
        ("建設局", "高雄市政府經濟發展局"),  # a former name
        ("高雄縣政府環境保護局", "高雄市政府環境保護局"),  # the former county's prefix
        (" 高雄市政府 警察局 ", "高雄市政府警察局"),  # spaces, as typed into a spreadsheet
        ("環保局", "高雄市政府環境保護局"),
    ],
)
def test_every_name_of_an_agency_gives_its_canonical_name(name: str, canonical: str) -> None:
    assert canonical_agency(name) == canonical
    assert agencies().known(name)


@pytest.mark.parametrize("name", ["高雄市市民自救會", "行政院環境部", "政府"])
def test_an_unknown_agency_is_kept_as_it_is(name: str) -> None:
    assert canonical_agency(f" {name} ") == name
    assert not agencies().known(name)


def test_no_agency_stays_no_agency() -> None:
    assert canonical_agency("") == ""
    assert canonical_agency("   ") == ""


def test_a_name_given_to_two_agencies_is_refused() -> None:
    text = "agencies:\n  - name: 甲局\n    aliases: [共用處]\n  - name: 乙局\n    aliases: [共用處]\n"
    with pytest.raises(ValueError, match="共用處"):
        load_agencies(text)


def test_an_agency_without_a_name_is_refused() -> None:
    with pytest.raises(ValueError, match="without a name"):
        load_agencies("agencies:\n  - short: 某局\n")


def test_the_canonical_names_are_their_own_canonical_names() -> None:
    listed = agencies()
    assert len(listed.names) == len(set(listed.names))
    for name in listed.names:
        assert listed.canonical(name) == name


def test_every_case_category_names_its_agency_canonically() -> None:
    for category in CATEGORIES:
        assert agencies().known(category.agency), category.code
        assert canonical_agency(category.agency) == category.agency, category.code


def test_every_shipped_faq_names_a_known_agency() -> None:
    names = {
        json.loads(line).get("agency", "")
        for path in sorted(CONTENT.glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    assert names, "the shipped knowledge base was read"
    assert sorted(name for name in names if name and not agencies().known(name)) == []
