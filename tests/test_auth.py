"""Admin login, CSRF and the slowing down of wrong passwords."""
from __future__ import annotations

import re

import pytest

from feedhub.web import create_app


@pytest.fixture
def client(tmp_path):
    app = create_app({"data_dir": tmp_path, "admin_password": "correct horse"})
    return app.test_client()


def _token(client, path="/login") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_right_password_logs_in_and_logout_logs_out(client):
    response = client.post("/login", data={"password": "correct horse", "csrf_token": _token(client), "next": "/"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Log out" in client.get("/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": _token(client, "/")})
    assert "Log in" in client.get("/").get_data(as_text=True)


def test_wrong_password_is_refused(client):
    response = client.post("/login", data={"password": "wrong", "csrf_token": _token(client)})
    assert response.status_code == 401 and "Wrong password" in response.get_data(as_text=True)
    assert "Log in" in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("token", [None, "forged"], ids=["missing", "wrong"])
def test_post_without_the_csrf_token_is_refused(client, token):
    data = {"password": "correct horse"} | ({"csrf_token": token} if token else {})
    client.get("/login")
    response = client.post("/login", data=data)
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)


def test_repeated_wrong_passwords_are_slowed_down(client):
    token = _token(client)
    statuses = [client.post("/login", data={"password": f"guess{i}", "csrf_token": token}).status_code for i in range(4)]
    assert statuses[:3] == [401, 401, 401] and statuses[3] == 429
    # Even the right password has to wait now.
    assert client.post("/login", data={"password": "correct horse", "csrf_token": token}).status_code == 429


def test_login_never_redirects_to_another_site(client):
    response = client.post("/login", data={"password": "correct horse", "csrf_token": _token(client), "next": "//evil.example/"})
    assert response.headers["Location"] == "/"


def test_without_a_password_nobody_can_log_in(tmp_path):
    client = create_app({"data_dir": tmp_path}).test_client()
    response = client.post("/login", data={"password": "", "csrf_token": _token(client)})
    assert response.status_code == 403
