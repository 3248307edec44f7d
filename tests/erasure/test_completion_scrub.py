"""What an erasure leaves behind: at approval the person's identifiers (all of them, those
found through the identity graph too) are scrubbed from sync run samples and row results,
the sandbox inbox, deliveries' errors and dead letters, destinations' last errors and schema
violations; at completion again, and the request drops its notes and masks."""

from __future__ import annotations

import hashlib

import pytest
from django.db import connection
from django.urls import reverse

from apps.destinations.models import Capture, Delivery
from apps.erasure import services
from apps.erasure.models import ErasureIdentifier, RequestStatus
from apps.erasure.scrub import ERASED
from apps.identity.services import link_record
from apps.schemas.models import Violation
from apps.syncs import services as syncs
from apps.syncs.models import RowOutcome, SqlModel, Sync, SyncRun, SyncRunRow, Warehouse
from tests.destinations.vendors import FakeVendor
from tests.syncs.conftest import Table, destination_for, dsn, run_now, sync_for

from .conftest import destination_at, verified
from .test_propagation import run_due

LENA = "lena.fischer@example.de"


@pytest.fixture
def lena(db):
    """Lena: known as cus_48213 with two devices; her email is linked to the user id, so an
    erasure asked by user id finds it only through the identity graph."""
    link_record(a=("user_id", "cus_48213"), b=("email", LENA), rule="identify")
    for anon in ("ajs-5f1c9e2a", "ajs-lena-new-device"):
        link_record(a=("user_id", "cus_48213"), b=("anonymous_id", anon), rule="identify")


@pytest.fixture
def table(db):
    """A company warehouse's table (PostgreSQL; the scrub itself is the same on SQLite)."""
    if connection.vendor != "postgresql":
        pytest.skip("the warehouse table is a PostgreSQL one")
    table = Table()
    yield table
    table.drop()


def _dry_run_with_lena(admin, table, tool):
    table.fill(3)
    table.execute(f"INSERT INTO {table.name} VALUES ('c-lena', %s, 'Lena', 48)", [LENA])  # noqa: S608
    warehouse = syncs.warehouse_create(actor=admin, name="Analytics", kind="postgres", dsn=dsn())
    model = syncs.model_create(
        actor=admin,
        name="People",
        warehouse=warehouse,
        primary_key="id",
        sql=f"SELECT * FROM {table.name}",  # noqa: S608
    )
    with FakeVendor("webhook") as hook:
        sync = sync_for(admin, model, destination_for(admin, tool, hook))
        run = run_now(admin, sync, dry_run=True)
        assert hook.requests == []  # a plan sends nothing
    return run


def test_approval_drops_the_persons_rows_from_dry_run_samples_found_through_the_graph(
    admin, lena, table, tool
):
    # given: a dry run whose sample shows Lena's row (by email) among others
    run = _dry_run_with_lena(admin, table, tool)
    assert LENA in str(run.sample)
    others = [row for row in run.sample if row["identifier"] != LENA]
    assert others

    # when: her erasure, asked by user id, is approved
    request = services.request_approve(actor=admin, request=verified(admin, "user_id:cus_48213"))

    # then: her row is gone from the sample, the others stay as they were
    run.refresh_from_db()
    assert LENA not in str(run.sample)
    assert run.sample == others
    assert request.local_erasure["sync run samples scrubbed"] == 1


def test_approval_scrubs_every_identifier_from_stored_texts_and_leaves_longer_ids_alone(
    admin, lena, tool
):
    # given: Lena's identifiers where records are not deleted by subject
    with FakeVendor("webhook") as hook:
        destination = destination_at(admin, tool, hook)
    dead = Delivery.objects.create(
        destination=destination,
        subject="user_id:cus_9",
        status="dead",
        error=f"400: unknown profile ajs-lena-new-device (cus_482130 is fine) for {LENA}.",
        payload={"userId": "cus_9", "properties": {"referrer": "lena.fischer%40example.de"}},
    )
    destination.last_error = "Erasure: 400: no such user CUS_48213"
    destination.save(update_fields=["last_error"])
    capture = Capture.objects.create(
        destination=destination,
        method="POST",
        url="https://vendor.example/track",
        headers={},
        body='{"userId": "someone-else", "email": "' + LENA + '"}',
    )
    hashed = hashlib.sha256(LENA.encode()).hexdigest()
    hashed_capture = Capture.objects.create(
        destination=destination,
        method="POST",
        url="https://graph.example/v19.0/1/events",
        headers={},
        body='{"data": [{"user_data": {"em": ["' + hashed + '"]}}]}',
    )
    kept_capture = Capture.objects.create(
        destination=destination,
        method="POST",
        url="https://vendor.example/track",
        headers={},
        body='{"userId": "cus_482130"}',
    )
    violation = Violation.objects.create(
        source="Web",
        event_name="Signed Up",
        kind="wrong_type",
        path="customer",
        message="'cus_48213' is not of type integer",
        sample="cus_48213",
    )
    run = SyncRun.objects.create(
        sync=_a_sync(destination), mode="upsert", error=f"Stopped at {LENA}: 503"
    )
    keyed = SyncRunRow.objects.create(
        run=run, key=LENA, outcome=RowOutcome.FAILED, message="400: invalid"
    )
    mentioned = SyncRunRow.objects.create(
        run=run, key="c2", outcome=RowOutcome.FAILED, message="400: duplicate of ajs-5f1c9e2a"
    )

    # when
    request = services.request_approve(actor=admin, request=verified(admin, "user_id:cus_48213"))

    # then: every identifier, in any case and URL-encoded, is replaced; longer ids stay
    dead.refresh_from_db()
    assert dead.error == (f"400: unknown profile {ERASED} (cus_482130 is fine) for {ERASED}.")
    assert dead.payload == {"userId": "cus_9", "properties": {"referrer": ERASED}}
    destination.refresh_from_db()
    assert destination.last_error == f"Erasure: 400: no such user {ERASED}"
    assert not Capture.objects.filter(pk__in=[capture.pk, hashed_capture.pk]).exists()
    assert Capture.objects.filter(pk=kept_capture.pk).exists()
    violation.refresh_from_db()
    assert (violation.sample, violation.message) == (ERASED, f"'{ERASED}' is not of type integer")
    run.refresh_from_db()
    assert run.error == f"Stopped at {ERASED}: 503"
    assert not SyncRunRow.objects.filter(pk=keyed.pk).exists()
    mentioned.refresh_from_db()
    assert mentioned.message == f"400: duplicate of {ERASED}"
    assert request.local_erasure["sandbox captures deleted"] == 2
    assert request.local_erasure["delivery errors scrubbed"] == 1


def _a_sync(destination):
    """A sync as stored, for a run to hang on (its model never runs here)."""
    warehouse = Warehouse.objects.create(name="Analytics", kind="postgres")
    model = SqlModel.objects.create(
        name="People", warehouse=warehouse, primary_key="id", sql="SELECT id, email FROM people"
    )
    return Sync.objects.create(
        name="People to CRM",
        model=model,
        destination=destination,
        object="contacts",
        subject_column="email",
        subject_type="email",
    )


def test_completion_drops_the_notes_and_masks_and_the_pages_say_so(admin, client, lena):
    # given: a request with notes and a verification note, about someone no tool holds
    asked = services.request_create(
        actor=admin,
        identifier="email:Lena.Fischer@example.de",
        channel="email",
        jurisdiction="gdpr",
        notes="Lena asked on the phone, 0151 2345678",
    )
    asked = services.request_verify(actor=admin, request=asked, note="Replied from " + LENA)
    assert asked.subject_masked

    # when: it is approved (no tool to ask: it completes at once)
    request = services.request_approve(actor=admin, request=asked)

    # then
    request.refresh_from_db()
    assert request.status == RequestStatus.COMPLETED
    assert (request.notes, request.verification_note, request.subject_masked) == ("", "", "")
    identifiers = ErasureIdentifier.objects.filter(request=request)
    assert identifiers.count() == 4
    assert set(identifiers.values_list("masked", flat=True)) == {""}
    assert set(identifiers.values_list("token", flat=True)) == {""}
    assert all(len(h) == 64 for h in identifiers.values_list("value_hash", flat=True))
    client.force_login(admin)
    for page in ("erasure:request_detail", "erasure:evidence"):
        body = client.get(reverse(page, args=[request.pk])).content.decode()
        assert "Lena asked" not in body
        assert "Replied from" not in body
        assert "***" not in body
        assert "removed at completion" in body
    listing = client.get(reverse("erasure:request_list") + "?state=completed").content.decode()
    assert "***" not in listing


def test_the_duplicates_a_completed_request_settled_drop_their_notes_and_masks(admin, lena):
    first = verified(admin, "user_id:cus_48213")
    again = services.request_create(
        actor=admin,
        identifier="user_id:cus_48213",
        channel="phone",
        jurisdiction="gdpr",
        notes="Called again",
    )
    assert again.status == RequestStatus.DUPLICATE
    services.request_approve(actor=admin, request=first)
    again.refresh_from_db()
    assert (again.notes, again.subject_masked, again.subject_token) == ("", "", "")
    assert set(again.identifiers.values_list("masked", flat=True)) == {""}


def test_completion_scrubs_what_was_written_about_the_person_while_the_tools_were_asked(
    admin, lena, tool
):
    # given: an approved request whose deletion API is done and whose manual tool waits,
    # and a dead letter about her written since
    from apps.tools.services import tool_create

    tool_create(
        actor=admin,
        name="Zendesk",
        vendor="Zendesk",
        category="Support",
        data_categories=["contact"],
        technical_owner=admin,
    )
    with FakeVendor("webhook") as hook:
        destination = destination_at(admin, tool, hook)
        request = services.request_approve(
            actor=admin, request=verified(admin, "user_id:cus_48213")
        )
        run_due()
    assert request.tasks.get(destination=destination).status == "done"
    late = Delivery.objects.create(
        destination=destination, subject="user_id:cus_7", status="dead", error=f"409: {LENA} exists"
    )

    # when: the owner confirms, naming her, and the request completes
    manual = request.tasks.get(name="Zendesk")
    services.task_confirm(actor=admin, task=manual, note=f"Deleted the end-user {LENA}")

    # then: the late dead letter is clean, and the evidence keeps how, without her email
    request.refresh_from_db()
    assert request.status == RequestStatus.COMPLETED
    late.refresh_from_db()
    assert late.error == f"409: {ERASED} exists"
    manual.refresh_from_db()
    assert manual.confirmation == f"Deleted the end-user {ERASED}"
