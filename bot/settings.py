"""The one settings object: ``settings.yml`` < environment (``BOT1999_*``).

The YAML file is ``settings.yml`` in the working directory unless ``BOT1999_SETTINGS_FILE``
names another (an empty value disables it). Nested sections map to environment
variables with a double underscore, e.g. ``BOT1999_RETRIEVAL__ANSWER_THRESHOLD``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

__all__ = ["Settings", "SettingsError", "get_settings", "load_settings"]

DEFAULT_SETTINGS_FILE = "settings.yml"


class SettingsError(Exception):
    """Invalid settings, with one line per bad field naming its environment variable."""


class ServerSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["debug", "info", "warning", "error"] = "info"


class KnowledgeSettings(BaseModel):
    content_dir: Path = Path("knowledge/content")
    encoder: str = "e5-small-offline"
    model_cache_dir: Path = Path("var/models")
    refresh_seconds: float = Field(default=1.0, gt=0, le=60)


class RasaSettings(BaseModel):
    """The Rasa server the chat talks to, and when to stop waiting for it (degraded mode)."""

    url: str = "http://127.0.0.1:5005"
    token: SecretStr = SecretStr("")
    venv: Path = Path(".venv-rasa")
    model: Path = Path("models/bot1999.tar.gz")
    actions_port: int = Field(default=5055, ge=1, le=65535)
    timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    cool_off_seconds: float = Field(default=10.0, ge=0, le=600)


class Open311Settings(BaseModel):
    """The Open311 GeoReport v2 API: filing needs one of ``api_keys``; reading is open."""

    api_keys: list[SecretStr] = []
    jurisdiction_id: str = "1999.city.gov.tw"


DEVELOPMENT_PSEUDONYM_KEY = "development-only-pseudonym-key"


class PrivacySettings(BaseModel):
    """``pseudonym_key`` turns channel user ids into pseudonymous ids; keep it secret and fixed."""

    pseudonym_key: SecretStr = SecretStr(DEVELOPMENT_PSEUDONYM_KEY)


class Settings(BaseSettings):
    """Application settings. Secrets are ``SecretStr`` and never printed."""

    model_config = SettingsConfigDict(
        env_prefix="BOT1999_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    environment: Literal["development", "test", "production"] = "development"
    database_url: SecretStr = SecretStr("sqlite:///var/bot1999.db")
    server: ServerSettings = ServerSettings()
    knowledge: KnowledgeSettings = KnowledgeSettings()
    rasa: RasaSettings = RasaSettings()
    open311: Open311Settings = Open311Settings()
    privacy: PrivacySettings = PrivacySettings()

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: SecretStr) -> SecretStr:
        url = value.get_secret_value()
        if not url.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError("must start with sqlite:// or postgresql:// (postgresql+psycopg://)")
        return value

    @model_validator(mode="after")
    def _no_development_secrets_in_production(self) -> Settings:
        if (
            self.environment == "production"
            and self.privacy.pseudonym_key.get_secret_value() == DEVELOPMENT_PSEUDONYM_KEY
        ):
            raise ValueError(
                "privacy.pseudonym_key: set a secret of your own (BOT1999_PRIVACY__PSEUDONYM_KEY)"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = os.environ.get("BOT1999_SETTINGS_FILE", DEFAULT_SETTINGS_FILE)
        if path and Path(path).is_file():
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=path))
        return tuple(sources)

    @property
    def database_url_plain(self) -> str:
        return self.database_url.get_secret_value()


def _explain(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        path = [str(p) for p in item["loc"]]
        if not path:  # a rule across fields: the message names them
            lines.append(f"invalid settings: {item['msg'].removeprefix('Value error, ')}")
            continue
        env = "BOT1999_" + "__".join(p.upper() for p in path)
        lines.append(f"invalid setting {'.'.join(path)} ({env}): {item['msg']}")
    return "\n".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Build settings from file and environment; raise ``SettingsError`` naming each bad field."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise SettingsError(_explain(error)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
