"""Security baseline: CSP, cookies, session idle timeout, CSRF, secrets out of logs."""

import datetime as dt
import io
import logging
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from martech.common.logging import RedactSecretsFilter, redact
from martech.common.views import server_error
from tests.factories import PASSWORD

TEMPLATES = Path(settings.BASE_DIR) / "templates"
PAGES = ["dashboard", "accounts:user_list", "accounts:token_list", "audit:event_list"]


@pytest.mark.django_db
def test_every_page_sends_a_strict_content_security_policy(admin_client):
    for name in PAGES:
        policy = admin_client.get(reverse(name))["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
        assert directives["script-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"
        assert "unsafe-inline" not in policy
        assert "unsafe-eval" not in policy


@pytest.mark.django_db
def test_pages_contain_no_inline_script_the_policy_would_block(admin_client, client):
    pages = [admin_client.get(reverse(name)).content.decode() for name in PAGES]
    pages.append(client.get(reverse("accounts:login")).content.decode())
    for html in pages:
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, tag
        assert not re.search(r"\son[a-z]+=\"", html), "inline event handler"


def test_templates_use_no_inline_style_attributes():
    offenders = [
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        if re.search(r"\sstyle=\"", path.read_text())
    ]
    assert offenders == []


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_httponly_and_samesite(client, user):
    response = client.post(
        reverse("accounts:login"), {"username": user.email, "password": PASSWORD}
    )
    session_cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session_cookie["httponly"]
    assert session_cookie["samesite"] == "Lax"
    anonymous = Client()
    login_page = anonymous.get(reverse("accounts:login"))
    csrf = login_page.cookies[settings.CSRF_COOKIE_NAME]
    assert csrf["httponly"]
    assert csrf["samesite"] == "Lax"


@pytest.mark.django_db
def test_an_idle_session_expires_and_activity_extends_it(client, user):
    client.post(reverse("accounts:login"), {"username": user.email, "password": PASSWORD})
    session = Session.objects.get()
    first_expiry = session.expire_date
    assert first_expiry - timezone.now() <= dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    # activity moves the expiry forward
    Session.objects.filter(pk=session.pk).update(expire_date=first_expiry - dt.timedelta(minutes=5))
    client.get(reverse("dashboard"))
    assert Session.objects.get(pk=session.pk).expire_date > first_expiry - dt.timedelta(minutes=5)
    # idleness past the timeout signs the person out
    Session.objects.filter(pk=session.pk).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer mtc_AbCdEf0123456789xyz", "mtc_AbCdEf0123456789xyz"),
        ("calling with password=hunter2-secret&user=a", "hunter2-secret"),
        ('{"api_key": "sk_live_51Habc123"}', "sk_live_51Habc123"),
        ("writeKey=wk_9f8e7d6c5b4a", "wk_9f8e7d6c5b4a"),
        ("connect postgres://martech:pg-pass-123@db:5432/martech", "pg-pass-123"),
        ("token mtc_zzzzzzzzzzzzzzzzzzzz leaked", "mtc_zzzzzzzzzzzzzzzzzzzz"),
    ],
)
def test_redact_removes_secrets(text, secret):
    assert secret not in redact(text)


def test_the_configured_log_handler_redacts_secrets_and_adds_the_request_id():
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        logging.getLogger("martech.test").warning(
            "retrying with %s", "Authorization: Bearer mtc_SuperSecretToken123"
        )
    finally:
        handler.setStream(previous)
    line = stream.getvalue()
    assert "retrying with Authorization: Bearer [REDACTED]" in line
    assert "SuperSecretToken" not in line
    assert "[-]" in line


def test_redaction_also_covers_exception_text():
    try:
        raise ValueError("bad dsn redis://:topsecret@cache:6379/0")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
    RedactSecretsFilter().filter(record)
    assert "topsecret" not in record.exc_text


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/somewhere", b"Something went wrong on our side"),
        ("/api/v1/users/", b'"code": "server_error"'),
    ],
)
def test_server_error_is_friendly_and_gives_a_reference(path, expected):
    request = RequestFactory().get(path)
    request.request_id = "abc123def456"
    response = server_error(request)
    assert response.status_code == 500
    assert expected in response.content
    assert b"abc123def456" in response.content


@pytest.mark.django_db
def test_palette_refuses_a_null_character_with_400(user_client):
    response = user_client.get(reverse("palette"), {"q": "ab\x00"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


@pytest.mark.django_db
def test_new_token_page_is_never_cached(user_client):
    response = user_client.post(
        reverse("accounts:token_list"), {"name": "x", "days": 5}, follow=True
    )
    assert response.context["new_token"]["raw"]
    assert "no-store" in response["Cache-Control"]
