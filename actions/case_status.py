"""action_case_status: the status of a case, only to someone who knows its phone digits, and
never after a few wrong answers for that case number (bot/store/status_checks.py)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.providers import database, settings
from actions.replies import send
from bot.cases import CaseStatus
from bot.cases.status import STATUS_LABELS
from bot.messages import Reply
from bot.settings import local_zone
from bot.store.status_checks import Outcome, StatusChecks


class ActionCaseStatus(Action):
    def name(self) -> str:
        return "action_case_status"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        number = str(tracker.get_slot("case_number") or "")
        digits = str(tracker.get_slot("phone_last3") or "")
        with database().session() as session:
            check = StatusChecks(session, settings().status_check).check(number, digits)
            row = check.case
            if check.outcome is Outcome.LOCKED and check.locked_until is not None:
                until = check.locked_until.astimezone(local_zone())
                text = (
                    "這個案件編號的查詢錯誤次數太多，為保護民眾資料，已暫停線上查詢，"
                    f"請於 {until:%m月%d日 %H:%M} 後再試，或撥打 1999 由專人協助查詢。"
                )
            elif row is None:  # one answer for "no such case" and "wrong digits": nothing leaks
                text = "查不到符合的案件：請確認案件編號與電話末三碼，或撥打 1999 查詢。"
            else:
                updated = row.updated_at.astimezone(local_zone())
                label = STATUS_LABELS[CaseStatus(row.status)]
                text = (
                    f"案件 {row.number}（{row.agency}）目前狀態：{label}，最後更新 {updated:%Y-%m-%d %H:%M}。"
                )
        send(dispatcher, [Reply(kind="case", text=text)])
        return [SlotSet("case_number", None), SlotSet("phone_last3", None)]
