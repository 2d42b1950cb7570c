"""Role escalation: what a role may not do, it cannot do by any form or API, and nothing changes.

The console's own tests check that each page admits its roles; these take every form an
admin can submit (read from the pages, so new ones are covered) and submit it, with a valid
session and CSRF token, as a member of staff and as a supervisor: admin actions and
knowledge-base edits are refused and the store is left exactly as it was.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.store import Database
from bot.store.models import FaqRevisionRow, FaqRow, KbVersionRow, UserRow
from tests.bot.console.client import create_user, login
from tests.security.conftest import Form, get_forms

ADMIN_ONLY = re.compile(r"^/console/(users|audit)(/|$)")
CURATORS_ONLY = re.compile(r"^/console/kb(/|$)")  # staff and admins curate; supervisors only read figures
_LINK = re.compile(r'href="(/console[^"#?]*)"')


def _database(client: TestClient) -> Database:
    database: Database = client.app.state.database  # type: ignore[attr-defined]
    return database


def snapshot(client: TestClient) -> dict[str, Any]:
    """Everything an escalation could change: accounts, entries, their history, the KB version."""
    with _database(client).session() as session:
        return {
            "users": sorted(
                (u.username, u.role, u.active, u.password_hash) for u in session.scalars(select(UserRow))
            ),
            "faqs": sorted((f.id, f.revision, f.status, f.answer) for f in session.scalars(select(FaqRow))),
            "history": len(session.scalars(select(FaqRevisionRow.id)).all()),
            "version": max(session.scalars(select(KbVersionRow.id)).all(), default=0),
        }


def admin_forms(client: TestClient) -> list[Form]:
    """Every POST form on every console page an admin reaches (one page of each shape)."""
    login(client, "boss")
    queue, seen, shapes, forms = ["/console", "/console/kb/faq/F-1", "/console/kb/new"], set(), set(), {}
    while queue:
        path = queue.pop(0)
        shape = re.sub(r"\d+", "N", path)
        if shape in shapes or path.endswith((".css", ".js", ".csv", ".xlsx")) or "logout" in path:
            continue
        seen.add(path)
        shapes.add(shape)
        page = client.get(path)
        if not page.headers.get("content-type", "").startswith("text/html"):
            continue
        queue += _LINK.findall(page.text)
        for form in get_forms(path, page.text, method="post"):
            if form.action != "/console/logout":
                forms.setdefault(form.action, form)
    return list(forms.values())


@pytest.fixture
def people(client: TestClient) -> TestClient:
    create_user(client, "boss", "admin")
    create_user(client, "amy", "staff")
    create_user(client, "sue", "supervisor")
    return client


def _submit_as(client: TestClient, username: str, forms: list[Form]) -> dict[str, int]:
    client.cookies.clear()
    csrf = login(client, username)
    codes = {}
    for form in forms:
        fields = {**form.fields, "csrf_token": csrf}
        if "role" in fields:
            fields["role"] = "admin"  # the escalation itself
        if "username" in fields:
            fields["username"] = f"{username}-twin"
        codes[form.action] = client.post(form.action, data=fields, follow_redirects=False).status_code
    return codes


def test_staff_cannot_do_what_only_admins_may(people: TestClient) -> None:
    forms = [f for f in admin_forms(people) if ADMIN_ONLY.match(f.action)]
    actions = {f.action for f in forms}
    assert {"/console/users", "/console/users/amy/role", "/console/users/boss/deactivate"} <= actions, actions
    before = snapshot(people)
    codes = _submit_as(people, "amy", forms)
    assert codes == dict.fromkeys(codes, 403), codes
    assert people.get("/console/users").status_code == 403
    assert people.get("/console/audit").status_code == 403
    assert snapshot(people) == before, "amy is still staff, and no account was made or changed"


def test_a_supervisor_cannot_edit_the_knowledge_base(people: TestClient) -> None:
    forms = [f for f in admin_forms(people) if CURATORS_ONLY.match(f.action)]
    actions = {f.action for f in forms}
    assert {"/console/kb/faq/F-1", "/console/kb/new", "/console/kb/synonyms"} <= actions, actions
    before = snapshot(people)
    codes = _submit_as(people, "sue", forms + [f for f in admin_forms(people) if ADMIN_ONLY.match(f.action)])
    assert codes == dict.fromkeys(codes, 403), codes
    csrf = login(people, "sue")
    api = [
        people.post("/api/kb/faqs", json={"id": "X-1", "question": "新的問題？", "answer": "新的答案。"}),
        people.patch("/api/kb/faqs/F-1", json={"revision": 1, "answer": "改掉的答案。"}),
        people.post("/api/kb/faqs/F-1/archive", headers={"X-CSRF-Token": csrf}),
    ]
    assert [r.status_code for r in api] == [403, 403, 403]
    assert snapshot(people) == before, "the knowledge base did not move"


def test_staff_can_do_what_the_supervisor_was_refused(people: TestClient) -> None:
    """The refusals above are about the role, not broken forms: the same form works for staff."""
    form = next(f for f in admin_forms(people) if f.action == "/console/kb/faq/F-1/archive")
    before = snapshot(people)
    codes = _submit_as(people, "amy", [form])
    assert codes["/console/kb/faq/F-1/archive"] in {200, 303}
    assert snapshot(people)["faqs"] != before["faqs"]


def test_a_session_is_worth_its_role_only_while_the_account_is(people: TestClient) -> None:
    """A demoted or deactivated user's open session loses the rights at once."""
    login(people, "amy")
    assert people.get("/console/kb").status_code == 200
    with _database(people).session() as session:
        session.scalars(select(UserRow).where(UserRow.username == "amy")).one().role = "supervisor"
    assert people.get("/console/kb").status_code == 403
    with _database(people).session() as session:
        session.scalars(select(UserRow).where(UserRow.username == "amy")).one().active = False
    assert people.get("/console/api/session").status_code == 401
