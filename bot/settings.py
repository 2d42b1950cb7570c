"""The one settings object: ``settings.yml`` < environment (``BOT1999_*``).

The YAML file is ``settings.yml`` in the working directory unless ``BOT1999_SETTINGS_FILE``
names another (an empty value disables it). Nested sections map to environment
variables with a double underscore, e.g. ``BOT1999_KNOWLEDGE__RETRIEVAL__ABSTAIN_BELOW``.
"""

from __future__ import annotations

import ipaddress
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from knowledge.retrieval_types import RetrieverConfig

__all__ = ["Section", "Settings", "SettingsError", "get_settings", "load_settings", "local_zone"]

DEFAULT_SETTINGS_FILE = "settings.yml"
_RETRIEVAL = RetrieverConfig()  # the tuned defaults the retrieval settings start from


class SettingsError(Exception):
    """Invalid settings, with one line per bad field naming its environment variable."""


class Section(BaseModel):
    """A settings section: an unknown key (a typo) is refused, naming the key and its variable."""

    model_config = ConfigDict(extra="forbid")


class ServerSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["debug", "info", "warning", "error"] = "info"


class RetrievalSettings(Section):
    """Fusion weights and answer / clarify / abstain thresholds (defaults tuned on the Kaohsiung dev set).

    ``knowledge.retriever.RetrieverConfig`` documents each one; ``python -m bench.retrieval``
    re-tunes them (docs/knowledge-base.md).
    """

    answer_weight: float = Field(default=_RETRIEVAL.answer_weight, ge=0, le=5)
    lexical_weight: float = Field(default=_RETRIEVAL.lexical_weight, ge=0, le=5)
    rerank: bool = _RETRIEVAL.rerank  # off: the first stage alone, with its own decision defaults
    rerank_depth: int = Field(default=_RETRIEVAL.rerank_depth, ge=2, le=100)
    gap_weight: float = Field(default=_RETRIEVAL.gap_weight, ge=0, le=10)
    lexical_evidence_weight: float = Field(default=_RETRIEVAL.lexical_evidence_weight, ge=0, le=10)
    abstain_below: float = Field(default=_RETRIEVAL.abstain_below, ge=-10, le=10)
    margin_slope: float = Field(default=_RETRIEVAL.margin_slope, gt=0, le=1000)
    confidence_bias: float = Field(default=_RETRIEVAL.confidence_bias, ge=-50, le=50)
    answer_confidence: float = Field(default=_RETRIEVAL.answer_confidence, ge=0, le=1)
    clarify_candidates: int = Field(default=_RETRIEVAL.clarify_candidates, ge=2, le=5)
    clarify_span: float = Field(default=_RETRIEVAL.clarify_span, gt=0)
    tie_epsilon: float = Field(default=_RETRIEVAL.tie_epsilon, ge=0, le=1)
    twin_margin: float = Field(default=_RETRIEVAL.twin_margin, ge=0, le=10)
    calibrate: bool = _RETRIEVAL.calibrate  # fit the decision thresholds to the base at build time


class KnowledgeSettings(Section):
    content_dir: Path = Path("knowledge/content")
    encoder: str = "e5-small-offline"
    quantize: Literal["none", "int8"] = "int8"
    model_cache_dir: Path = Path("var/models")
    refresh_seconds: float = Field(default=1.0, gt=0, le=60)
    retrieval: RetrievalSettings = RetrievalSettings()


class RasaSettings(Section):
    """The Rasa server the chat talks to, and when to stop waiting for it (degraded mode)."""

    url: str = "http://127.0.0.1:5005"
    token: SecretStr = SecretStr("")
    venv: Path = Path(".venv-rasa")
    model: Path = Path("models/bot1999.tar.gz")
    # what Rasa sends to the bot's action endpoint (/actions/webhook); bot1999 run and
    # run-cluster make one per run when it is empty, and the endpoint refuses every call without one
    actions_token: SecretStr = SecretStr("")
    timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    cool_off_seconds: float = Field(default=10.0, ge=0, le=600)


# what a city publishes of its own accord: dispatch cases about the street, not about people
DEFAULT_PUBLIC_CATEGORIES = ("road_pothole", "street_light", "fallen_tree", "road_flooding", "traffic_signal")


class Open311Settings(Section):
    """The Open311 GeoReport v2 API.

    Without a key, anyone reads the cases of ``public_categories`` that a citizen described
    themselves: redacted description, street-level address, coordinates to about 100 m, status
    and dates. A ``read_keys`` key also reads the other categories' citizen-described cases,
    with exact coordinates and the photo reference. Filing needs one of ``api_keys``. Cases
    built from a conversation are never served, whatever the key.
    """

    api_keys: list[SecretStr] = []
    read_keys: list[SecretStr] = []
    public_categories: list[str] = list(DEFAULT_PUBLIC_CATEGORIES)
    jurisdiction_id: str = "1999.city.gov.tw"

    @field_validator("public_categories")
    @classmethod
    def _dispatch_categories_only(cls, value: list[str]) -> list[str]:
        from bot.cases import CATEGORIES

        dispatch = {c.code for c in CATEGORIES if c.dispatch}
        unknown = [code for code in value if code not in dispatch]
        if unknown:
            raise ValueError(
                f"only dispatch categories may be public ({', '.join(sorted(dispatch))}); "
                f"not {', '.join(unknown)}"
            )
        return list(dict.fromkeys(value))


class StatusCheckSettings(Section):
    """Status checks (a case number and the last 3 digits of its phone): after ``max_failures``
    wrong answers for one case number within ``window_minutes`` — from whoever, over any
    channel — that number's status checks are refused for ``lockout_minutes``."""

    max_failures: int = Field(default=5, ge=1, le=100)
    window_minutes: float = Field(default=60.0, gt=0, le=7 * 24 * 60)
    lockout_minutes: float = Field(default=60.0, gt=0, le=7 * 24 * 60)


_AGENT_HOURS = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d-(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$")


class HandoffSettings(Section):
    """Talking to a person: when agents answer, and how pushes (case notices, agents' words) go out.

    ``presence`` says where agents' heartbeats are kept: ``sql`` (the database; one replica or a
    few) or ``redis`` (``presence_redis_url``, keys under ``presence_prefix``; shared by replicas).
    """

    agent_hours: str = "08:00-22:00"
    timezone: str = "Asia/Taipei"
    presence_seconds: float = Field(default=90.0, ge=10, le=3600)
    presence: Literal["sql", "redis"] = "sql"
    presence_redis_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    presence_prefix: str = Field(default="bot1999:presence:", min_length=1, max_length=100)
    queue_timeout_seconds: float = Field(default=300.0, ge=10, le=86400)
    delivery_poll_seconds: float = Field(default=2.0, gt=0, le=60)
    retry_base_seconds: float = Field(default=5.0, gt=0, le=3600)
    retry_max_seconds: float = Field(default=600.0, gt=0, le=86400)
    give_up_hours: float = Field(default=72.0, gt=0, le=24 * 30)
    push_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    filed_notice_grace_seconds: float = Field(default=30.0, ge=0, le=3600)
    web_outbox_days: int = Field(default=7, ge=1, le=365)

    @field_validator("agent_hours")
    @classmethod
    def _hours_range(cls, value: str) -> str:
        value = value.strip()
        if not _AGENT_HOURS.match(value):
            raise ValueError('write the hours as "HH:MM-HH:MM" (e.g. "08:00-22:00"; "00:00-24:00" all day)')
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Taipei)") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The city's time zone: agents' hours, and every time a person reads (replies, pages, exports)."""
        return ZoneInfo(self.timezone)


DEVELOPMENT_PSEUDONYM_KEY = "development-only-pseudonym-key"


class PrivacySettings(Section):
    """``pseudonym_key`` turns channel user ids into pseudonymous ids; keep it secret and fixed."""

    pseudonym_key: SecretStr = SecretStr(DEVELOPMENT_PSEUDONYM_KEY)
    # ``bot1999 purge``: raw turn text and channel addresses, and the personal data of closed cases
    retention_days: int = Field(default=90, ge=1, le=3650)
    case_retention_days: int = Field(default=365, ge=1, le=3650)


class RateLimit(Section):
    """At most ``requests`` in any ``per_seconds`` (a token bucket: bursts of up to ``requests``)."""

    model_config = ConfigDict(frozen=True)

    requests: int = Field(ge=1, le=1_000_000)
    per_seconds: float = Field(gt=0, le=86_400)


class LimitsSettings(Section):
    """Rate limits per citizen and per client address, and the largest request body accepted.

    ``backend`` ``memory`` counts in each process; ``redis`` shares the counts between replicas.
    ``trusted_proxies`` are the load balancers whose ``X-Forwarded-For`` names the real client.
    """

    backend: Literal["memory", "redis"] = "memory"
    redis_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    redis_prefix: str = Field(default="bot1999:rl:", min_length=1, max_length=100)
    chat_per_sender: RateLimit = RateLimit(requests=30, per_seconds=60)
    chat_per_ip: RateLimit = RateLimit(requests=300, per_seconds=60)
    channel_per_sender: RateLimit = RateLimit(requests=30, per_seconds=60)
    webhook_per_ip: RateLimit = RateLimit(requests=3000, per_seconds=60)
    case_form_per_ip: RateLimit = RateLimit(requests=30, per_seconds=600)
    open311_per_ip: RateLimit = RateLimit(requests=120, per_seconds=60)
    login_per_ip: RateLimit = RateLimit(requests=20, per_seconds=300)
    trusted_proxies: list[str] = []
    max_body_kb: int = Field(default=256, ge=1, le=102_400)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network (e.g. 10.0.0.0/8)") from None
        return value


class SecuritySettings(Section):
    """Response headers: ``hsts_seconds`` > 0 sends Strict-Transport-Security (serve over HTTPS only)."""

    hsts_seconds: int = Field(default=0, ge=0, le=63_072_000)


class ConsoleSettings(Section):
    """The staff console: when an answer counts as stale, how large an import may be."""

    stale_after_days: int = Field(default=365, ge=1, le=3650)
    import_max_mb: int = Field(default=20, ge=1, le=500)
    duplicate_threshold: float = Field(default=0.6, gt=0, le=1)


class LineSettings(Section):
    """The LINE Messaging API channel: on when both the secret and the access token are set."""

    channel_secret: SecretStr = SecretStr("")
    channel_access_token: SecretStr = SecretStr("")
    api_base_url: str = Field(default="https://api.line.me", pattern=r"^https?://")
    data_api_base_url: str = Field(default="https://api-data.line.me", pattern=r"^https?://")

    @property
    def enabled(self) -> bool:
        return bool(self.channel_secret.get_secret_value() and self.channel_access_token.get_secret_value())


class TelegramSettings(Section):
    """The Telegram bot: on when ``bot_token`` is set.

    ``webhook`` mode: Telegram posts updates to ``/channels/telegram/webhook`` with
    ``webhook_secret`` in ``X-Telegram-Bot-Api-Secret-Token``. ``polling`` mode: the
    ``bot1999 telegram-poll`` process fetches updates and hands them to the same route.
    An empty ``webhook_secret`` is derived from the token.
    """

    bot_token: SecretStr = SecretStr("")
    webhook_secret: SecretStr = SecretStr("")
    api_base_url: str = Field(default="https://api.telegram.org", pattern=r"^https?://")
    mode: Literal["webhook", "polling"] = "webhook"

    @field_validator("webhook_secret")
    @classmethod
    def _telegram_secret_alphabet(cls, value: SecretStr) -> SecretStr:
        secret = value.get_secret_value()
        if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ValueError("1-256 characters, only A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return value

    @property
    def enabled(self) -> bool:
        return bool(self.bot_token.get_secret_value())


class ChannelsSettings(Section):
    """LINE and Telegram, and the citizens' photos they bring in."""

    line: LineSettings = LineSettings()
    telegram: TelegramSettings = TelegramSettings()
    public_base_url: str = Field(default="", pattern=r"^(https?://.+)?$")
    media_dir: Path = Path("var/media")
    max_photo_bytes: int = Field(default=10_000_000, ge=10_000, le=50_000_000)


class WebSettings(Section):
    """The web chat: the origins (scheme://host[:port]) of other sites that embed the widget."""

    allowed_origins: list[str] = []

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if origin != "*" and not re.fullmatch(r"https?://[^/\s]+", origin):
                raise ValueError(f"{origin!r} is not an origin like https://www.city.gov.tw (no path)")
        return value


class LearningSettings(Section):
    """Learning from failures: how failed questions are grouped in the console's queue."""

    cluster_threshold: float = Field(default=0.3, ge=0.05, le=0.95)
    # A cluster's page ticks the engine's best FAQ in advance only at this confidence or more.
    preselect_confidence: float = Field(default=0.6, ge=0.0, le=1.0)
    default_days: int = Field(default=30, ge=1, le=366)
    max_questions: int = Field(default=50_000, ge=100, le=1_000_000)
    cache_seconds: float = Field(default=60.0, ge=0, le=3600)


class HarvestSettings(Section):
    """The periodic harvest of the city FAQ service (``bot.harvest``).

    ``schedule``: "" (off), hourly, daily, weekly, an interval (6h, 7d) or five cron fields
    (``0 3 * * 1``: Mondays 03:00, city time). ``upstream_changes``: "apply" an upstream change
    to fields staff did not override, or hold every change for "review". ``new_entries``: the
    status of entries new upstream. One replica harvests at a time, under a lease of
    ``lease_seconds`` renewed while it runs; ``poll_seconds``: how often each replica looks.
    """

    schedule: str = ""
    base_url: str = "https://soweb.kcg.gov.tw"
    state_dir: Path = Path("var/scrape/kaohsiung")
    rate: float = Field(default=3.0, ge=0.1, le=3.0)
    upstream_changes: Literal["apply", "review"] = "apply"
    new_entries: Literal["published", "draft"] = "published"
    lease_seconds: float = Field(default=900.0, ge=5, le=86_400)
    poll_seconds: float = Field(default=60.0, gt=0, le=3600)

    @field_validator("schedule")
    @classmethod
    def _readable(cls, value: str) -> str:
        from bot.schedule import parse_schedule

        parse_schedule(value, ZoneInfo("Asia/Taipei"))
        return value


class CitizenLearningSettings(Section):
    """Learning from citizens: phrasings confirmed by "did you mean" picks and "helpful" ratings
    become suggested alternative questions (``bot.learning.confirmed``, ``bot.learning.suggestions``)."""

    min_citizens: int = Field(default=2, ge=1, le=1000)  # distinct citizens before a phrasing is suggested
    daily_cap: int = Field(default=20, ge=1, le=10_000)  # pairings one citizen may contribute a day
    auto_approve: bool = False  # publish without a person at auto_min_citizens (listed, rollable back)
    auto_min_citizens: int = Field(default=3, ge=2, le=1000)


class ClusterSettings(Section):
    """``bot1999 run-cluster``: ``replicas`` of Rasa and the bot (which serves Rasa's actions) on
    this machine behind a load balancer on ``balancer_port``, sharing the PostgreSQL ``database_url``
    (stores and Rasa's tracker store) and the Redis of ``limits.redis_url`` (rate limits, Rasa's
    lock store). Replica ``i`` (0-based) listens on ``bot_port + i`` and ``rasa_port + i``.
    """

    replicas: int = Field(default=2, ge=1, le=8)
    database_url: SecretStr = SecretStr("postgresql://postgres@127.0.0.1:5432/bot1999_cluster")
    balancer_host: str = "127.0.0.1"
    balancer_port: int = Field(default=8000, ge=1, le=65535)
    bot_port: int = Field(default=8001, ge=1, le=65527)
    rasa_port: int = Field(default=5006, ge=1, le=65527)
    health_interval_seconds: float = Field(default=1.0, gt=0, le=60)
    lock_store_prefix: str = Field(default="bot1999", pattern=r"^[A-Za-z0-9]{1,40}$")

    @field_validator("database_url")
    @classmethod
    def _postgresql(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith(("postgresql://", "postgresql+psycopg://")):
            raise ValueError("replicas share PostgreSQL: must start with postgresql://")
        return value

    @model_validator(mode="after")
    def _ports_apart(self) -> ClusterSettings:
        ranges = {
            "balancer_port": range(self.balancer_port, self.balancer_port + 1),
            "bot_port": range(self.bot_port, self.bot_port + self.replicas),
            "rasa_port": range(self.rasa_port, self.rasa_port + self.replicas),
        }
        names = list(ranges)
        for n, first in enumerate(names):
            for second in names[n + 1 :]:
                if set(ranges[first]) & set(ranges[second]):
                    raise ValueError(
                        f"{first} and {second} overlap with {self.replicas} replicas (replica i uses port + i)"
                    )
        return self


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
    status_check: StatusCheckSettings = StatusCheckSettings()
    handoff: HandoffSettings = HandoffSettings()
    privacy: PrivacySettings = PrivacySettings()
    console: ConsoleSettings = ConsoleSettings()
    channels: ChannelsSettings = ChannelsSettings()
    web: WebSettings = WebSettings()
    limits: LimitsSettings = LimitsSettings()
    security: SecuritySettings = SecuritySettings()
    learning: LearningSettings = LearningSettings()
    citizen_learning: CitizenLearningSettings = CitizenLearningSettings()
    cluster: ClusterSettings = ClusterSettings()
    harvest: HarvestSettings = HarvestSettings()

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


def local_zone() -> ZoneInfo:
    """The zone in which people read times (``handoff.timezone``; the stores keep UTC)."""
    return get_settings().handoff.zone
