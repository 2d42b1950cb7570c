"""Degraded mode: answer from the knowledge base directly while Rasa is away, and say so."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from bot.cases import category_by_code, is_valid_case_number, match_category
from bot.cases.for_a_person import LEAVE_MESSAGE, MESSAGE_PLACE
from bot.cases.numbers import find_case_number
from bot.cases.places import find_place
from bot.chat.emergency import EMERGENCY_REPLY, looks_like_emergency
from bot.chat.engine import EngineTurn
from bot.chat.faq import FaqAnswerer, abstain_replies, answer_replies, clarify_replies
from bot.messages import Incoming, Link, Reply, parse_payload

__all__ = [
    "DegradedResponder",
    "LIMITED_MODE_NOTICE",
    "CASE_FORM_PATH",
    "MESSAGE_FORM_URL",
    "reported_category",
]

CASE_FORM_PATH = "/cases/new"
# A message for a person (bot/cases/for_a_person.py) when the conversation's own form cannot run:
# the case form with the general category and the place prefilled; it asks for the message, a
# phone and consent before anything is filed.
MESSAGE_FORM_URL = f"{CASE_FORM_PATH}?{urlencode({'category': 'general', 'location_text': MESSAGE_PLACE})}"
LIMITED_MODE_NOTICE = Reply(
    kind="notice",
    text="（目前對話系統忙碌，改以簡易模式服務：可以回答常見問題，反映問題請使用線上表單。）",
    links=[Link(title="線上反映表單", url=CASE_FORM_PATH)],
)

# A message that asks something (how, where, who, whether) is a question for the knowledge base,
# even when it names a street light or a pothole; a statement naming one is a report.
_ASKS = re.compile(
    r"[?？嗎呢]|怎麼|怎樣|如何|哪裡|哪裏|哪個|哪支|找誰|打給誰|是誰|什麼|甚麼|多久|幾點|可以|能不能|是否|有沒有|請問"
)


def reported_category(text: str) -> str | None:
    """The dispatch category (pothole, street light, ...) a statement reports, or None.

    "巷口的路燈壞了整晚都不亮" reports a broken street light; "路燈壞了要找誰修？" asks how
    to report one, which the knowledge base answers.
    """
    code = match_category(text)
    if code is None or not category_by_code(code).dispatch or _ASKS.search(text):
        return None
    return code


def status_reply(text: str) -> Reply | None:
    """A message naming a case number: what limited mode can do with it (not ask for it again)."""
    number = find_case_number(text)
    if number is None:
        return None
    if not is_valid_case_number(number):
        return Reply(text=f"案件編號 {number} 好像不正確，格式像 261122-0042-7，請再確認一次。")
    return Reply(
        kind="case",
        text=(
            f"收到，您要查詢案件 {number}。目前對話系統忙碌，暫時無法在這裡查詢進度："
            "請稍後再問我一次，或撥打 1999 並提供案件編號與電話末三碼。"
        ),
    )


def report_reply(text: str) -> Reply | None:
    """A report that names its problem and its place: the plain form, filled in with both."""
    code = match_category(text)
    place = find_place(text)
    if code is None or place is None or _ASKS.search(text):
        return None
    query = urlencode({"category": code, "location_text": place, "description": text.strip()})
    name = category_by_code(code).name
    return Reply(
        kind="handoff",
        text=(
            f"看起來您要反映「{name}」，地點是「{place}」。目前請用線上反映表單送出："
            "類別、地點和您的描述已經幫您填好，確認或修改後按「送出」即可。急事請撥 1999。"
        ),
        links=[Link(title="線上反映表單（已填好）", url=f"{CASE_FORM_PATH}?{query}")],
    )


class DegradedResponder:
    """FAQ answers, clarify picks and feedback without the dialogue engine; cases via the plain form."""

    def __init__(self, answerer: FaqAnswerer) -> None:
        self.answerer = answerer

    def handle(self, message: Incoming) -> EngineTurn:
        if message.text and looks_like_emergency(message.text):
            return EngineTurn([EMERGENCY_REPLY], intent="emergency")
        if message.payload:
            return self._payload(message.payload)
        if message.location or message.photo_ref:
            return self._notice([Reply(text="收到位置或照片了。反映問題請使用線上表單，並附上位置與照片。")])
        said = status_reply(message.text)
        if said is not None:
            return self._notice([said], intent="check_case_status")
        said = report_reply(message.text)
        if said is not None:
            return self._notice([said], intent="report_issue")
        reported = reported_category(message.text)
        if reported is not None:
            name = category_by_code(reported).name
            text = (
                f"這是要通報的狀況（{name}）。請使用線上反映表單，選「{name}」並留下地點、狀況與聯絡電話，"
                "我們會派給負責的機關處理；急事請撥 1999。"
            )
            return self._notice(
                [Reply(kind="handoff", text=text, links=list(LIMITED_MODE_NOTICE.links))],
                intent="report_issue",
            )
        outcome = self.answerer.answer(message.text)
        candidates = [c.faq_id for c in outcome.candidates]
        if outcome.decision == "answer" and outcome.answer is not None:
            return self._notice(answer_replies(outcome.answer), "answer", candidates, outcome.answer.id)
        if outcome.decision == "clarify":
            return self._notice(clarify_replies(outcome.candidates), "clarify", candidates)
        return self._notice(abstain_replies(), "abstain", candidates)

    def _payload(self, payload: str) -> EngineTurn:
        parsed = parse_payload(payload)
        intent, entities = parsed if parsed else ("", {})
        if intent == "pick_suggestion":
            record = self.answerer.get(entities.get("faq_id", ""))
            if record is not None:
                return self._notice(answer_replies(record), "answer", [record.id], record.id, intent=intent)
        if intent in {"feedback_good", "feedback_bad"}:
            text = (
                "謝謝您的回饋！"
                if intent == "feedback_good"
                else "抱歉沒有幫上忙，您可以換個說法，或使用線上表單請專人協助。"
            )
            return self._notice([Reply(text=text)], intent=intent)
        if intent == "leave_message":  # 「留言請專人回覆」, offered before Rasa went away
            text = (
                f"請按「{LEAVE_MESSAGE}」開啟線上表單，寫下想請專人回覆的內容；留下電話並同意使用，"
                "專員上線後會與您聯絡。送出後會給您案件編號，可以用來查詢進度；急事請撥 1999。"
            )
            return self._notice(
                [Reply(kind="handoff", text=text, links=[Link(title=LEAVE_MESSAGE, url=MESSAGE_FORM_URL)])],
                intent=intent,
            )
        if intent in {"report_issue", "ask_human"}:
            text = "請使用線上反映表單，留下地點、狀況與聯絡電話，我們會轉交專人處理；急事請撥 1999。"
            return self._notice(
                [Reply(kind="handoff", text=text, links=list(LIMITED_MODE_NOTICE.links))], intent=intent
            )
        if intent in {"affirm", "deny", "cancel", "correct"}:  # a button of a form Rasa was running
            text = (
                "剛才填寫中的案件還沒有送出。請改用線上反映表單留下地點、狀況與聯絡電話，"
                "我們會轉交專人處理；急事請撥 1999。"
            )
            return self._notice(
                [Reply(kind="handoff", text=text, links=list(LIMITED_MODE_NOTICE.links))], intent=intent
            )
        return self._notice([Reply(text="請直接輸入您的問題。")], intent=intent)

    @staticmethod
    def _notice(
        replies: list[Reply],
        decision: str = "",
        candidates: list[str] | None = None,
        faq_id: str = "",
        *,
        intent: str = "",
    ) -> EngineTurn:
        return EngineTurn([LIMITED_MODE_NOTICE, *replies], intent, None, decision, candidates or [], faq_id)
