"""A new write key is shown once, on a page a reload does not resubmit, with ready-to-paste
snippets; the page never shows it again."""

import pytest

from apps.events.models import Source

pytestmark = pytest.mark.django_db
FORM = {
    "kind": "server",
    "environment": "sandbox",
    "enforcement": "allow",
    "rate_limit": 200,
    "is_active": "on",
}


def test_creating_a_source_redirects_to_the_key_shown_once_with_snippets(admin_client):
    made = admin_client.post("/sources/new/", {"name": "Web shop", **FORM})
    source = Source.objects.get(name="Web shop")
    assert made.status_code == 302
    assert made["Location"] == f"/sources/{source.pk}/key/"
    shown = admin_client.get(made["Location"]).content.decode()
    raw = shown.split('data-testid="write-key"', 1)[0].rsplit('value="', 1)[1].split('"', 1)[0]
    assert raw.startswith("wk_")
    assert f"curl -u '{raw}:'" in shown
    assert "http://testserver/v1/batch" in shown
    assert f'analytics.load("{raw}"' in shown
    assert 'data-copy-target="#write-key"' in shown
    again = admin_client.get(made["Location"]).content.decode()
    assert raw not in again
    assert 'data-testid="key-gone"' in again
    assert Source.objects.filter(name="Web shop").count() == 1


def test_a_rotated_key_is_shown_once_too(admin_client):
    admin_client.post("/sources/new/", {"name": "App", **FORM})
    source = Source.objects.get(name="App")
    admin_client.get(f"/sources/{source.pk}/key/")
    rotated = admin_client.post(f"/sources/{source.pk}/rotate-key/", {"overlap_hours": 1})
    assert rotated["Location"] == f"/sources/{source.pk}/key/"
    page = admin_client.get(rotated["Location"]).content.decode()
    assert "New write key" in page
    assert 'data-testid="write-key"' in page
