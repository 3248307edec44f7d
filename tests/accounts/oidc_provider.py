"""A real OpenID Connect provider on loopback for the single sign-on tests.

``tests/oidc_provider/server.js`` runs panva's ``oidc-provider`` (installed by ``npm ci
--prefix tests/oidc_provider``) on a free 127.0.0.1 port with one confidential client and
the accounts a test names. ``sign_in_at_provider`` walks its sign-in and consent pages with
a real HTTP client, as a browser would, and returns the URL it sends the browser back to.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

HERE = Path(__file__).resolve().parents[1] / "oidc_provider"
CLIENT_ID = "martech-console"
CLIENT_SECRET = "test-client-secret-0123456789"

# The accounts the tests sign in as: the login name picks one.
ACCOUNTS = {
    "dana": {
        "email": "Dana.Whitfield@Acme.Example",
        "email_verified": True,
        "name": "Dana Whitfield",
        "groups": ["Everyone", "Marketing Ops"],
    },
    "new-hire": {
        "email": "new.hire@acme.example",
        "email_verified": True,
        "given_name": "Nia",
        "family_name": "Newcomer",
        "groups": ["Everyone", "Growth", "Marketing Ops"],
    },
    "unverified": {
        "email": "unverified@acme.example",
        "email_verified": False,
        "name": "Una Verified",
    },
    "gone": {"email": "gone@acme.example", "email_verified": True, "name": "Gone Person"},
}


@dataclass(frozen=True)
class RunningProvider:
    issuer: str
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET


@contextmanager
def running_provider(redirect_uris: list[str]) -> Iterator[RunningProvider]:
    """Start the provider with a client for ``redirect_uris``; stop it afterwards."""
    node = shutil.which("node")
    if node is None or not (HERE / "node_modules" / "oidc-provider").exists():
        pytest.fail("oidc-provider is missing: `make test` runs `npm ci` in tests/oidc_provider.")
    config = {
        "clients": [
            {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": redirect_uris,
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
            }
        ],
        "accounts": ACCOUNTS,
    }
    process = subprocess.Popen(
        [node, str(HERE / "server.js")],
        cwd=HERE,
        env={**os.environ, "OIDC_PROVIDER_CONFIG": json.dumps(config)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        port = _await_port(process)
        yield RunningProvider(issuer=f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _await_port(process: subprocess.Popen) -> int:
    found: list[int] = []

    def read() -> None:
        for line in process.stdout:
            match = re.fullmatch(r"listening (\d+)", line.strip())
            if match:
                found.append(int(match.group(1)))
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=30)
    if not found:
        process.kill()
        pytest.fail("The OpenID Connect provider did not start within 30 seconds.")
    return found[0]


def _form_action(page: str, base: str) -> str:
    match = re.search(r'<form[^>]*action="([^"]+)"', page)
    assert match, "the provider's page has no form"
    return urljoin(base, match.group(1).replace("&amp;", "&"))


def sign_in_at_provider(
    authorize_url: str, login: str, *, session: requests.Session | None = None
) -> str:
    """Sign in at the provider as ``login`` and consent, following its redirects; return
    the URL the provider sends the browser back to (the console's callback)."""
    browser = session or requests.Session()
    answer = browser.get(authorize_url, allow_redirects=False, timeout=10)
    for _ in range(10):
        location = answer.headers.get("Location")
        if answer.status_code in (302, 303) and location:
            target = urljoin(answer.url, location)
            if not target.startswith(authorize_url.split("/auth", 1)[0]):
                return target  # back to the console
            answer = browser.get(target, allow_redirects=False, timeout=10)
            continue
        assert answer.status_code == 200, answer.status_code
        page = answer.text
        action = _form_action(page, answer.url)
        if 'name="login"' in page:
            fields = {"prompt": "login", "login": login, "password": "any"}
        else:
            fields = {"prompt": "consent"}
        answer = browser.post(action, data=fields, allow_redirects=False, timeout=10)
    raise AssertionError("the provider never sent the browser back")
