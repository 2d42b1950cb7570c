import re
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from bot.settings import Section, Settings, SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("BOT1999_DATABASE_URL", "BOT1999_SERVER__PORT", "BOT1999_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults_without_a_file() -> None:
    settings = load_settings()
    assert settings.database_url_plain == "sqlite:///var/bot1999.db"
    assert settings.server.port == 8000


def test_file_then_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "settings.yml").write_text("server:\n  port: 8100\n  host: 0.0.0.0\n", encoding="utf-8")
    assert (load_settings().server.port, load_settings().server.host) == (8100, "0.0.0.0")
    monkeypatch.setenv("BOT1999_SERVER__PORT", "8200")
    assert (load_settings().server.port, load_settings().server.host) == (8200, "0.0.0.0")


def test_another_settings_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    other = tmp_path / "prod.yml"
    other.write_text("environment: production\nprivacy:\n  pseudonym_key: s3cret\n", encoding="utf-8")
    monkeypatch.setenv("BOT1999_SETTINGS_FILE", str(other))
    assert load_settings().environment == "production"


def test_errors_name_the_field_and_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT1999_SERVER__PORT", "eighty")
    with pytest.raises(SettingsError, match=r"server\.port \(BOT1999_SERVER__PORT\)"):
        load_settings()


def test_unknown_keys_in_the_file_are_refused(tmp_path: Path) -> None:
    (tmp_path / "settings.yml").write_text("databse_url: sqlite:///typo.db\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="databse_url"):
        load_settings()


def test_secrets_are_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT1999_DATABASE_URL", "postgresql://bot:hunter2@db/bot")
    settings = load_settings()
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings.model_dump())
    monkeypatch.setenv("BOT1999_DATABASE_URL", "mysql://bot:hunter2@db/bot")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert "database_url" in str(raised.value)
    assert "hunter2" not in str(raised.value)


def test_production_refuses_the_development_pseudonym_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT1999_ENVIRONMENT", "production")
    with pytest.raises(SettingsError, match="BOT1999_PRIVACY__PSEUDONYM_KEY"):
        load_settings()
    monkeypatch.setenv("BOT1999_PRIVACY__PSEUDONYM_KEY", "a-real-secret")
    assert load_settings().environment == "production"


def _section_paths(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every settings section, nested ones included (``channels.line``, ``limits.chat``…)."""
    paths = []
    for name, field in model.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, Section):
            paths.append((*prefix, name))
            paths.extend(_section_paths(kind, (*prefix, name)))
    return paths


SECTIONS = _section_paths(Settings)


def test_every_section_is_walked() -> None:
    assert {("handoff",), ("knowledge", "retrieval"), ("channels", "line")} <= set(SECTIONS)
    assert len(SECTIONS) >= 16


@pytest.mark.parametrize("path", SECTIONS, ids=".".join)
def test_a_typo_in_any_section_is_refused_naming_key_and_variable(
    path: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nested: dict[str, object] = {"agent_hour": "08:00"}
    for name in reversed(path):
        nested = {name: nested}
    (tmp_path / "settings.yml").write_text(yaml.safe_dump(nested), encoding="utf-8")
    key = ".".join((*path, "agent_hour"))
    variable = "BOT1999_" + "__".join(p.upper() for p in (*path, "agent_hour"))
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert f"{key} ({variable})" in str(refused.value)
    assert "Extra inputs are not permitted" in str(refused.value)
    (tmp_path / "settings.yml").unlink()
    monkeypatch.setenv(variable, "08:00")
    with pytest.raises(SettingsError, match=re.escape(f"{key} ({variable})")):
        load_settings()


def test_only_dispatch_categories_can_be_made_public(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT1999_OPEN311__PUBLIC_CATEGORIES", '["street_light", "street_light"]')
    assert load_settings().open311.public_categories == ["street_light"]
    for refused in ("general", "noise", "ufo"):
        monkeypatch.setenv("BOT1999_OPEN311__PUBLIC_CATEGORIES", f'["road_pothole", "{refused}"]')
        with pytest.raises(SettingsError, match=rf"open311\.public_categories .*not {refused}"):
            load_settings()


def test_the_status_check_lock_out_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT1999_STATUS_CHECK__MAX_FAILURES", "0")
    with pytest.raises(SettingsError, match=r"status_check\.max_failures"):
        load_settings()
