"""Confirming a link, merging profiles and undoing a merge first say which people they join
or split; without ``confirmed=1`` the graph is unchanged."""

import pytest

from apps.identity import selectors, services
from apps.identity.choices import LinkStatus
from apps.identity.models import Link, Merge
from apps.identity.normalise import Ident

pytestmark = pytest.mark.django_db


def _pending():
    services.identifier_observe(("anonymous_id", "a-1"))
    services.identifier_observe(("anonymous_id", "a-2"))
    return services.link_record(
        a=("anonymous_id", "a-1"),
        b=("anonymous_id", "a-2"),
        rule="ip_user_agent",
        kind="probabilistic",
        confidence=0.8,
    )


def _profile(type_, value):
    return selectors.profile_resolve(Ident(type_, value))


def test_confirming_a_link_without_confirmation_names_the_profiles_and_merges_nothing(
    admin_client,
):
    link = _pending()
    one, two = _profile("anonymous_id", "a-1"), _profile("anonymous_id", "a-2")

    page = admin_client.post(f"/profiles/links/{link.pk}/confirm/")

    text = page.content.decode()
    assert page.status_code == 200
    assert "Confirm that anonymous_id:a-1 and anonymous_id:a-2 are one person?" in text
    assert f"Merges profile {one.pk} (1 identifier) and profile {two.pk} (1 identifier)" in text
    assert Link.objects.get(pk=link.pk).status == LinkStatus.PENDING
    assert _profile("anonymous_id", "a-1") != _profile("anonymous_id", "a-2")


def test_confirming_a_link_with_confirmation_merges_the_profiles(admin_client):
    link = _pending()
    asked = admin_client.post(f"/profiles/links/{link.pk}/confirm/", HTTP_X_CONSOLE_CONFIRM="ask")
    assert asked.json()["button"] == "Confirm the link"
    assert Link.objects.get(pk=link.pk).status == LinkStatus.PENDING

    admin_client.post(f"/profiles/links/{link.pk}/confirm/", {"confirmed": "1"})

    assert Link.objects.get(pk=link.pk).status == LinkStatus.ACTIVE
    assert _profile("anonymous_id", "a-1") == _profile("anonymous_id", "a-2")


def test_rejecting_a_link_needs_no_confirmation(admin_client):
    link = _pending()
    url = f"/profiles/links/{link.pk}/reject/"

    assert admin_client.post(url, HTTP_X_CONSOLE_CONFIRM="ask").json() == {"confirm": False}
    admin_client.post(url)

    assert Link.objects.get(pk=link.pk).status == LinkStatus.REJECTED


def test_merging_profiles_by_hand_asks_first(admin_client):
    services.identifier_observe(("email", "a@example.com"))
    services.identifier_observe(("email", "b@example.com"))
    one, two = _profile("email", "a@example.com"), _profile("email", "b@example.com")
    url = f"/profiles/{one.pk}/merge/"

    page = admin_client.post(url, {"other": two.pk, "note": "same"})

    assert f"Merge profiles {one.pk} and {two.pk}?" in page.content.decode()
    assert _profile("email", "a@example.com") != _profile("email", "b@example.com")
    admin_client.post(url, {"other": two.pk, "note": "same", "confirmed": "1"})
    assert _profile("email", "a@example.com") == _profile("email", "b@example.com")


def test_undoing_a_merge_asks_first_and_then_splits(admin, admin_client):
    services.link_record(a=("anonymous_id", "a-1"), b=("email", "a@example.com"), rule="identify")
    merge = Merge.objects.get()
    url = f"/profiles/merges/{merge.pk}/undo/"

    page = admin_client.post(url)

    assert "Undo the merge of profile" in page.content.decode()
    assert "the 1 identifier it moved go back" in page.content.decode()
    assert Merge.objects.get().undone_at is None
    admin_client.post(url, {"confirmed": "1"})
    assert Merge.objects.get().undone_at is not None
