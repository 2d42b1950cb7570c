"""ORM tables. Schema changes go through an Alembic migration in ``bot/store/migrations``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "Base",
    "CaseCounterRow",
    "CaseEventRow",
    "CaseRow",
    "DuplicateDismissalRow",
    "FaqDraftRow",
    "FaqOverrideRow",
    "FaqReviewRow",
    "FaqRevisionRow",
    "FaqRow",
    "FaqSourceRow",
    "HarvestLeaseRow",
    "HarvestRunRow",
    "FailureResolutionKeyRow",
    "FailureResolutionRow",
    "HandoffRow",
    "ImportJobRow",
    "KbVersionRow",
    "LearnedPairingRow",
    "LearnedPhrasingRow",
    "MetricDayRow",
    "MetricStateRow",
    "MetricTurnRow",
    "NotificationRow",
    "AgentPresenceRow",
    "AuditRow",
    "ButtonPayloadRow",
    "ChannelEventRow",
    "ConversationRow",
    "SessionRow",
    "SynonymRuleRow",
    "SynonymVersionRow",
    "TurnRow",
    "UserRow",
    "WebOutboxRow",
    "UtcDateTime",
    "utcnow",
]


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A point in time, stored as ``timestamp with time zone`` and always read back aware, in UTC.

    PostgreSQL keeps the zone; SQLite keeps none and returns naive values. This one column type
    makes both return the same thing, so no caller guesses. A naive value is refused on write:
    every time the code makes is aware (``utcnow``, an injected clock).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"a naive datetime cannot be stored (which zone is {value.isoformat()}?)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}


class FaqRow(Base):
    """One FAQ entry; ``revision`` counts its changes and guards concurrent edits."""

    __tablename__ = "faq"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    alt_questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    agency: Mapped[str] = mapped_column(String(200), default="", index=True)
    category: Mapped[str] = mapped_column(String(200), default="", index=True)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    source_url: Mapped[str] = mapped_column(Text, default="")
    sources: Mapped[list[str]] = mapped_column(JSON, default=list)
    post_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    revise_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    question_key: Mapped[str] = mapped_column(String(500), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)

    __mapper_args__ = {"version_id_col": revision}


class FaqRevisionRow(Base):
    """Every change of an entry: who, when, what, and the content before and after."""

    __tablename__ = "faq_revision"
    __table_args__ = (Index("ix_faq_revision_faq_id_revision", "faq_id", "revision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    faq_id: Mapped[str] = mapped_column(String(64), ForeignKey("faq.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class KbVersionRow(Base):
    """One row per change of what citizens are answered from; the largest id is the live version."""

    __tablename__ = "kb_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text, default="")
    changed: Mapped[int] = mapped_column(Integer, default=0)


class CaseRow(Base):
    """A citizen's case. ``phone`` is personal data: shown to agents, never in analytics."""

    __tablename__ = "case_file"
    __table_args__ = (Index("ix_case_file_status_due_at", "status", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    category: Mapped[str] = mapped_column(String(40), index=True)
    agency: Mapped[str] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    location_text: Mapped[str] = mapped_column(Text, default="")
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    photo_ref: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    contact_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(20), index=True)
    sender_id: Mapped[str] = mapped_column(String(100), index=True)
    conversation_id: Mapped[str] = mapped_column(String(100), default="")
    # ``citizen``: the description is what the citizen wrote for the case (the form, the chat's
    # case form, Open311); ``conversation``: it is an excerpt of a conversation (a request for a
    # person that became a case), which is never public
    origin: Mapped[str] = mapped_column(String(16), default="citizen", server_default="citizen")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": revision}


class StatusCheckRow(Base):
    """Failed status checks of one case number, whoever sent them: a few in a window lock the
    number out of status checks for a while (``status_check`` settings)."""

    __tablename__ = "status_check"

    case_number: Mapped[str] = mapped_column(String(40), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_failure_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class CaseEventRow(Base):
    """One step of a case's life: the status it moved to, when, by whom, and why."""

    __tablename__ = "case_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(Integer, ForeignKey("case_file.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")


class CaseCounterRow(Base):
    """The last sequence number handed out on a day (``YYMMDD``)."""

    __tablename__ = "case_counter"

    day: Mapped[str] = mapped_column(String(6), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class TurnRow(Base):
    """One citizen message and the bot's answer to it: what the supervisors' metrics read.

    ``sender`` is pseudonymous (a keyed hash of channel and user id). ``text`` is what the
    citizen wrote, kept for the case transcript under the retention setting;
    ``text_redacted`` has ID numbers, phones and e-mail replaced and is what analytics use.
    """

    __tablename__ = "turn"
    __table_args__ = (
        Index("ix_turn_at_channel", "at", "channel"),
        Index("ix_turn_conversation_at", "conversation_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(100))
    sender: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    text: Mapped[str] = mapped_column(Text, default="")
    text_redacted: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[str] = mapped_column(String(200), default="")
    intent: Mapped[str] = mapped_column(String(40), default="")
    intent_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    decision: Mapped[str] = mapped_column(String(16), default="", index=True)
    candidates: Mapped[list[str]] = mapped_column(JSON, default=list)
    faq_id: Mapped[str] = mapped_column(String(64), default="", index=True)
    category: Mapped[str] = mapped_column(String(200), default="")
    agency: Mapped[str] = mapped_column(String(200), default="")
    reply: Mapped[list[str]] = mapped_column(JSON, default=list)
    latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    degraded: Mapped[bool] = mapped_column(Boolean, default=False)
    feedback: Mapped[str] = mapped_column(String(8), default="")


class UserRow(Base):
    """A staff account. ``role`` is staff, supervisor or admin; the password is an argon2 hash."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class SessionRow(Base):
    """A log-in session; the cookie holds ``token``, forms and API calls echo ``csrf_token``."""

    __tablename__ = "app_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class AuditRow(Base):
    """Who did what to what, and when: every change made through the console or the CLI."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100), index=True)
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# --- channels (migration 0005) -------------------------------------------------------------


class ConversationRow(Base):
    """Where a pseudonymous conversation can be reached: the channel and its own address.

    ``id`` is the chat service's conversation id (a keyed hash of channel and user id);
    ``address`` is what the channel needs to push a message (the web sender id, a LINE user id,
    a Telegram chat id). Notifications and a live agent's replies are sent through it.
    """

    __tablename__ = "conversation"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)


class ChannelEventRow(Base):
    """A channel event accepted once (LINE webhook event id, Telegram update id, web message id).

    Redelivered events are recognised by the unique (channel, event_id) pair and not answered twice.
    An accepted event keeps its raw ``payload`` until it is handled, so that an event whose
    processing was interrupted is picked up again (``claimed_at`` is the lease of the process
    working on it); ``response`` keeps what was answered, for a repeated web message.
    """

    __tablename__ = "channel_event"

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    handled_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class ButtonPayloadRow(Base):
    """A button payload too long for a channel's button data (Telegram: 64 bytes), by short token."""

    __tablename__ = "button_payload"

    token: Mapped[str] = mapped_column(String(40), primary_key=True)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)


# --- handoff: notifications, takeover (migration 0006) ---------------------------------------


class NotificationRow(Base):
    """The outbox: a message to push to a conversation outside a reply to the citizen's own message.

    Case notices (filed, assigned, closed), a person joining or leaving, an agent's words. It is
    written in the same transaction as the change it reports and delivered by the delivery loop
    through the conversation's channel; a failed push is retried with backoff (``next_attempt_at``)
    until ``delivered_at``, or given up (``failed_at``) after the configured hours. A delivery
    claims a row with ``claim_token`` until ``claimed_until`` (a lease), so two replicas never
    push the same row at once. ``dedupe_key`` makes enqueueing the same notice twice a no-op.
    """

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_conversation_id_id", "conversation_id", "id"),
        Index("ix_notification_pending", "delivered_at", "failed_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    replies: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    case_number: Mapped[str] = mapped_column(String(20), default="", index=True)
    agent: Mapped[str] = mapped_column(String(64), default="")
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    claim_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    delivered_via: Mapped[str] = mapped_column(String(10), default="")
    failed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class HandoffRow(Base):
    """A conversation handed to a person: ``queued`` (waiting), ``held`` (an agent talks), ``released``.

    ``open_key`` is the conversation id while the handoff is queued or held and NULL once released:
    its unique index allows one open handoff per conversation, on every database.
    """

    __tablename__ = "handoff"
    __table_args__ = (Index("ix_handoff_state_requested_at", "state", "requested_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(100), index=True)
    open_key: Mapped[str | None] = mapped_column(String(100), unique=True, nullable=True)
    channel: Mapped[str] = mapped_column(String(20), default="")
    state: Mapped[str] = mapped_column(String(10))
    agent: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    case_number: Mapped[str] = mapped_column(String(20), default="")
    ended_by: Mapped[str] = mapped_column(String(20), default="")
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    taken_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class AgentPresenceRow(Base):
    """When an agent's inbox last checked in, and whether they take conversations now."""

    __tablename__ = "agent_presence"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    available: Mapped[bool] = mapped_column(Boolean, default=True)


class WebOutboxRow(Base):
    """A message pushed to a web-widget citizen, kept until the widget fetches it (and a while after)."""

    __tablename__ = "web_outbox"
    __table_args__ = (Index("ix_web_outbox_address_id", "address", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    address: Mapped[str] = mapped_column(String(200))
    reply: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)


# --- console: knowledge-base curation (migration 0007) ---------------------------------------


class FaqDraftRow(Base):
    """Unpublished changes to an entry, kept apart while the published text goes on answering.

    ``content`` is the entry's content as ``FaqRecord.content()``; ``base_revision`` is the
    entry's revision the draft was made on (publishing refuses if the entry moved on since).
    """

    __tablename__ = "faq_draft"

    faq_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("faq.id", ondelete="CASCADE"), primary_key=True
    )
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    base_revision: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class SynonymRuleRow(Base):
    """A staff synonym rule being edited: ``variant`` (folded) → ``canonical``.

    An empty ``canonical`` switches off the shipped rule for ``variant``. Rules reach
    retrieval only when published as a :class:`SynonymVersionRow`.
    """

    __tablename__ = "synonym_rule"

    variant: Mapped[str] = mapped_column(String(100), primary_key=True)
    canonical: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class SynonymVersionRow(Base):
    """A published set of staff synonym rules; the largest id is live (merged over the shipped list)."""

    __tablename__ = "synonym_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text, default="")
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)  # {variant: canonical}


class DuplicateDismissalRow(Base):
    """Two entries a member of staff judged not to be duplicates (ids in sorted order)."""

    __tablename__ = "duplicate_dismissal"

    first_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    second_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ImportJobRow(Base):
    """One import started from the console: progress while it runs, its report when done."""

    __tablename__ = "import_job"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    actor: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(300))
    fmt: Mapped[str] = mapped_column(String(20))
    merge_duplicates: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), index=True)  # queued, running, done, failed
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


# --- metrics: supervisor dashboard (migration 0008) ------------------------------------------


class MetricTurnRow(Base):
    """What the supervisors' figures count, derived from one turn (``bot.metrics.outcomes``).

    Rebuilt conversation by conversation from the turn log (``bot.metrics.refresh``); the flags
    are 0/1 integers so that ``SUM`` counts them on every backend. ``day`` is the local
    (Asia/Taipei) date as ``YYYY-MM-DD`` (``month``: ``YYYY-MM``); ``category``/``agency`` are the topic the turn is
    attributed to. ``text_key``/``text_sample`` (normalised and redacted text) are kept only
    for questions that were not answered, to list the top unanswered ones.
    """

    __tablename__ = "metric_turn"
    __table_args__ = (
        # covering indexes in sender order per grouping, so unique users are counted without a
        # sort; in latency order for the median; by conversation and time for handoff topics
        Index("ix_metric_turn_day_sender", "day", "sender", "channel", "category", "agency"),
        Index("ix_metric_turn_month_sender", "month", "sender", "day", "channel", "category", "agency"),
        Index("ix_metric_turn_sender", "sender", "day", "channel", "category", "agency"),
        Index("ix_metric_turn_channel_sender", "channel", "sender", "day", "category", "agency"),
        Index("ix_metric_turn_category_sender", "category", "sender", "day", "channel", "agency"),
        Index("ix_metric_turn_agency_sender", "agency", "sender", "day", "channel", "category"),
        Index("ix_metric_turn_latency", "latency_ms", "day", "channel", "category", "agency"),
        Index("ix_metric_turn_conversation_at", "conversation_id", "at"),
        Index("ix_metric_turn_text_key", "text_key", "day"),
    )

    turn_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    conversation_id: Mapped[str] = mapped_column(String(100))
    sender: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    day: Mapped[str] = mapped_column(String(10))
    month: Mapped[str] = mapped_column(String(7))
    category: Mapped[str] = mapped_column(String(200), default="")
    agency: Mapped[str] = mapped_column(String(200), default="")
    question: Mapped[int] = mapped_column(Integer, default=0)
    decision: Mapped[str] = mapped_column(String(16), default="")
    answered: Mapped[int] = mapped_column(Integer, default=0)
    successful: Mapped[int] = mapped_column(Integer, default=0)
    handoff: Mapped[int] = mapped_column(Integer, default=0)
    feedback: Mapped[str] = mapped_column(String(8), default="")
    latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    degraded: Mapped[int] = mapped_column(Integer, default=0)
    text_key: Mapped[str] = mapped_column(String(200), default="")
    text_sample: Mapped[str] = mapped_column(Text, default="")


class MetricDayRow(Base):
    """``metric_turn`` summed per local day, channel, category and agency: what the counts read."""

    __tablename__ = "metric_day"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    category: Mapped[str] = mapped_column(String(200), primary_key=True)
    agency: Mapped[str] = mapped_column(String(200), primary_key=True)
    turns: Mapped[int] = mapped_column(Integer, default=0)
    questions: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    successful: Mapped[int] = mapped_column(Integer, default=0)
    clarified: Mapped[int] = mapped_column(Integer, default=0)
    abstained: Mapped[int] = mapped_column(Integer, default=0)
    feedback_good: Mapped[int] = mapped_column(Integer, default=0)
    feedback_bad: Mapped[int] = mapped_column(Integer, default=0)
    timed: Mapped[int] = mapped_column(Integer, default=0)


class MetricStateRow(Base):
    """How far ``metric_turn`` has been brought: the last turn id seen and when."""

    __tablename__ = "metric_state"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_turn_id: Mapped[int] = mapped_column(Integer, default=0)
    refreshed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


# --- learning from failures (migration 0009) ------------------------------------------------


class FailureResolutionRow(Base):
    """A cluster of failed questions that staff handled, and how (``bot.learning``).

    ``action`` is ``alternatives`` (its phrasings became alternative questions of ``faq_id``),
    ``draft`` (a new FAQ draft ``faq_id`` was opened from it) or ``dismiss`` (not a knowledge-base
    matter). Failures of the listed phrasings up to ``at`` no longer appear in the queue.
    """

    __tablename__ = "failure_resolution"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(16))
    faq_id: Mapped[str] = mapped_column(String(64), default="")
    label: Mapped[str] = mapped_column(Text, default="")
    questions: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(Text, default="")


class FailureResolutionKeyRow(Base):
    """One phrasing (its normalised ``question_key``) covered by a resolution."""

    __tablename__ = "failure_resolution_key"

    resolution_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("failure_resolution.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(500), primary_key=True, index=True)


# --- knowledge base: the source layer, staff overrides, upstream review, harvests (migration 0011)


class FaqSourceRow(Base):
    """What the source says about an entry, as last harvested or imported (``bot.store.faq_layers``).

    ``content`` holds the source fields (``SOURCE_FIELDS``), JSON-ready. ``gone_at`` is set when
    a complete harvest of ``origin`` no longer lists the entry (it is flagged, never deleted).
    """

    __tablename__ = "faq_source"

    faq_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("faq.id", ondelete="CASCADE"), primary_key=True
    )
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    origin: Mapped[str] = mapped_column(String(32), default="file", index=True)
    harvested_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    gone_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class FaqOverrideRow(Base):
    """One field of an entry that staff set: it wins over the source layer until staff take theirs."""

    __tablename__ = "faq_override"

    faq_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("faq.id", ondelete="CASCADE"), primary_key=True
    )
    field: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class FaqReviewRow(Base):
    """An upstream change waiting for staff: ``kind`` "upstream" (a change to fields staff
    overrode, or any change while upstream changes are held) or "gone" (no longer listed).

    ``fields`` are the fields changed upstream; ``conflicts`` those of them staff overrode.
    ``old_source``/``new_source``/``ours`` hold the three texts of those fields. ``held``: the
    source layer still has the old text (applied when resolved). ``status`` is "open" until
    resolved ("kept", "taken", "edited", "archived").
    """

    __tablename__ = "faq_review"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    faq_id: Mapped[str] = mapped_column(String(64), ForeignKey("faq.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    conflicts: Mapped[list[str]] = mapped_column(JSON, default=list)
    old_source: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    new_source: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ours: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    held: Mapped[bool] = mapped_column(Boolean, default=False)
    run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    resolved_by: Mapped[str] = mapped_column(String(100), default="")


class HarvestRunRow(Base):
    """One harvest of the city FAQ service: its counts, and where it stands while it runs."""

    __tablename__ = "harvest_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trigger: Mapped[str] = mapped_column(String(16))  # schedule, manual, cli
    actor: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), index=True)  # running, done, failed
    holder: Mapped[str] = mapped_column(String(100), default="")
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class HarvestLeaseRow(Base):
    """Who may harvest now: one row per job name, held until ``until`` by one replica."""

    __tablename__ = "harvest_lease"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100), default="")
    until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


# --- learning from citizens (migration 0012) ------------------------------------------------


class LearnedPairingRow(Base):
    """A phrasing a citizen confirmed means an FAQ (``bot.learning.confirmed``).

    ``turn_id`` is the answer turn that confirms it: the pick from a "did you mean" list
    (``source`` ``pick``) or a direct answer rated helpful (``helpful``). ``verdict`` is
    ``confirmed``, or ``unhelpful`` when the citizen rated that answer "did not help".
    ``phrasing`` is normalised and never carries personal data (such phrasings are not kept);
    ``phrasing_key`` groups near-identical phrasings. ``sender`` is the pseudonym.
    """

    __tablename__ = "learned_pairing"
    __table_args__ = (Index("ix_learned_pairing_sender_at", "sender", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    turn_id: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    sender: Mapped[str] = mapped_column(String(64))
    faq_id: Mapped[str] = mapped_column(String(64), index=True)
    phrasing: Mapped[str] = mapped_column(String(500))
    phrasing_key: Mapped[str] = mapped_column(String(500), index=True)
    source: Mapped[str] = mapped_column(String(8))
    verdict: Mapped[str] = mapped_column(String(10))


class LearnedPhrasingRow(Base):
    """What was decided about a suggested phrasing for an FAQ: ``approved`` (by staff),
    ``auto`` (auto-approved), ``rejected``, or ``rolled_back`` (an approval taken back)."""

    __tablename__ = "learned_phrasing"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    phrasing_key: Mapped[str] = mapped_column(String(500))
    faq_id: Mapped[str] = mapped_column(String(64), index=True)
    phrasing: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(12), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    citizens: Mapped[int] = mapped_column(Integer, default=0)
    revision: Mapped[int] = mapped_column(Integer, default=0)  # the entry's revision it made (approvals)
