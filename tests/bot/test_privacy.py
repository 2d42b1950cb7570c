import logging
import sys

import pytest
from uvicorn.logging import AccessFormatter

from bot.privacy import (
    RedactingFilter,
    install_log_redaction,
    redact,
    redact_case_keys,
    redact_identifiers,
    street_level,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的身分證是A123456789", "我的身分證是[id]"),
        ("居留證 AC01234567 請查", "居留證 [id] 請查"),
        ("電話0912-345-678謝謝", "電話[phone]謝謝"),
        ("打 +886 912 345 678", "打 [phone]"),
        ("市話(07)331-1234", "市話[phone]"),
        ("市話 07-3311234", "市話 [phone]"),
        ("信箱 someone.x@example.com.tw", "信箱 [email]"),
        ("全形０９１２３４５６７８", "全形[phone]"),
        ("地址：中正路100號", "地址：[address]"),
        ("我家住在高雄市苓雅區四維三路2號", "我家住在[address]"),
        ("和平一路100巷5弄3號之1 4樓門口", "[address]門口"),
        ("中和路12號3樓", "[address]"),
        ("鹽埕街50巷口有坑洞", "[address]口有坑洞"),
        ("苓雅區福德里5鄰中正一路120號", "[address]"),
        ("請到三民路二段5號辦理", "請到[address]辦理"),
        ("五福一路１２號", "[address]"),
    ],
)
def test_personal_data_is_replaced(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "請撥1999",
        "案號 261122-0042-7",
        "2026年11月22日 下午3點",
        "停車費每小時30元",
        "中正路與五福路口的號誌壞了",
        "國道1號北上",
        "路燈編號12345不亮",
        "三民路上有坑洞",
    ],
)
def test_ordinary_text_and_numbers_stay(text: str) -> None:
    assert redact(text) == text


def test_redaction_is_idempotent() -> None:
    text = "A123456789 0912345678 a@b.tw 中正路100號"
    assert redact(redact(text)) == redact(text) == "[id] [phone] [email] [address]"


@pytest.fixture
def redacting_logs() -> None:
    install_log_redaction()


def test_no_log_record_carries_personal_data(redacting_logs: None, caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("tests.privacy")
    with caplog.at_level(logging.INFO, logger="tests.privacy"):
        log.info("citizen %s wrote %r", "a@b.tw", "我住中正路100號，電話0912345678")
        log.warning("case for %(phone)s", {"phone": "07-3311234"})
        log.info({"id": "A123456789"})
        try:
            raise ValueError("bad phone 0912-345-678")
        except ValueError:
            log.exception("filing failed for %s", "A123456789")
    text = caplog.text
    for secret in ("a@b.tw", "0912345678", "07-3311234", "A123456789", "中正路100號", "0912-345-678"):
        assert secret not in text
    assert "citizen [email] wrote '我住[address]，電話[phone]'" in text
    assert "case for [phone]" in text
    assert "ValueError: bad phone [phone]" in text
    assert "Traceback" in text


def test_uvicorns_access_log_still_formats(redacting_logs: None) -> None:
    record = logging.getLogger("uvicorn.access").makeRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/open311/v2/requests.json?phone=0912345678", "1.1", 200),
        None,
    )
    line = AccessFormatter("%(client_addr)s %(request_line)s %(status_code)s", use_colors=False).format(
        record
    )
    assert line == "127.0.0.1:5000 GET /open311/v2/requests.json?phone=[phone] HTTP/1.1 200 OK"


def test_the_filter_redacts_what_a_handler_writes() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "mail %s", ("a@b.tw",), None)
    assert handler.filter(record)
    assert record.getMessage() == "mail [email]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("民眾：261207-0001-4", "民眾：[case]"),
        ("案號26120700014，謝謝", "案號[case]，謝謝"),
        ("查 261207 0001 4", "查 [case]"),
        ("678", "[digits]"),
        ("６７８。", "[digits]。"),
        ("民眾：678", "民眾：[digits]"),
        ("電話末三碼是 678", "電話末三碼是 [digits]"),
        ("後3碼：６７８，案件編號261207-0001-4", "後3碼：[digits]，案件編號[case]"),
        ("對話摘錄：\n民眾：678\n民眾：我要找真人", "對話摘錄：\n民眾：[digits]\n民眾：我要找真人"),
        ("電話0912345678，末三碼678", "電話[phone]，末三碼[digits]"),
    ],
)
def test_what_opens_a_case_is_redacted_from_free_text_that_leaves(text: str, expected: str) -> None:
    assert redact_identifiers(text) == expected


@pytest.mark.parametrize(
    "text", ["請撥1999", "停車費每小時300元", "國道1號北上", "2026-12-07 下午3點", "路燈編號12345不亮"]
)
def test_ordinary_numbers_are_not_taken_for_identifiers(text: str) -> None:
    assert redact_identifiers(text) == text


def test_only_the_keys_of_a_case_leave_a_staff_excerpt() -> None:
    assert redact_case_keys("民眾：我叫陳美麗，電話0912345678\n民眾：678") == (
        "民眾：我叫陳美麗，電話0912345678\n民眾：[digits]"
    ), "agents need the name and the phone to call back"
    assert redact_identifiers("我是王小明，聯絡人：張先生") == "我是[name]，聯絡人：[name]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("中正路100巷5弄3號4樓門口", "中正路門口"),
        ("高雄市苓雅區四維三路2號前", "高雄市苓雅區四維三路前"),
        ("三民路二段5號", "三民路二段"),
        ("中正路與五福路口", "中正路與五福路口"),
        ("五福一路１２號旁，電話0912345678", "五福一路旁，電話[phone]"),
    ],
)
def test_a_public_address_stops_at_the_street(text: str, expected: str) -> None:
    assert street_level(text) == expected


def test_logs_carry_no_case_number_nor_check_digits(
    redacting_logs: None, caplog: pytest.LogCaptureFixture
) -> None:
    log = logging.getLogger("tests.privacy")
    with caplog.at_level(logging.INFO, logger="tests.privacy"):
        log.info("status check of %s with %s", "261207-0001-4", "678")
        log.info("citizen wrote 末三碼678")
    assert "261207-0001-4" not in caplog.text
    assert "678" not in caplog.text
    assert "status check of [case] with [digits]" in caplog.text
