"""Sources and write keys: shown once, stored hashed, rotated with an overlap, revoked."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.events import services
from apps.events.models import WriteKey
from martech.common.errors import ApplicationError, PermissionDeniedError


@pytest.fixture
def web(admin):
    return services.source_create(
        actor=admin, name="Web", allowed_origins=["https://WWW.acme.example/"]
    )


def test_a_write_key_is_shown_once_and_stored_only_as_a_digest(web):
    source, raw = web
    key = source.write_keys.get()
    assert raw.startswith("wk_")
    assert key.key_hash == services.hash_key(raw)
    assert raw not in str(list(WriteKey.objects.values_list()))
    assert raw not in str(list(AuditEvent.objects.values_list("changes", "metadata")))
    assert services.authenticate_key(raw) == source
    assert services.authenticate_key(raw + "x") is None


def test_origins_are_normalised_and_wildcards_refused(admin, web):
    source, _ = web
    assert source.allowed_origins == ["https://www.acme.example"]
    for bad in ("*", "www.acme.example", "https://acme.example/path", "ftp://acme.example"):
        with pytest.raises(ApplicationError) as caught:
            services.source_update(actor=admin, source=source, allowed_origins=[bad])
        assert caught.value.code == "invalid_origin"


def test_a_rotated_key_keeps_working_until_the_overlap_ends(admin, web):
    source, old = web
    start = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        _, new = services.write_key_rotate(actor=admin, source=source, overlap_hours=24)
        assert services.authenticate_key(old) == source
        assert services.authenticate_key(new) == source
    with time_machine.travel(start + dt.timedelta(hours=23, minutes=59), tick=False):
        assert services.authenticate_key(old) == source
    with time_machine.travel(start + dt.timedelta(hours=24, minutes=1), tick=False):
        assert services.authenticate_key(old) is None
        assert services.authenticate_key(new) == source


def test_a_revoked_key_or_an_inactive_source_is_refused_at_once(admin, web):
    source, raw = web
    assert services.authenticate_key(raw) == source  # now remembered by this process
    services.write_key_revoke(actor=admin, key=source.write_keys.get())
    assert services.authenticate_key(raw) is None
    _, again = services.write_key_rotate(actor=admin, source=source, overlap_hours=0)
    services.source_update(actor=admin, source=source, is_active=False)
    assert services.authenticate_key(again) is None


def test_blocking_needs_a_tracking_plan(admin):
    with pytest.raises(ApplicationError) as caught:
        services.source_create(actor=admin, name="App", enforcement="block")
    assert caught.value.code == "block_without_plan"


def test_managing_sources_needs_the_capability(user, web):
    source, _ = web
    with pytest.raises(PermissionDeniedError):
        services.write_key_rotate(actor=user, source=source)


def test_the_api_returns_the_key_once_and_never_again(admin_api):
    created = admin_api.post(
        reverse("api:source-list"),
        {"name": "iOS", "kind": "ios", "environment": "sandbox"},
        format="json",
    )
    assert created.status_code == 201
    raw = created.json()["write_key"]
    detail = admin_api.get(reverse("api:source-detail", kwargs={"pk": created.json()["id"]}))
    assert raw not in detail.content.decode()
    assert detail.json()["write_keys"][0]["prefix"] == raw[:9]
    rotated = admin_api.post(
        reverse("api:source-rotate-key", kwargs={"pk": created.json()["id"]}),
        {"overlap_hours": 2},
        format="json",
    )
    assert rotated.status_code == 201
    statuses = sorted(
        k["status"]
        for k in admin_api.get(
            reverse("api:source-detail", kwargs={"pk": created.json()["id"]})
        ).json()["write_keys"]
    )
    assert statuses == ["active", "retiring"]


def test_the_create_page_shows_the_key_once(admin_client):
    response = admin_client.post(
        reverse("events:source_create"),
        {
            "name": "Web",
            "kind": "website",
            "environment": "production",
            "enforcement": "allow",
            "rate_limit": 50,
            "allowed_origins": "https://www.acme.example",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    shown = admin_client.get(response["Location"])
    raw = shown.context["raw"]
    assert services.authenticate_key(raw).name == "Web"
    detail = admin_client.get(reverse("events:source_detail", args=[shown.context["source"].pk]))
    assert raw not in detail.content.decode()
    assert raw not in admin_client.get(response["Location"]).content.decode()


_OTHER_PROCESS = """
import sys, django
django.setup()
from apps.events.services import authenticate_key
for line in sys.stdin:
    source = authenticate_key(line.strip())
    print(source.name if source else "refused", flush=True)
"""


@pytest.mark.django_db(transaction=True)
def test_another_process_that_remembers_a_key_refuses_it_once_revoked(admin):
    """The collection API's processes keep keys in memory; a revocation committed anywhere
    reaches them before their next request."""
    import os
    import subprocess
    import sys

    from django.db import connection

    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    source, raw = services.source_create(actor=admin, name="Shop")
    other = subprocess.Popen(
        [sys.executable, "-c", _OTHER_PROCESS],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "martech.settings.test"},
    )
    try:

        def ask() -> str:
            other.stdin.write(raw + "\n")
            other.stdin.flush()
            return other.stdout.readline().strip()

        assert ask() == "Shop"
        assert ask() == "Shop"  # from memory this time
        services.write_key_revoke(actor=admin, key=source.write_keys.get())
        assert ask() == "refused"
    finally:
        other.stdin.close()
        other.wait(timeout=30)
