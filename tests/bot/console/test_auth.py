"""Log-in, log-out, sessions, CSRF and the audit trail, through the real pages and store."""

from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.app import create_app
from bot.store import Database
from bot.store.models import AuditRow, SessionRow, UserRow, utcnow
from bot.store.users import LOCKOUT_AFTER
from tests.bot.console.client import PASSWORD, create_user, login, login_as, login_form_token
from tests.conftest import app_settings


def _db(client: TestClient) -> Database:
    database: Database = client.app.state.database  # type: ignore[attr-defined]
    return database


def _audit(client: TestClient) -> list[tuple[str, str, str]]:
    with _db(client).session() as session:
        rows = session.scalars(select(AuditRow).order_by(AuditRow.id))
        return [(row.actor, row.action, row.target) for row in rows]


def _post_login(client: TestClient, username: str, password: str) -> int:
    data = {"username": username, "password": password, "csrf_token": login_form_token(client)}
    return client.post("/console/login", data=data, follow_redirects=False).status_code


def test_pages_send_strangers_to_the_log_in_page_and_apis_answer_401(console: TestClient) -> None:
    page = console.get("/console/audit?actor=垃圾", follow_redirects=False)
    assert page.status_code == 303
    wanted = "/console/audit?actor=%E5%9E%83%E5%9C%BE"
    assert page.headers["location"] == "/console/login?next=" + quote(wanted, safe="")
    form = console.get(page.headers["location"])
    assert form.status_code == 200
    assert f'name="next" value="{wanted}"' in form.text
    assert "default-src 'none'" in form.headers["content-security-policy"]
    api = console.get("/console/api/session")
    assert (api.status_code, api.json()["detail"]) == (401, "please log in to the console")


def test_log_in_lands_on_the_page_asked_for_with_a_strict_cookie(console: TestClient) -> None:
    create_user(console, "amy", "staff")
    data = {
        "username": "AMY",
        "password": PASSWORD,
        "csrf_token": login_form_token(console),
        "next": "/console/kb?page=1",
    }
    response = console.post("/console/login", data=data, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/console/kb?page=1")
    cookie = response.headers["set-cookie"].lower()
    assert "bot1999_console=" in cookie
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "secure" not in cookie  # development over plain http on loopback
    info = console.get("/console/api/session").json()
    assert (info["username"], info["role"]) == ("amy", "staff")
    assert len(info["csrf_token"]) > 20


def test_next_never_leaves_the_console(console: TestClient) -> None:
    create_user(console, "amy", "staff")
    for target in ("https://evil.example/", "//evil.example/console", "/console\\@evil", "/api/kb/faqs"):
        data = {"username": "amy", "password": PASSWORD, "csrf_token": login_form_token(console)}
        response = console.post("/console/login", data={**data, "next": target}, follow_redirects=False)
        assert response.headers["location"] == "/console", target


def test_cookies_are_secure_in_production(tmp_path: Path) -> None:
    settings = app_settings(
        f"sqlite:///{tmp_path / 'prod.db'}",
        tmp_path,
        environment="production",
        privacy={"pseudonym_key": "a secret of our own"},
    )
    with TestClient(create_app(settings), base_url="https://console.example") as client:
        create_user(client, "amy", "staff")
        form = client.get("/console/login")
        assert "secure" in form.headers["set-cookie"].lower()
        data = {"username": "amy", "password": PASSWORD, "csrf_token": login_form_token(client)}
        response = client.post("/console/login", data=data, follow_redirects=False)
        assert response.status_code == 303
        assert "secure" in response.headers["set-cookie"].lower()


def test_the_log_in_form_needs_its_own_token(console: TestClient) -> None:
    create_user(console, "amy", "staff")
    login_form_token(console)
    forged = console.post(
        "/console/login", data={"username": "amy", "password": PASSWORD, "csrf_token": "x" * 32}
    )
    assert forged.status_code == 403
    assert "登入表單已過期" in forged.text
    assert console.get("/console/api/session").status_code == 401
    assert ("amy", "login", "") not in _audit(console)


def test_wrong_passwords_lock_the_account_and_say_so(console: TestClient) -> None:
    create_user(console, "amy", "staff")
    for _ in range(LOCKOUT_AFTER):
        assert _post_login(console, "amy", "not the password") == 401
    data = {"username": "amy", "password": PASSWORD, "csrf_token": login_form_token(console)}
    locked = console.post("/console/login", data=data)
    assert locked.status_code == 401
    assert "暫時鎖定 15 分鐘" in locked.text
    assert console.get("/console/api/session").status_code == 401
    actions = [action for actor, action, _ in _audit(console) if actor == "amy"]
    assert actions.count("login.failed") == LOCKOUT_AFTER
    assert {"login.lockout", "login.locked"} <= set(actions)
    assert "login" not in actions
    with _db(console).session() as session:  # the lock-out ends; the right password works again
        user = session.scalars(select(UserRow).where(UserRow.username == "amy")).one()
        user.locked_until = utcnow() - timedelta(seconds=1)
    assert _post_login(console, "amy", PASSWORD) == 303


def test_unknown_users_and_deactivated_ones_cannot_log_in(console: TestClient) -> None:
    assert _post_login(console, "nobody", PASSWORD) == 401
    create_user(console, "amy", "staff")
    with _db(console).session() as session:
        session.scalars(select(UserRow).where(UserRow.username == "amy")).one().active = False
    assert _post_login(console, "amy", PASSWORD) == 401


def test_log_in_rotates_the_session_id(console: TestClient) -> None:
    create_user(console, "amy", "staff")
    planted = "planted-session-id-0123456789abcdef"
    console.cookies.set("bot1999_console", planted, domain="testserver.local")
    login(console, "amy")
    first = console.cookies["bot1999_console"]
    assert first != planted
    login(console, "amy")  # logging in again: a new id, and the old session is gone
    second = console.cookies["bot1999_console"]
    assert second != first
    with _db(console).session() as session:
        assert len(session.scalars(select(SessionRow)).all()) == 1
    console.cookies.set("bot1999_console", first, domain="testserver.local")
    assert console.get("/console/api/session").status_code == 401


def test_state_changes_need_the_csrf_token(console: TestClient) -> None:
    csrf = login_as(console, "admin")
    console.headers.pop("X-CSRF-Token")
    assert console.post("/console/logout").status_code == 403
    assert console.post("/console/logout", data={"csrf_token": "wrong"}).status_code == 403
    refused = console.post("/console/logout", headers={"X-CSRF-Token": csrf[:-1]})
    assert refused.status_code == 403
    assert "表單已過期或不是從本站送出" in refused.text
    assert console.get("/console/api/session").status_code == 200  # still logged in
    response = console.post("/console/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/console/login")
    assert console.get("/console/api/session").status_code == 401
    assert ("test-admin", "logout", "") in _audit(console)


def test_navigation_shows_only_what_the_role_may_use(console: TestClient) -> None:
    login_as(console, "supervisor")
    page = console.get("/console").text
    assert "/console/kb" not in page
    assert "/console/users" not in page
    login_as(console, "staff")
    page = console.get("/console").text
    assert 'href="/console/kb"' in page
    assert "/console/users" not in page
    login_as(console, "admin")
    page = console.get("/console/users").text
    assert 'href="/console/kb"' in page
    assert 'href="/console/users" aria-current="page"' in page


def test_changing_ones_own_password(console: TestClient) -> None:
    csrf = login_as(console, "staff", "amy")
    wrong = console.post(
        "/console/account/password",
        data={
            "csrf_token": csrf,
            "current_password": "not it at all",
            "new_password": "a brand new password",
            "confirm_password": "a brand new password",
        },
    )
    assert (wrong.status_code, "目前的密碼不正確" in wrong.text) == (400, True)
    done = console.post(
        "/console/account/password",
        data={
            "csrf_token": csrf,
            "current_password": PASSWORD,
            "new_password": "a brand new password",
            "confirm_password": "a brand new password",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert console.get("/console/api/session").status_code == 401  # sessions end with the old password
    assert _post_login(console, "amy", "a brand new password") == 303
    assert ("amy", "user.password", "amy") in _audit(console)
