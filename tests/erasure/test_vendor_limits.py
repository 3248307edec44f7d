"""A vendor whose deletion API cannot erase a person by the identifiers they are known by
says so in the evidence and never counts as erased: Amplitude deletes by user id only, so a
person known to it by a device id alone goes to the tool's owner to erase by hand."""

from __future__ import annotations

from django.urls import reverse

from apps.accounts.models import Notification
from apps.audit.models import AuditEvent
from apps.erasure import services
from apps.erasure.models import RequestStatus, TaskStatus
from apps.identity.services import link_record
from apps.tools.services import tool_create
from tests.destinations.vendors import FakeVendor
from tests.factories import UserFactory

from .conftest import destination_at, verified
from .test_propagation import run_due

NOT_SUPPORTED = "Not supported by vendor: Amplitude deletes by user id only"


def _amplitude_owned_by(admin, owner):
    return tool_create(
        actor=admin,
        name="Amplitude",
        vendor="Amplitude",
        category="Analytics",
        technical_owner=owner,
    )


def test_a_person_known_by_a_device_id_only_is_not_claimed_erased_at_amplitude(admin):
    # given: the person is known by two devices, and by no user id
    link_record(a=("anonymous_id", "ajs-kiosk-1"), b=("anonymous_id", "ajs-kiosk-2"), rule="alias")
    owner = UserFactory(full_name="Marcus Lee")
    with FakeVendor("amplitude") as amplitude:
        destination_at(admin, _amplitude_owned_by(admin, owner), amplitude)
        request = services.request_approve(
            actor=admin, request=verified(admin, "anonymous_id:ajs-kiosk-1")
        )

        # when
        run_due()
        deletions = [r for r in amplitude.requests if r.path == "/api/2/deletions/users"]

    # then: nothing was asked of Amplitude, and nothing claims the person is erased there
    task = request.tasks.get()
    assert deletions == []
    assert task.status == TaskStatus.MANUAL
    assert task.reason == ""
    assert task.last_error.startswith(NOT_SUPPORTED)
    assert "by anonymous_id only" in task.last_error
    states = [(e["what"], e["state"], e["message"]) for e in task.evidence]
    assert (
        "erase by anonymous_id",
        "not supported by vendor",
        "Amplitude deletes by user id only",
    ) in states
    assert {s for _, s, _ in states} == {"not supported by vendor"}
    request.refresh_from_db()
    assert request.status == RequestStatus.IN_PROGRESS
    # the tool's owner is asked to erase by hand, on the task's page
    assert task.assignee == owner
    assert task.due_on is not None
    notice = Notification.objects.get(user=owner)
    assert notice.url == reverse("erasure:task_detail", args=[task.pk])
    assert NOT_SUPPORTED in notice.body
    assert AuditEvent.objects.filter(action="erasure.task.handed_to_owner").count() == 1

    # and the evidence report shows it plainly
    from django.test import Client

    client = Client()
    client.force_login(admin)
    evidence = client.get(reverse("erasure:evidence", args=[request.pk])).content.decode()
    assert "not supported by vendor" in evidence
    assert "Amplitude deletes by user id only" in evidence


def test_a_person_with_a_user_id_is_erased_by_it_and_the_device_ids_noted_as_unsupported(admin):
    # given: a signed-in person with a device
    link_record(a=("user_id", "cus_77"), b=("anonymous_id", "ajs-77"), rule="identify")
    with FakeVendor("amplitude") as amplitude:
        destination_at(admin, _amplitude_owned_by(admin, UserFactory()), amplitude)
        request = services.request_approve(actor=admin, request=verified(admin, "user_id:cus_77"))

        # when
        run_due()
        deletions = [r.body for r in amplitude.requests if r.path == "/api/2/deletions/users"]

    # then: the deletion is asked by user id; the device id is in the evidence as unsupported
    assert [d["user_ids"] for d in deletions] == [["cus_77"]]
    task = request.tasks.get()
    assert task.status == TaskStatus.AWAITING_VENDOR
    unsupported = [e for e in task.evidence if e["state"] == "not supported by vendor"]
    assert [e["what"] for e in unsupported] == ["erase by anonymous_id"]
