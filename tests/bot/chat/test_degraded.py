"""Limited mode reads what the citizen already said: a case number, a report with its place."""

from urllib.parse import parse_qs, urlsplit

from bot.chat.degraded import DegradedResponder
from bot.messages import Incoming
from tests.factories import faq
from tests.fakes.faq_answerer import OverlapAnswerer

RESPONDER = DegradedResponder(OverlapAnswerer([faq("F-1", question="大型垃圾要怎麼預約清運？")]))


def _turn(text: str):  # type: ignore[no-untyped-def]
    return RESPONDER.handle(Incoming(channel="web", user_id="web-1", text=text))


def test_a_case_number_is_not_asked_for_again() -> None:
    turn = _turn("查詢案件 261207-0001-4")
    assert turn.intent == "check_case_status"
    assert "您要查詢案件 261207-0001-4" in turn.replies[-1].text
    assert "請輸入案件編號" not in turn.replies[-1].text
    wrong = _turn("查詢案件 261207-0001-5")
    assert "好像不正確" in wrong.replies[-1].text


def test_a_report_naming_its_place_opens_the_form_filled_in() -> None:
    turn = _turn("三民區九如一路有個大坑洞")
    reply = turn.replies[-1]
    assert turn.intent == "report_issue"
    assert "「道路坑洞」" in reply.text
    assert "「三民區九如一路」" in reply.text
    url = urlsplit(reply.links[0].url)
    assert url.path == "/cases/new"
    assert parse_qs(url.query) == {
        "category": ["road_pothole"],
        "location_text": ["三民區九如一路"],
        "description": ["三民區九如一路有個大坑洞"],
    }


def test_a_question_is_still_a_question() -> None:
    assert _turn("中正路的路燈壞了要打哪支電話？").intent != "report_issue"
    assert _turn("大型垃圾要怎麼預約清運").decision == "answer"
