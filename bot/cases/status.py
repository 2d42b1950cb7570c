"""The life of a case: received → assigned → in progress → closed, or rejected."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["CaseStatus", "InvalidTransition", "TRANSITIONS", "check_transition", "STATUS_LABELS"]


class CaseStatus(StrEnum):
    RECEIVED = "received"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"
    REJECTED = "rejected"


STATUS_LABELS = {
    CaseStatus.RECEIVED: "已受理",
    CaseStatus.ASSIGNED: "已派工",
    CaseStatus.IN_PROGRESS: "處理中",
    CaseStatus.CLOSED: "已結案",
    CaseStatus.REJECTED: "不受理",
}

TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.RECEIVED: frozenset({CaseStatus.ASSIGNED, CaseStatus.REJECTED}),
    CaseStatus.ASSIGNED: frozenset({CaseStatus.IN_PROGRESS, CaseStatus.CLOSED, CaseStatus.REJECTED}),
    CaseStatus.IN_PROGRESS: frozenset({CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset(),
    CaseStatus.REJECTED: frozenset(),
}


class InvalidTransition(ValueError):
    pass


def check_transition(current: CaseStatus, new: CaseStatus) -> None:
    if new not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "none (the case is final)"
        raise InvalidTransition(f"a {current.value} case cannot become {new.value}; allowed: {allowed}")
