"""Approving an erasure, and including a possible match, first say what they will erase."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from apps.erasure.models import ErasureRequest, RequestStatus, Suppression
from apps.events.models import Event
from apps.identity.models import Identifier, Profile
from apps.tools.services import tool_create

from .conftest import verified


def _tools(admin):
    tool_create(
        actor=admin,
        name="Zendesk",
        vendor="Zendesk",
        category="Support",
        data_categories=["contact"],
    )
    tool_create(
        actor=admin, name="Hubspot", vendor="Hubspot", category="CRM", data_categories=["contact"]
    )


def test_approving_without_confirmation_states_the_counts_and_erases_nothing(admin, client, ana):
    _tools(admin)
    request = verified(admin)
    client.force_login(admin)
    before = (Profile.objects.count(), Identifier.objects.count(), Event.objects.count())

    page = client.post(reverse("erasure:request_approve", args=[request.pk]))

    assert page.status_code == 200
    text = page.content.decode()
    assert f"Erase the person of {request.reference} in 2 tools?" in text
    assert "Suppresses 4 identifiers of the person at once" in text
    assert "Erases 1 profile and 0 events in the console" in text
    assert "asks the owners of 2 tools to erase by hand" in text
    assert "1 possible match (probabilistic links)" in text
    assert "This cannot be undone." in text
    assert 'name="confirmed" value="1"' in text
    assert "csrfmiddlewaretoken" in text
    request.refresh_from_db()
    assert request.status == RequestStatus.VERIFIED
    assert not Suppression.objects.exists()
    assert not request.tasks.exists()
    assert (Profile.objects.count(), Identifier.objects.count(), Event.objects.count()) == before


def test_approving_with_confirmation_erases_what_the_confirmation_counted(admin, client, ana):
    _tools(admin)
    request = verified(admin)
    client.force_login(admin)
    asked = client.post(
        reverse("erasure:request_approve", args=[request.pk]), HTTP_X_CONSOLE_CONFIRM="ask"
    ).json()
    profiles_before = Profile.objects.count()

    done = client.post(reverse("erasure:request_approve", args=[request.pk]), {"confirmed": "1"})

    assert done.status_code == 302
    request = ErasureRequest.objects.get(pk=request.pk)
    assert request.status == RequestStatus.IN_PROGRESS
    assert asked["confirm"] is True
    assert asked["final"] is True
    assert asked["title"] == f"Erase the person of {request.reference} in 2 tools?"
    assert request.tasks.count() == 2
    # one person, four identifiers in one profile (three others merged into it on the way)
    assert "Erases 1 profile and 0 events in the console" in asked["lines"][1]
    assert request.local_erasure["profiles"] == 1
    assert request.local_erasure["identifiers"] == 4
    assert profiles_before - Profile.objects.count() == 4
    assert Suppression.objects.count() == 4


def test_including_a_possible_match_asks_first_and_leaving_it_out_does_not(admin, client, ana):
    request = verified(admin)
    client.force_login(admin)
    client.post(reverse("erasure:request_approve", args=[request.pk]), {"confirmed": "1"})
    maybe = request.identifiers.get(decision="pending")
    url = reverse("erasure:identifier_decide", args=[request.pk, maybe.pk])

    page = client.post(url, {"include": "yes"})

    assert page.status_code == 200
    assert f"Erase anonymous_id:{maybe.masked} as the same person?" in page.content.decode()
    maybe.refresh_from_db()
    assert maybe.decision == "pending"
    assert client.post(url, {"include": "yes", "confirmed": "1"}).status_code == 302
    maybe.refresh_from_db()
    assert maybe.decision == "included"


def test_leaving_a_possible_match_out_needs_no_confirmation(admin, client, ana):
    request = verified(admin)
    client.force_login(admin)
    client.post(reverse("erasure:request_approve", args=[request.pk]), {"confirmed": "1"})
    maybe = request.identifiers.get(decision="pending")
    url = reverse("erasure:identifier_decide", args=[request.pk, maybe.pk])
    asked = client.post(url, {"include": "no"}, HTTP_X_CONSOLE_CONFIRM="ask").json()

    client.post(url, {"include": "no"})

    assert asked == {"confirm": False}

    maybe.refresh_from_db()
    assert maybe.decision == "excluded"


def test_the_approval_question_counts_what_approval_then_erases_and_the_tools_it_asks(
    admin, client, ana, tool
):
    from apps.events.models import Event
    from apps.events.services import source_create
    from tests.destinations.vendors import FakeVendor

    from .conftest import destination_at

    source, _ = source_create(actor=admin, name="Web")
    for n, (user, anon) in enumerate(
        [("cus_1", "ajs-ana-phone"), ("", "ajs-ana-laptop"), ("cus_2", "ajs-bo")]
    ):
        Event.objects.create(
            source=source,
            message_id=f"m{n}",
            type="track",
            name="Viewed",
            user_id=user,
            anonymous_id=anon,
            payload={},
            timestamp=timezone.now(),
        )
    _tools(admin)
    request = verified(admin)
    client.force_login(admin)
    url = reverse("erasure:request_approve", args=[request.pk])
    with FakeVendor("webhook") as vendor:
        destination_at(admin, tool, vendor)
        asked = client.post(url, HTTP_X_CONSOLE_CONFIRM="ask").json()
        events_before = Event.objects.count()

        client.post(url, {"confirmed": "1"})

    request.refresh_from_db()
    assert asked["title"] == f"Erase the person of {request.reference} in 3 tools?"
    assert asked["lines"][1] == "Erases 1 profile and 2 events in the console."
    assert asked["lines"][2] == (
        "Then sends deletion requests to 1 tool by their deletion API and asks the owners of "
        "2 tools to erase by hand."
    )
    assert events_before - Event.objects.count() == 2
    assert request.tasks.filter(kind="api").count() == 1
    assert request.tasks.filter(kind="manual").count() == 2
