from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.schedule import Cron, Every, parse_schedule
from bot.settings import SettingsError, load_settings

TAIPEI = ZoneInfo("Asia/Taipei")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("weekly", 604800),
        ("daily", 86400),
        ("hourly", 3600),
        ("6h", 21600),
        ("every 7d", 604800),
        ("30m", 1800),
    ],
)
def test_intervals(text: str, seconds: int) -> None:
    assert parse_schedule(text, TAIPEI) == Every(seconds)


@pytest.mark.parametrize("text", ["", "off", " "])
def test_off(text: str) -> None:
    assert parse_schedule(text, TAIPEI) is None


def test_cron_mondays_at_three_city_time() -> None:
    cron = parse_schedule("0 3 * * 1", TAIPEI)
    assert isinstance(cron, Cron)
    sunday_noon = datetime(2026, 12, 6, 4, 0, tzinfo=UTC)  # 12:00 in Taipei
    monday = cron.next_after(sunday_noon)
    assert monday == datetime(2026, 12, 7, 3, 0, tzinfo=TAIPEI)
    assert cron.next_after(monday) == datetime(2026, 12, 14, 3, 0, tzinfo=TAIPEI)


def test_cron_steps_lists_and_months() -> None:
    cron = parse_schedule("*/15 8-9 1,15 2 *", TAIPEI)
    assert isinstance(cron, Cron)
    start = datetime(2026, 12, 7, 0, 0, tzinfo=TAIPEI)
    assert cron.next_after(start) == datetime(2027, 2, 1, 8, 0, tzinfo=TAIPEI)
    assert cron.next_after(datetime(2027, 2, 1, 9, 45, tzinfo=TAIPEI)) == datetime(
        2027, 2, 15, 8, 0, tzinfo=TAIPEI
    )


@pytest.mark.parametrize(
    ("text", "says"), [("sometimes", "看不懂"), ("0 25 * * *", "超出範圍"), ("10s", "看不懂")]
)
def test_a_bad_schedule_is_named_in_the_settings_error(text: str, says: str) -> None:
    with pytest.raises(SettingsError, match="harvest.schedule") as error:
        load_settings(harvest={"schedule": text})
    assert says in str(error.value)
