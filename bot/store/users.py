"""Staff accounts: roles, argon2 passwords, lock-out, sessions with CSRF tokens, the audit log."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.store.models import AuditRow, SessionRow, UserRow, utcnow

__all__ = [
    "AccountError",
    "LoginResult",
    "Role",
    "UserStore",
    "is_locked",
    "LOCKOUT_AFTER",
    "LOCKOUT_FOR",
    "SESSION_LIFETIME",
    "MIN_PASSWORD_CHARS",
]

LOCKOUT_AFTER = 5
LOCKOUT_FOR = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=8)
MIN_PASSWORD_CHARS = 12
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._\-]{1,63}$")
_hasher = PasswordHasher()


class Role(StrEnum):
    STAFF = "staff"  # curates the knowledge base, works cases
    SUPERVISOR = "supervisor"  # reads metrics and reports
    ADMIN = "admin"  # users and settings, and everything else


class AccountError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class LoginResult:
    """``token`` goes in the cookie (only its hash is stored); ``reason`` says why a log-in failed."""

    user: UserRow | None
    token: str = ""
    csrf_token: str = ""
    reason: str = ""


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def is_locked(user: UserRow, now: datetime | None = None) -> bool:
    """True while the account is locked out after repeated failed log-ins."""
    return user.locked_until is not None and user.locked_until > (now or utcnow())


class UserStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def audit(self, actor: str, action: str, target: str = "", **detail: Any) -> None:
        self.session.add(AuditRow(at=utcnow(), actor=actor, action=action, target=target, detail=detail))

    def create(
        self, username: str, password: str, role: Role, *, actor: str, display_name: str = ""
    ) -> UserRow:
        username = username.strip().lower()
        if not _USERNAME.match(username):
            raise AccountError("username: 2-64 lower-case letters, digits, '.', '_' or '-'")
        if len(password) < MIN_PASSWORD_CHARS:
            raise AccountError(f"password: at least {MIN_PASSWORD_CHARS} characters")
        if self.session.scalar(select(UserRow).where(UserRow.username == username)) is not None:
            raise AccountError(f"username: {username} exists")
        user = UserRow(
            username=username,
            display_name=display_name or username,
            role=role.value,
            password_hash=_hasher.hash(password),
            active=True,
            failed_logins=0,
            created_at=utcnow(),
        )
        self.session.add(user)
        self.session.flush()
        self.audit(actor, "user.create", username, role=role.value)
        return user

    def by_username(self, username: str) -> UserRow | None:
        return self.session.scalar(select(UserRow).where(UserRow.username == username.strip().lower()))

    def _verify(self, username: str, password: str, now: datetime) -> LoginResult:
        """Check a password, counting failures towards the lock-out."""
        user = self.by_username(username)
        if user is None or not user.active:
            _hasher.hash(password)  # the same work whether or not the user exists
            return LoginResult(None, reason="wrong username or password")
        if user.locked_until is not None and user.locked_until > now:
            self.audit(user.username, "login.locked")
            return LoginResult(None, reason="account locked after repeated failures; try again later")
        try:
            _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            user.failed_logins += 1
            if user.failed_logins >= LOCKOUT_AFTER:
                user.locked_until = now + LOCKOUT_FOR
                user.failed_logins = 0
                self.audit(user.username, "login.lockout")
            self.audit(user.username, "login.failed")
            return LoginResult(None, reason="wrong username or password")
        user.failed_logins = 0
        user.locked_until = None
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        return LoginResult(user)

    def check_password(self, username: str, password: str, *, now: datetime | None = None) -> bool:
        """True when ``password`` is the user's; failures count towards the lock-out like log-ins."""
        return self._verify(username, password, now or utcnow()).user is not None

    def login(self, username: str, password: str, *, now: datetime | None = None) -> LoginResult:
        """Check a password; lock the account for a while after repeated failures."""
        now = now or utcnow()
        checked = self._verify(username, password, now)
        user = checked.user
        if user is None:
            return checked
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self.session.add(
            SessionRow(
                token_hash=_token_hash(token),
                user_id=user.id,
                csrf_token=csrf,
                created_at=now,
                expires_at=now + SESSION_LIFETIME,
            )
        )
        self.audit(user.username, "login")
        return LoginResult(user, token, csrf)

    def session_user(self, token: str, *, now: datetime | None = None) -> tuple[UserRow, SessionRow] | None:
        now = now or utcnow()
        row = self.session.get(SessionRow, _token_hash(token))
        if row is None or row.expires_at <= now:
            return None
        user = self.session.get(UserRow, row.user_id)
        if user is None or not user.active:
            return None
        return user, row

    def logout(self, token: str) -> None:
        self.session.execute(delete(SessionRow).where(SessionRow.token_hash == _token_hash(token)))

    def set_password(self, username: str, password: str, *, actor: str) -> None:
        user = self.by_username(username)
        if user is None:
            raise AccountError(f"no user {username}")
        if len(password) < MIN_PASSWORD_CHARS:
            raise AccountError(f"password: at least {MIN_PASSWORD_CHARS} characters")
        user.password_hash = _hasher.hash(password)
        self.session.execute(delete(SessionRow).where(SessionRow.user_id == user.id))
        self.audit(actor, "user.password", user.username)

    def users(self) -> list[UserRow]:
        return list(self.session.scalars(select(UserRow).order_by(UserRow.username)))

    def _user(self, username: str) -> UserRow:
        user = self.by_username(username)
        if user is None:
            raise AccountError(f"no user {username}")
        return user

    def _last_admin(self, user: UserRow) -> bool:
        admins = self.session.scalars(
            select(UserRow.id).where(UserRow.role == Role.ADMIN.value, UserRow.active.is_(True))
        ).all()
        return user.role == Role.ADMIN.value and user.active and list(admins) == [user.id]

    def set_role(self, username: str, role: Role, *, actor: str) -> None:
        """Change a user's role (their sessions end); the last active admin keeps the role."""
        user = self._user(username)
        if user.role == role.value:
            return
        if self._last_admin(user):
            raise AccountError("role: the last active admin cannot lose the admin role")
        before, user.role = user.role, role.value
        self.session.execute(delete(SessionRow).where(SessionRow.user_id == user.id))
        self.audit(actor, "user.role", user.username, before=before, after=role.value)

    def set_active(self, username: str, active: bool, *, actor: str) -> None:
        """Deactivate (ending every session) or reactivate an account; never the last admin."""
        user = self._user(username)
        if user.active == active:
            return
        if not active and self._last_admin(user):
            raise AccountError("active: the last active admin cannot be deactivated")
        user.active = active
        if not active:
            self.session.execute(delete(SessionRow).where(SessionRow.user_id == user.id))
        else:
            user.failed_logins, user.locked_until = 0, None
        self.audit(actor, "user.activate" if active else "user.deactivate", user.username)

    def reset_password(self, username: str, *, actor: str) -> str:
        """Give the user a new random password (returned once; it is not stored) and unlock them."""
        password = secrets.token_urlsafe(12)
        self.set_password(username, password, actor=actor)
        user = self._user(username)
        user.failed_logins, user.locked_until = 0, None
        self.audit(actor, "user.reset_password", user.username)
        return password
