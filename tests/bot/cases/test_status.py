import pytest

from bot.cases import CaseStatus, InvalidTransition, check_transition


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
