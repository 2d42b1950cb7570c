"""Session fixation and session handling, beyond the console's own rotation test.

tests/bot/console/test_auth.py checks that a planted, unknown cookie is replaced at log-in.
Here the attacker plants a *valid* session of their own: the victim's log-in must not adopt
it, and the attacker's token must not open the victim's account afterwards. A session travels
only in its cookie (never from the address), the cookie is out of scripts' reach, and a
session ends for good at log-out and at a password reset.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.bot.console.client import create_user, login

COOKIE = "bot1999_console"


def test_a_planted_valid_session_does_not_survive_the_victims_log_in(client: TestClient) -> None:
    create_user(client, "mallory", "staff")
    create_user(client, "boss", "admin")
    login(client, "mallory")
    planted = client.cookies[COOKIE]  # the attacker's own, valid session id
    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)

    client.cookies.set(COOKIE, planted, domain="testserver.local")  # fixed in the victim's browser
    login(client, "boss")
    victims = client.cookies[COOKIE]
    assert victims != planted
    assert client.get("/console/api/session").json()["username"] == "boss"

    client.cookies.clear()
    client.cookies.set(COOKIE, planted, domain="testserver.local")  # the attacker tries their token
    assert client.get("/console/api/session").status_code == 401, "the planted token opens nothing"
    assert client.get("/console/users", follow_redirects=False).status_code == 303


def test_a_session_comes_only_from_its_cookie(client: TestClient) -> None:
    create_user(client, "boss", "admin")
    login(client, "boss")
    token = client.cookies[COOKIE]
    client.cookies.clear()
    for attempt in (
        client.get("/console/api/session", params={COOKIE: token}),
        client.get("/console/api/session", headers={"Authorization": f"Bearer {token}"}),
        client.get(f"/console/api/session;{COOKIE}={token}"),
    ):
        assert attempt.status_code in {401, 404}


def test_the_session_cookie_is_out_of_scripts_and_other_sites_reach(client: TestClient) -> None:
    create_user(client, "boss", "admin")
    page = client.get("/console/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/console/login",
        data={"username": "boss", "password": "a long test password", "csrf_token": token},
        follow_redirects=False,
    )
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(COOKIE + "="))
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert "httponly" in flags
    assert "samesite=strict" in flags
    assert "path=/" in flags


def test_log_out_and_a_password_reset_end_the_session_for_good(client: TestClient) -> None:
    create_user(client, "boss", "admin")
    create_user(client, "amy", "staff")
    login(client, "amy")
    amys = client.cookies[COOKIE]
    csrf = login(client, "boss")
    bosses = client.cookies[COOKIE]
    reset = client.post(
        "/console/users/amy/reset-password", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert reset.status_code in {200, 303}
    assert (
        client.post("/console/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    )
    for token in (amys, bosses):
        client.cookies.clear()
        client.cookies.set(COOKIE, token, domain="testserver.local")
        assert client.get("/console/api/session").status_code == 401
