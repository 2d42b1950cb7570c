"""action_case_status: the status of a case, only to someone who knows its phone digits."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.providers import database
from actions.replies import send
from bot.cases import CaseStatus
from bot.cases.status import STATUS_LABELS
from bot.chat.messages import Reply
from bot.settings import local_zone
from bot.store.cases import CaseStore


class ActionCaseStatus(Action):
    def name(self) -> str:
        return "action_case_status"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        number = str(tracker.get_slot("case_number") or "")
        digits = str(tracker.get_slot("phone_last3") or "")
        with database().session() as session:
            row = CaseStore(session).lookup_for_citizen(number, digits)
            if row is None:  # one answer for "no such case" and "wrong digits": nothing leaks
                text = "查不到符合的案件：請確認案件編號與電話末三碼，或撥打 1999 查詢。"
            else:
                updated = row.updated_at.astimezone(local_zone())
                label = STATUS_LABELS[CaseStatus(row.status)]
                text = (
                    f"案件 {row.number}（{row.agency}）目前狀態：{label}，最後更新 {updated:%Y-%m-%d %H:%M}。"
                )
        send(dispatcher, [Reply(kind="case", text=text)])
        return [SlotSet("case_number", None), SlotSet("phone_last3", None)]
