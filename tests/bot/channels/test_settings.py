"""Channel settings: off without credentials, Telegram's secret alphabet, from the environment."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings


def test_channels_are_off_by_default() -> None:
    settings = load_settings()
    assert not settings.channels.line.enabled
    assert not settings.channels.telegram.enabled
    assert settings.channels.telegram.mode == "webhook"


def test_credentials_from_the_environment_turn_a_channel_on_and_stay_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BOT1999_CHANNELS__LINE__CHANNEL_SECRET", "s3cret")
    monkeypatch.setenv("BOT1999_CHANNELS__LINE__CHANNEL_ACCESS_TOKEN", "t0ken")
    monkeypatch.setenv("BOT1999_CHANNELS__TELEGRAM__BOT_TOKEN", "123:abc")
    monkeypatch.setenv("BOT1999_CHANNELS__TELEGRAM__MODE", "polling")
    settings = load_settings()
    assert settings.channels.line.enabled
    assert settings.channels.telegram.enabled
    assert settings.channels.telegram.mode == "polling"
    assert "s3cret" not in repr(settings)
    assert "t0ken" not in repr(settings)
    assert "123:abc" not in repr(settings)


def test_one_line_credential_is_not_enough() -> None:
    assert not load_settings(channels={"line": {"channel_access_token": "t"}}).channels.line.enabled


@pytest.mark.parametrize(
    ("override", "says"),
    [
        ({"telegram": {"webhook_secret": "has space"}}, "channels.telegram.webhook_secret"),
        ({"telegram": {"mode": "push"}}, "channels.telegram.mode"),
        ({"line": {"api_base_url": "ftp://line"}}, "channels.line.api_base_url"),
        ({"public_base_url": "bot.example.tw"}, "channels.public_base_url"),
        ({"max_photo_bytes": 10}, "channels.max_photo_bytes"),
    ],
)
def test_bad_channel_settings_are_named(override: dict[str, object], says: str) -> None:
    with pytest.raises(SettingsError, match=says):
        load_settings(channels=override)
