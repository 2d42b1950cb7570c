import pytest

from bot.privacy import redact


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
    ],
)
def test_personal_data_is_replaced(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    ["請撥1999", "案號 261122-0042-7", "地址：中正路100號", "2026年11月22日 下午3點", "停車費每小時30元"],
)
def test_ordinary_text_and_numbers_stay(text: str) -> None:
    assert redact(text) == text
