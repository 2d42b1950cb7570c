"""action_file_case: file the case from the form's slots and give the citizen its number."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.case_form import NONE
from actions.providers import database, settings
from actions.replies import send
from bot.cases import match_category
from bot.handoff.notifications import notify_case_filed
from bot.handoff.takeover import UNANSWERED
from bot.messages import Reply
from bot.store.cases import CaseInputError, CaseStore, NewCase
from bot.store.handoff import HandoffStore

FORM_SLOTS = (
    "category",
    "location",
    "description",
    "photo",
    "phone",
    "consent",
    "confirmed",
    "message_for_person",
)


def _new_case(tracker: Tracker) -> NewCase:
    location = str(tracker.get_slot("location") or "")
    lat = lon = None
    if "," in location and location.replace(",", "").replace(".", "").replace("-", "").isdigit():
        lat, lon = (float(part) for part in location.split(",", 1))
        location = ""
    photo = str(tracker.get_slot("photo") or "")
    phone = str(tracker.get_slot("phone") or "")
    consent = bool(tracker.get_slot("consent")) and phone != NONE
    return NewCase(
        category=match_category(str(tracker.get_slot("category") or "")) or "general",
        description=str(tracker.get_slot("description") or ""),
        channel=str((tracker.latest_message.get("metadata") or {}).get("channel") or "web"),
        sender_id=tracker.sender_id,
        location_text=location,
        latitude=lat,
        longitude=lon,
        photo_ref="" if photo == NONE else photo,
        phone=phone if consent else "",
        contact_consent=consent,
        conversation_id=tracker.sender_id,
        # a message for a person is the citizen's words to an agent, never published
        origin="conversation" if tracker.get_slot("message_for_person") else "citizen",
    )


class ActionFileCase(Action):
    def name(self) -> str:
        return "action_file_case"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        reset = [SlotSet(slot, None) for slot in FORM_SLOTS]
        try:
            with database().session() as session:
                row = CaseStore(session).file(_new_case(tracker))
                if tracker.get_slot("message_for_person"):  # the request nobody could take: one request
                    HandoffStore(session).attach_case(tracker.sender_id, row.number, UNANSWERED)
                # pushed only if this reply (which carries the number) does not reach the citizen
                grace = timedelta(seconds=settings().handoff.filed_notice_grace_seconds)
                notify_case_filed(session, row, grace=grace)
                number, agency, hours, phone = (
                    row.number,
                    row.agency,
                    (row.due_at - row.created_at).total_seconds() / 3600,
                    row.phone,
                )
        except CaseInputError as error:
            send(dispatcher, [Reply(text=f"抱歉，案件資料有問題（{error}），請重新填寫或撥打 1999。")])
            return reset
        target = f"{hours:.0f} 小時內" if hours <= 24 else f"{hours / 24:.0f} 天內"
        follow_up = (
            "查詢進度時請提供案件編號與電話末三碼；有進度時我們也會在這裡通知您。"
            if phone
            else "本案沒有留下聯絡電話，查詢進度請撥 1999 並提供案件編號；有進度時我們也會在這裡通知您。"
        )
        if tracker.get_slot("message_for_person"):
            reply = "專員上線後會打電話與您聯絡。" if phone else "專員上線後會在這裡回覆您。"
            text = f"已收到您的留言，案件編號：{number}\n{reply}\n{follow_up}"
        else:
            text = f"已為您立案，案件編號：{number}\n承辦機關：{agency}，預計 {target}處理。\n{follow_up}"
        send(dispatcher, [Reply(kind="case", text=text)])
        return [*reset, SlotSet("filed_case_number", number)]
