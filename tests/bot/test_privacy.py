import logging
import sys

import pytest
from uvicorn.logging import AccessFormatter

from bot.privacy import RedactingFilter, install_log_redaction, redact


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
