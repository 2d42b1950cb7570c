"""The admin's users page: create, change role, deactivate, reset password — all audited."""

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.store import Database
from bot.store.models import AuditRow
from tests.bot.console.client import PASSWORD, login, login_as


def _audit(client: TestClient) -> list[tuple[str, str, str]]:
    database: Database = client.app.state.database  # type: ignore[attr-defined]
    with database.session() as session:
        return [
            (r.actor, r.action, r.target) for r in session.scalars(select(AuditRow).order_by(AuditRow.id))
        ]


def test_an_admin_manages_accounts_and_every_change_is_audited(console: TestClient) -> None:
    login_as(console, "admin", "root")
    created = console.post(
        "/console/users",
        data={"username": "Bea", "display_name": "陳小貝", "role": "staff", "password": PASSWORD},
    )
    assert created.status_code == 200
    assert "已建立帳號 bea（客服人員）" in created.text
    assert "陳小貝" in created.text

    bad = console.post("/console/users", data={"username": "x", "role": "staff", "password": PASSWORD})
    assert bad.status_code == 400
    assert "帳號須為" in bad.text
    short = console.post("/console/users", data={"username": "cai", "role": "staff", "password": "short"})
    assert "密碼至少需要 12 個字元" in short.text

    assert "的角色已改為主管" in console.post("/console/users/bea/role", data={"role": "supervisor"}).text
    assert "已停用 bea" in console.post("/console/users/bea/deactivate").text
    assert "已重新啟用 bea" in console.post("/console/users/bea/activate").text
    reset = console.post("/console/users/bea/reset-password")
    match = re.search(r'id="new-password">([^<]+)<', reset.text)
    assert match is not None
    assert reset.headers["cache-control"] == "no-store"

    login(console, "bea", match.group(1))
    assert console.get("/console/api/session").json()["role"] == "supervisor"
    assert ("root", "user.create", "bea") in _audit(console)
    for action in ("user.role", "user.deactivate", "user.activate", "user.reset_password"):
        assert ("root", action, "bea") in _audit(console)


def test_deactivating_or_demoting_ends_the_users_sessions(console: TestClient) -> None:
    login_as(console, "staff", "bea")
    bea = console.cookies["bot1999_console"]
    login_as(console, "admin", "root")
    console.post("/console/users/bea/deactivate")
    console.cookies.set("bot1999_console", bea, domain="testserver.local")
    assert console.get("/console/api/session").status_code == 401


def test_the_last_admin_cannot_lock_everyone_out(console: TestClient) -> None:
    login_as(console, "admin", "root")
    refused = console.post("/console/users/root/role", data={"role": "staff"})
    assert refused.status_code == 400
    assert "最後一位啟用中的系統管理員" in refused.text
    assert console.post("/console/users/root/deactivate").status_code == 400
    assert console.get("/console/api/session").json()["role"] == "admin"
    assert console.post("/console/users/nobody/deactivate").status_code == 400


def test_staff_and_supervisors_cannot_manage_users(console: TestClient) -> None:
    for role in ("staff", "supervisor"):
        login_as(console, role)
        page = console.get("/console/users")
        assert page.status_code == 403
        assert "沒有權限" in page.text
        assert console.post("/console/users", data={"username": "eve", "role": "admin"}).status_code == 403
    assert "eve" not in {target for _, _, target in _audit(console)}


def test_the_audit_page_filters_by_actor_and_action(console: TestClient) -> None:
    login_as(console, "admin", "root")
    console.post("/console/users", data={"username": "bea", "role": "staff", "password": PASSWORD})
    page = console.get("/console/audit", params={"actor": "root", "action": "user."})
    assert page.status_code == 200
    actions = re.findall(r'<td><span title="([^"]+)">([^<]+)</span></td>', page.text)
    assert actions == [("user.create", "新增帳號")]  # the code in its title, the words shown
