import pytest

from bot.cases import CaseStatus, InvalidTransition, check_transition, match_category


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (CaseStatus.RECEIVED, CaseStatus.ASSIGNED),
        (CaseStatus.ASSIGNED, CaseStatus.IN_PROGRESS),
        (CaseStatus.IN_PROGRESS, CaseStatus.CLOSED),
        (CaseStatus.RECEIVED, CaseStatus.REJECTED),
    ],
)
def test_the_life_of_a_case(current: CaseStatus, new: CaseStatus) -> None:
    check_transition(current, new)


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (CaseStatus.RECEIVED, CaseStatus.CLOSED),
        (CaseStatus.CLOSED, CaseStatus.IN_PROGRESS),
        (CaseStatus.REJECTED, CaseStatus.ASSIGNED),
        (CaseStatus.IN_PROGRESS, CaseStatus.RECEIVED),
    ],
)
def test_impossible_steps_are_refused_with_the_allowed_ones(current: CaseStatus, new: CaseStatus) -> None:
    with pytest.raises(InvalidTransition, match="allowed"):
        check_transition(current, new)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("道路坑洞", "road_pothole"),
        ("路燈故障", "street_light"),
        ("我家前面的路燈不亮", "street_light"),
        ("大雨後路口淹水", "road_flooding"),
        ("紅綠燈都不會亮", "traffic_signal"),
        ("fallen_tree", "fallen_tree"),
        ("隔壁工地很吵", "noise"),
        ("我想問稅金", None),
    ],
)
def test_categories_from_what_citizens_say(text: str, code: str | None) -> None:
    assert match_category(text) == code
