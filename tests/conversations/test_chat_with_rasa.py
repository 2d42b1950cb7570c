"""Whole conversations through ``POST /api/chat``, the real Rasa server, the real action server and the store.

Each test is one citizen (a fresh sender). The degraded-mode test stops Rasa and starts
it again, so it runs last.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.cases import is_valid_case_number
from bot.chat.degraded import MESSAGE_FORM_URL
from bot.privacy import pseudonymise
from bot.settings import DEVELOPMENT_PSEUDONYM_KEY
from bot.store import Database
from bot.store.cases import CaseStore, NewCase
from bot.store.handoff import HandoffStore
from bot.store.kb_import import import_rows
from bot.store.models import CaseRow, TurnRow
from knowledge.importers import Parsed
from tests.conversations.conftest import TAX_WAYS, RasaStack
from tests.factories import faq
from tests.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

Body = dict[str, Any]


class Citizen:
    """One person chatting on the web: sends text, presses buttons, shares a location."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.sender = f"web-{uuid.uuid4().hex[:12]}"
        self.conversation_id = pseudonymise("web", self.sender, DEVELOPMENT_PSEUDONYM_KEY)

    def _send(self, **body: Any) -> Body:
        response = self.client.post("api/chat", json={"sender": self.sender, **body})
        assert response.status_code == 200, response.text
        reply: Body = response.json()
        return reply

    def says(self, text: str) -> Body:
        return self._send(text=text)

    def presses(self, payload: str) -> Body:
        return self._send(payload=payload)

    def shares(self, latitude: float, longitude: float) -> Body:
        return self._send(location={"latitude": latitude, "longitude": longitude})


def kinds(body: Body) -> list[str]:
    return [reply["kind"] for reply in body["replies"]]


def text(body: Body) -> str:
    return "\n".join(reply["text"] for reply in body["replies"])


def buttons(body: Body) -> dict[str, str]:
    return {b["title"]: b["payload"] for reply in body["replies"] for b in reply["buttons"]}


def normal(body: Body) -> Body:
    assert body["mode"] == "normal", body
    return body


@pytest.fixture
def citizen(chat_url: str) -> Iterator[Citizen]:
    with httpx.Client(base_url=chat_url, timeout=30) as client:
        yield Citizen(client)


@pytest.fixture
def store(rasa_stack: RasaStack) -> Iterator[Database]:
    database = Database(rasa_stack.database_url)
    yield database
    database.dispose()


def test_an_faq_answer_with_its_source_then_feedback_is_recorded(citizen: Citizen, store: Database) -> None:
    body = normal(citizen.says("舊沙發要怎麼丟"))
    assert kinds(body) == ["answer", "feedback"]
    answer = body["replies"][0]
    assert answer["text"].startswith("請先打電話給清潔隊預約時間")
    assert "環境保護局" in answer["text"]
    assert answer["links"] == [{"title": "詳細說明", "url": "https://www.example.gov.tw/faq/bulky-waste"}]
    assert buttons(body) == {"有幫助": "/feedback_good", "沒幫助": "/feedback_bad"}

    thanks = normal(citizen.presses("/feedback_good"))
    assert "謝謝您的回饋" in text(thanks)
    # typed feedback on the next answer is recorded by the action itself
    normal(citizen.says("垃圾車幾點到"))
    sorry = normal(citizen.says("這個回答沒用"))
    assert "抱歉沒有幫上忙" in text(sorry)
    with store.session() as session:
        rated = session.execute(
            select(TurnRow.faq_id, TurnRow.feedback)
            .where(TurnRow.conversation_id == citizen.conversation_id, TurnRow.faq_id != "")
            .order_by(TurnRow.id)
        ).all()
    assert [tuple(row) for row in rated] == [("F-1", "good"), ("F-4", "bad")]


def test_clarify_offers_at_most_three_and_a_pick_answers_it(citizen: Citizen) -> None:
    body = normal(citizen.says("房屋稅怎麼繳"))
    assert kinds(body) == ["clarify"]
    offered = buttons(body)
    picks = {title: payload for title, payload in offered.items() if payload.startswith("/pick_suggestion")}
    assert 2 <= len(picks) <= 3
    assert offered["都不是，我要找專人"] == "/ask_human"
    answer = normal(citizen.presses(picks["房屋稅什麼時候繳？"]))
    assert kinds(answer) == ["answer", "feedback"]
    assert answer["replies"][0]["text"].startswith(TAX_WAYS)

    # a typed pick names the place among the suggestions just offered
    again = normal(citizen.says("房屋稅怎麼繳"))
    second = json.loads(list(buttons(again).values())[1].removeprefix("/pick_suggestion"))["faq_id"]
    typed = normal(citizen.says("第二個"))
    expected = {"F-2": TAX_WAYS, "F-3": "房屋稅可以用信用卡"}[second]
    assert typed["replies"][0]["text"].startswith(expected)


def test_abstain_is_honest_and_leads_to_filing_a_case(citizen: Citizen, store: Database) -> None:
    body = normal(citizen.says("請問身心障礙停車證要去哪裡申請"))
    assert kinds(body) == ["abstain"]
    assert "找不到可靠的答案" in text(body)
    assert buttons(body)["我要反映問題／報案"] == "/report_issue"

    asked = normal(citizen.presses("/report_issue"))
    assert "哪一類問題" in text(asked)
    assert "路燈故障" in buttons(asked)
    assert "發生的地點" in text(normal(citizen.presses(buttons(asked)["路燈故障"])))
    assert "描述狀況" in text(normal(citizen.shares(22.6273, 120.3014)))
    assert "照片" in text(normal(citizen.says("整條巷子的路燈晚上都不亮")))
    assert "聯絡電話" in text(normal(citizen.says("沒有")))
    assert "同意" in text(normal(citizen.says("0912-345-678")))
    summary = normal(citizen.presses("/affirm"))
    assert "請確認要送出的案件資料" in text(summary)
    assert "您分享的位置" in text(summary)
    assert "0912***678" in text(summary)
    assert buttons(summary)["確認送出"] == "/affirm"

    filed = normal(citizen.presses("/affirm"))
    assert kinds(filed) == ["case"]
    number = next(word for word in text(filed).replace("：", " ").split() if is_valid_case_number(word))
    with store.session() as session:
        case = CaseStore(session).get(number)
        assert (case.category, case.latitude, case.longitude, case.phone, case.contact_consent) == (
            "street_light",
            22.6273,
            120.3014,
            "0912345678",
            True,
        )
        assert case.description == "整條巷子的路燈晚上都不亮"
        assert case.conversation_id == citizen.conversation_id


def test_an_emergency_gets_119_and_110_first_even_inside_a_form(citizen: Citizen) -> None:
    body = normal(citizen.says("我家廚房失火了"))
    assert kinds(body)[0] == "emergency"
    assert "119" in text(body)
    assert "110" in text(body)
    assert "answer" not in kinds(body)

    normal(citizen.says("我要報修路燈"))
    inside = normal(citizen.says("救命 有人被車撞倒在地上流血"))
    assert kinds(inside)[0] == "emergency"
    # the form stopped: the next message is an ordinary question again
    assert kinds(normal(citizen.says("舊沙發要怎麼丟"))) == ["answer", "feedback"]


def test_status_check_needs_the_number_and_the_phone_digits(citizen: Citizen, store: Database) -> None:
    with store.session() as session:
        number = (
            CaseStore(session)
            .file(
                NewCase(
                    category="road_pothole",
                    description="路面有大坑洞",
                    channel="web",
                    sender_id="someone",
                    location_text="三民區建國二路",
                    phone="0912345678",
                    contact_consent=True,
                )
            )
            .number
        )
    assert "案件編號" in text(normal(citizen.says("我想查一下之前報的案件進度")))
    assert "案件編號好像不正確" in text(normal(citizen.says("123")))
    assert "末三碼" in text(normal(citizen.says(number)))
    status = normal(citizen.says("678"))
    assert number in text(status)
    assert "已受理" in text(status)

    normal(citizen.says("查詢案件進度"))
    normal(citizen.says(number))
    wrong = normal(citizen.says("999"))
    assert "查不到符合的案件" in text(wrong)
    assert "已受理" not in text(wrong)


def test_what_the_citizen_already_said_is_not_asked_again(citizen: Citizen, store: Database) -> None:
    with store.session() as session:
        number = (
            CaseStore(session)
            .file(
                NewCase(
                    category="street_light",
                    description="路燈不亮",
                    channel="web",
                    sender_id="someone",
                    location_text="鼓山區美術館路",
                    phone="0912345678",
                    contact_consent=True,
                )
            )
            .number
        )
    asked = normal(citizen.says(f"查詢案件 {number}"))
    assert f"要查詢的案件編號是 {number}" in text(asked)
    assert "末三碼" in text(asked)
    assert "請輸入案件編號" not in text(asked)
    assert number in text(normal(citizen.says("678")))

    report = normal(citizen.says("三民區九如一路有個大坑洞"))
    assert "問題類別「道路坑洞」、地點「三民區九如一路」" in text(report)
    assert "發生的地點" not in text(report)
    assert "坑洞大約多大" in text(report), "the pothole's own example"
    assert "照片" in text(normal(citizen.says("機車道上一個臉盆大的洞")))
    normal(citizen.says("沒有"))
    summary = normal(citizen.says("不留"))
    assert "・地點：三民區九如一路" in text(summary)
    filed = normal(citizen.presses("/affirm"))
    filed_number = next(w for w in text(filed).replace("：", " ").split() if is_valid_case_number(w))
    with store.session() as session:
        case = CaseStore(session).get(filed_number)
        assert (case.category, case.location_text) == ("road_pothole", "三民區九如一路")


def test_a_correction_inside_the_case_form(citizen: Citizen, store: Database) -> None:
    started = normal(citizen.says("我家巷口的路燈壞了"))
    assert "發生的地點" in text(started), "the category was taken from the report"
    described = normal(citizen.says("苓雅區三多一路 200 巷口"))
    assert "燈桿上的編號" in text(described), "a street light's own example, not a pothole's"
    assert "坑洞" not in text(described)
    normal(citizen.says("晚上整條巷子都是暗的"))
    normal(citizen.says("沒有"))
    again = normal(citizen.says("地址打錯了"))
    assert "請重新提供地點" in text(again)
    assert "發生的地點" in text(again)
    assert "聯絡電話" in text(normal(citizen.says("苓雅區三多一路 250 巷口")))
    normal(citizen.says("0912345678"))
    summary = normal(citizen.says("同意"))
    assert "三多一路 250 巷口" in text(summary)

    asked = normal(citizen.presses(buttons(summary)["修改聯絡電話"]))
    assert "聯絡電話" in text(asked)
    normal(citizen.says("07-3368333"))
    summary = normal(citizen.says("好"))
    assert "0733**333" in text(summary)
    filed = normal(citizen.presses("/affirm"))
    number = next(word for word in text(filed).replace("：", " ").split() if is_valid_case_number(word))
    with store.session() as session:
        case = CaseStore(session).get(number)
        assert (case.location_text, case.phone) == ("苓雅區三多一路 250 巷口", "073368333")


def test_cancel_stops_the_form_and_files_nothing(citizen: Citizen, store: Database) -> None:
    with store.session() as session:
        before = len(session.scalars(select(CaseRow.id)).all())
    asked = normal(citizen.says("我要報修"))
    assert buttons(asked)["道路坑洞"] == '/report_issue{"dispatch_category": "道路坑洞"}'
    normal(citizen.presses(buttons(asked)["道路坑洞"]))
    stopped = normal(citizen.says("算了不報了"))
    assert "已經取消" in text(stopped)
    assert kinds(normal(citizen.says("垃圾車幾點到"))) == ["answer", "feedback"]
    with store.session() as session:
        assert len(session.scalars(select(CaseRow.id)).all()) == before


def test_nobody_can_come_so_a_message_is_asked_for_before_anything_is_filed(
    citizen: Citizen, store: Database
) -> None:
    """Issue 25 item 6. No agent is on line in this stack, so whatever the hour nobody can come:
    the bot says so and offers 「留言請專人回覆」; only the message, a phone, consent and a
    confirmed summary file a case, linked to the request (counted once on the dashboard)."""

    def cases() -> int:
        with store.session() as session:
            return len(session.scalars(select(CaseRow.id)).all())

    before = cases()
    asked = normal(citizen.says("我要找真人客服"))
    assert kinds(asked) == ["handoff"]
    assert "沒有專人可以即時接手" in text(asked)
    assert "1999" in text(asked)
    assert buttons(asked) == {"留言請專人回覆": "/leave_message"}
    assert cases() == before, "nothing filed unasked"

    assert "請留下想請專人回覆的內容" in text(normal(citizen.presses("/leave_message")))
    assert "聯絡電話" in text(normal(citizen.says("想問里民活動中心週末有沒有開放借用")))
    assert "同意" in text(normal(citizen.says("0912-345-678")))
    summary = normal(citizen.presses("/affirm"))
    assert "請確認要送出的留言" in text(summary)
    assert "地點" not in text(summary)
    assert buttons(summary)["修改留言"] == '/correct{"form_field": "description"}'
    assert cases() == before, "nothing filed before the summary is confirmed"

    filed = normal(citizen.presses("/affirm"))
    assert kinds(filed) == ["case"]
    assert "已收到您的留言" in text(filed)
    number = next(word for word in text(filed).replace("：", " ").split() if is_valid_case_number(word))
    with store.session() as session:
        case = CaseStore(session).get(number)
        requests = HandoffStore(session).history(citizen.conversation_id)
    assert (case.category, case.origin, case.phone, case.contact_consent, case.conversation_id) == (
        "general",
        "conversation",
        "0912345678",
        True,
        citizen.conversation_id,
    )
    assert case.description == "想問里民活動中心週末有沒有開放借用"
    assert [(r.state, r.case_number) for r in requests] == [("released", number)]


def test_chitchat_is_one_friendly_line_back_to_business(citizen: Citizen) -> None:
    body = normal(citizen.says("你是機器人嗎"))
    assert len(body["replies"]) == 1
    assert text(body).endswith("請問有什麼可以幫您？")


def test_a_published_entry_is_answered_through_rasa_without_retraining(
    citizen: Citizen, store: Database
) -> None:
    entry = faq(
        "F-9",
        question="寵物登記要去哪裡辦？",
        answer="寵物登記請帶狗貓到動物醫院辦理，費用依各院所公告。",
        alt_questions=["狗狗晶片去哪裡打"],
        agency="動物保護處",
        keywords=["寵物登記"],
    )
    with store.session() as session:
        import_rows(session, [Parsed("line 1", entry)], actor="test")

    def picked_up() -> bool:
        body = normal(citizen.says("寵物登記要去哪裡辦"))
        return kinds(body)[0] == "answer" and str(body["replies"][0]["text"]).startswith("寵物登記請帶狗貓")

    wait_until(picked_up, what="the action server to pick up the new entry", interval=0.5)


def test_degraded_while_rasa_is_stopped_then_normal_again(
    citizen: Citizen, rasa_stack: RasaStack, store: Database
) -> None:
    rasa_stack.rasa.stop()
    try:
        body = citizen.says("舊沙發要怎麼丟")
        assert body["mode"] == "degraded"
        assert kinds(body) == ["notice", "answer", "feedback"]
        assert "簡易模式" in text(body)
        held = citizen.presses("/affirm")  # a form button while Rasa is away: said plainly, with the form
        assert "還沒有送出" in text(held)
        assert held["replies"][-1]["links"][0]["url"] == "/cases/new"
        asked = citizen.presses("/ask_human")  # nobody on line: the message form, nothing filed
        assert asked["mode"] == "degraded"
        assert asked["replies"][-1]["links"] == [{"title": "留言請專人回覆", "url": MESSAGE_FORM_URL}]
        assert "沒有專人可以即時接手" in text(asked)
        late = citizen.presses("/leave_message")  # the button from before Rasa went away
        assert late["replies"][-1]["links"] == [{"title": "留言請專人回覆", "url": MESSAGE_FORM_URL}]
        with store.session() as session:
            assert (
                session.scalars(
                    select(CaseRow.id).where(CaseRow.conversation_id == citizen.conversation_id)
                ).all()
                == []
            )
        emergency = citizen.says("有人昏倒了沒有呼吸")
        assert emergency["mode"] == "degraded"
        assert kinds(emergency)[0] == "emergency"
    finally:
        rasa_stack.rasa.start()
    time.sleep(1.2)  # the breaker's cool-off in this app (1 s): a slow machine only waits longer
    back = citizen.says("舊沙發要怎麼丟")
    assert back["mode"] == "normal"
    assert kinds(back) == ["answer", "feedback"]
