from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.store import Database
from bot.store.models import AuditRow, SessionRow, utcnow
from bot.store.users import LOCKOUT_AFTER, LOCKOUT_FOR, AccountError, Role, UserStore

PASSWORD = "correct horse battery"


def _make(database: Database, name: str = "amy", role: Role = Role.STAFF) -> None:
    with database.session() as session:
        UserStore(session).create(name, PASSWORD, role, actor="cli")


def test_passwords_are_hashed_and_sessions_work(database: Database) -> None:
    _make(database)
    with database.session() as session:
        store = UserStore(session)
        user = store.by_username("AMY")
        assert user is not None
        assert user.password_hash.startswith("$argon2")
        assert PASSWORD not in user.password_hash
        result = store.login("amy", PASSWORD)
        assert result.user is not None
        token = result.token
    with database.session() as session:
        stored = session.scalars(select(SessionRow)).one()
        assert stored.token_hash != token  # only a hash of the cookie is kept
        found = UserStore(session).session_user(token)
        assert found is not None
        assert found[0].role == "staff"
        UserStore(session).logout(token)
    with database.session() as session:
        assert UserStore(session).session_user(token) is None


def test_lockout_after_repeated_failures(database: Database) -> None:
    _make(database)
    now = utcnow()
    with database.session() as session:
        store = UserStore(session)
        for _ in range(LOCKOUT_AFTER):
            assert store.login("amy", "wrong password!!", now=now).reason == "wrong username or password"
        locked = store.login("amy", PASSWORD, now=now + timedelta(minutes=1))
        assert locked.user is None
        assert "locked" in locked.reason
        later = store.login("amy", PASSWORD, now=now + LOCKOUT_FOR + timedelta(seconds=1))
        assert later.user is not None
    with database.session() as session:
        actions = [a.action for a in session.scalars(select(AuditRow).order_by(AuditRow.id))]
    assert actions.count("login.failed") == LOCKOUT_AFTER
    assert {"user.create", "login.lockout", "login.locked", "login"} <= set(actions)


def test_expired_sessions_are_refused(database: Database) -> None:
    _make(database)
    with database.session() as session:
        token = UserStore(session).login("amy", PASSWORD).token
    with database.session() as session:
        assert UserStore(session).session_user(token, now=utcnow() + timedelta(hours=9)) is None


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [("x", PASSWORD, "username"), ("bad name", PASSWORD, "username"), ("bob", "short", "password")],
)
def test_bad_accounts_are_refused(database: Database, username: str, password: str, message: str) -> None:
    with pytest.raises(AccountError, match=message), database.session() as session:
        UserStore(session).create(username, password, Role.ADMIN, actor="cli")


def test_unknown_users_and_duplicates(database: Database) -> None:
    _make(database)
    with pytest.raises(AccountError, match="exists"), database.session() as session:
        UserStore(session).create("amy", PASSWORD, Role.ADMIN, actor="cli")
    with database.session() as session:
        assert UserStore(session).login("nobody", PASSWORD).user is None


def test_a_new_password_ends_old_sessions(database: Database) -> None:
    _make(database)
    with database.session() as session:
        token = UserStore(session).login("amy", PASSWORD).token
    with database.session() as session:
        UserStore(session).set_password("amy", "another long password", actor="admin")
    with database.session() as session:
        assert UserStore(session).session_user(token) is None
        assert UserStore(session).login("amy", "another long password").user is not None
