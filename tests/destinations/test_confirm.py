"""Replaying dead letters to a production destination, and switching a destination on or
off, first say what will be sent where; replays to a sandbox go at once."""

from django.urls import reverse

from apps.destinations.delivery import deliver
from apps.destinations.models import Delivery, Destination
from apps.events.pipeline import process_waiting

from .conftest import hook, send
from .vendors import FakeVendor


def _orders(n):
    return [
        {
            "type": "track",
            "event": "Order Completed",
            "messageId": f"o{i}",
            "anonymousId": f"v{i}",
            "properties": {"revenue": i},
        }
        for i in range(n)
    ]


def _dead_letters(client, admin, tool, web, vendor, n=2, **fields):
    _, raw = web
    destination = hook(admin, tool, vendor, **fields)
    vendor.fail_next(1, 400, {"error": "bad"})
    send(client, raw, _orders(n))
    process_waiting()
    deliver(destination)
    assert Delivery.objects.filter(status="dead").count() == n
    return destination


def test_replay_all_to_production_without_confirmation_names_it_and_sends_nothing(
    client, admin_client, admin, tool, web
):
    with FakeVendor("webhook") as vendor:
        _dead_letters(client, admin, tool, web, vendor, name="Braze", environment="production")
        asked = len(vendor.requests)

        page = admin_client.post(reverse("destinations:replay"), {"everything": "1"})

        deliver(Destination.objects.get())
        assert len(vendor.requests) == asked
    text = page.content.decode()
    assert page.status_code == 200
    assert "Replay 2 dead letters to Braze?" in text
    assert "Sends 2 deliveries again to Braze (production)." in text
    assert 'name="everything" value="1"' in text
    assert set(Delivery.objects.values_list("status", flat=True)) == {"dead"}


def test_replay_all_to_production_with_confirmation_sends_them_again(
    client, admin_client, admin, tool, web
):
    with FakeVendor("webhook") as vendor:
        destination = _dead_letters(client, admin, tool, web, vendor, environment="production")

        asked = admin_client.post(
            reverse("destinations:replay"), {"everything": "1"}, HTTP_X_CONSOLE_CONFIRM="ask"
        ).json()
        done = admin_client.post(
            reverse("destinations:replay"), {"everything": "1", "confirmed": "1"}
        )
        deliver(destination)

    assert asked["confirm"] is True
    assert done.status_code == 302
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_the_replay_question_comes_back_as_json_when_asked_and_changes_nothing(
    client, admin_client, admin, tool, web
):
    with FakeVendor("webhook") as vendor:
        _dead_letters(client, admin, tool, web, vendor, n=1, name="Braze", environment="production")
        ids = list(Delivery.objects.values_list("pk", flat=True))

        answer = admin_client.post(
            reverse("destinations:replay"), {"ids": ids}, HTTP_X_CONSOLE_CONFIRM="ask"
        ).json()

    assert answer["title"] == "Replay 1 dead letter to Braze?"
    assert answer["lines"][0] == "Sends 1 delivery again to Braze (production)."
    assert answer["final"] is True
    assert set(Delivery.objects.values_list("status", flat=True)) == {"dead"}


def test_replaying_letters_to_two_destinations_counts_each_and_names_each_once(
    client, admin_client, admin, tool, web
):
    # given: one order dead-lettered at Braze (production) and at Amplitude (sandbox)
    _, raw = web
    with FakeVendor("webhook") as braze, FakeVendor("webhook") as amplitude:
        targets = [
            hook(admin, tool, braze, name="Braze (production)", environment="production"),
            hook(admin, tool, amplitude, name="Amplitude (sandbox)"),
        ]
        braze.fail_next(1, 400, {"error": "bad"})
        amplitude.fail_next(1, 400, {"error": "bad"})
        send(client, raw, _orders(1))
        process_waiting()
        for destination in targets:
            deliver(destination)
    assert Delivery.objects.filter(status="dead").count() == 2

    # when: Replay all is asked about
    answer = admin_client.post(
        reverse("destinations:replay"), {"everything": "1"}, HTTP_X_CONSOLE_CONFIRM="ask"
    ).json()

    # then: the question counts both destinations, each line names one once
    assert answer["title"] == "Replay 2 dead letters to 2 destinations?"
    assert answer["button"] == "Replay 2 dead letters"
    assert answer["lines"][:2] == [
        "Sends 1 delivery again to Amplitude (sandbox).",
        "Sends 1 delivery again to Braze (production).",
    ]
    assert set(Delivery.objects.values_list("status", flat=True)) == {"dead"}


def test_a_destination_named_with_its_environment_is_not_named_twice(admin_client, admin, tool):
    with FakeVendor("webhook") as vendor:
        destination = hook(admin, tool, vendor, name="Braze (production)", environment="production")
    url = reverse("destinations:destination_toggle", args=[destination.pk])

    answer = admin_client.post(url, HTTP_X_CONSOLE_CONFIRM="ask").json()

    assert answer["lines"] == ["Stops routing new events to Braze (production)."]


def test_a_sandbox_replay_needs_no_confirmation(client, admin_client, admin, tool, web):
    with FakeVendor("webhook") as vendor:
        _dead_letters(client, admin, tool, web, vendor)
        answer = admin_client.post(
            reverse("destinations:replay"), {"everything": "1"}, HTTP_X_CONSOLE_CONFIRM="ask"
        ).json()
        assert answer == {"confirm": False}
        assert set(Delivery.objects.values_list("status", flat=True)) == {"dead"}

        admin_client.post(reverse("destinations:replay"), {"everything": "1"})

    assert set(Delivery.objects.values_list("status", flat=True)) == {"pending"}


def test_disabling_a_destination_asks_first(admin_client, admin, tool):
    with FakeVendor("webhook") as vendor:
        destination = hook(admin, tool, vendor, name="Braze", environment="production")
    url = reverse("destinations:destination_toggle", args=[destination.pk])

    page = admin_client.post(url)

    assert "Stops routing new events to Braze (production)." in page.content.decode()
    assert Destination.objects.get().is_enabled
    admin_client.post(url, {"confirmed": "1"})
    assert not Destination.objects.get().is_enabled
