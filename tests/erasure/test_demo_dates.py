"""The demo's erasure requests are dated as they would have happened: received, verified,
approved, the tools done, completed, and kept 24 months from completion."""

from __future__ import annotations

from dateutil.relativedelta import relativedelta
from django.urls import reverse
from django.utils import timezone

from apps.erasure import demo
from apps.erasure.models import ErasureRequest, RequestStatus, TaskKind
from apps.tools.services import tool_create
from tests.destinations.vendors import FakeVendor

from .conftest import destination_at


def test_the_demo_requests_are_verified_before_approval_and_done_before_completion(
    admin, client, tool
):
    # given: a tool with a deletion API and one its owner erases by hand
    hook = FakeVendor("webhook").start()
    try:
        destination_at(admin, tool, hook, name="Data team webhook")
        tool_create(
            actor=admin,
            name="Zendesk",
            vendor="Zendesk",
            category="Support",
            data_categories=["contact"],
            technical_owner=admin,
        )
        # when: the demo loads
        demo.load()
    finally:
        hook.stop()
    # then: each request's steps follow one another
    requests = {r.status: r for r in ErasureRequest.objects.all()}
    assert set(requests) >= {RequestStatus.COMPLETED, RequestStatus.IN_PROGRESS}
    for request in ErasureRequest.objects.exclude(verified_at=None):
        assert request.received_on <= timezone.localtime(request.verified_at).date()
        if request.approved_at:
            assert request.verified_at < request.approved_at, request
        for task in request.tasks.exclude(finished_at=None):
            assert request.approved_at <= task.finished_at, (request, task.name)
            if request.completed_at:
                assert task.finished_at <= request.completed_at, (request, task.name)
    done = requests[RequestStatus.COMPLETED]
    assert done.tasks.filter(kind=TaskKind.MANUAL).exists()
    assert done.tasks.filter(kind=TaskKind.API).exists()
    completed_on = timezone.localtime(done.completed_at).date()
    assert completed_on < timezone.localdate()
    assert done.retain_until == completed_on + relativedelta(months=24)
    # and the evidence says so
    client.force_login(admin)
    page = client.get(reverse("erasure:evidence", args=[done.pk])).content.decode()
    assert f"{done.retain_until:%Y-%m-%d} (24 months after completion)" in page


def test_the_demo_requests_count_what_they_erased_in_the_console(admin, client):
    # when: the demo loads
    demo.load()
    # then: the completed request erased its person here, and says so in its evidence
    requests = {r.status: r for r in ErasureRequest.objects.all()}
    done = requests[RequestStatus.COMPLETED]
    assert done.local_erasure["identifiers"] == 4
    assert done.local_erasure["profiles"] == 1  # one person, one profile
    assert done.local_erasure["consent records"] == 1
    client.force_login(admin)
    page = client.get(reverse("erasure:evidence", args=[done.pk])).content.decode()
    assert "identifiers: 4;" in page
    assert "profiles: 1;" in page
    # and the other approved one (Tom: four identifiers in one profile) counts one profile
    going = ErasureRequest.objects.exclude(approved_at=None).exclude(pk=done.pk).get()
    assert (going.local_erasure["identifiers"], going.local_erasure["profiles"]) == (4, 1)
