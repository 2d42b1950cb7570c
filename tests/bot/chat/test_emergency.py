import pytest

from bot.chat.emergency import EMERGENCY_REPLY, looks_like_emergency


@pytest.mark.parametrize(
    "text", ["隔壁失火了", "我爸昏倒了怎麼辦", "外面有人拿刀", "瓦斯味很重", "路口車禍有人受傷倒地"]
)
def test_emergencies(text: str) -> None:
    assert looks_like_emergency(text)


@pytest.mark.parametrize(
    "text", ["火災保險理賠要找誰", "房屋稅怎麼繳", "救護車收費標準", "住警器火災警報器哪裡領"]
)
def test_civic_questions_that_share_words_are_not_emergencies(text: str) -> None:
    assert not looks_like_emergency(text)


def test_the_reply_names_both_numbers() -> None:
    assert "119" in EMERGENCY_REPLY.text
    assert "110" in EMERGENCY_REPLY.text
