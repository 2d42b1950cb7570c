"""Test data written for the tests (never taken from ../shared/data)."""

from __future__ import annotations

from typing import Any

from knowledge.faq import FaqRecord


def faq(faq_id: str = "T-1", **fields: Any) -> FaqRecord:
    data: dict[str, Any] = {
        "id": faq_id,
        "question": "大型垃圾要怎麼預約清運？",
        "answer": "請先打電話給清潔隊預約時間，再把大型家具放到約定地點。詳情請洽環境保護局。",
        "alt_questions": ["舊沙發要怎麼丟", "大型家具回收"],
        "agency": "環境保護局",
        "category": "環保與垃圾",
        "keywords": ["大型垃圾", "清運"],
        "revise_date": "2026-01-05",
    }
    data.update(fields)
    return FaqRecord.model_validate(data)
