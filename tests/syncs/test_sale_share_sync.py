"""A reverse-ETL sync to an ad network sends a person's row only when their consent grants the
sale/share purpose the adapter requires, whatever purposes the destination was given."""

from __future__ import annotations

from apps.consent.services import consent_record, gpc_record
from apps.destinations.adapters.base import sha256
from apps.destinations.models import Destination
from apps.identity.normalise import Ident
from apps.syncs.models import SyncRunRow
from tests.destinations.vendors import FakeVendor

from .conftest import destination_for, run_now, sync_for


def test_a_conversions_sync_to_meta_skips_people_who_did_not_allow_sale_and_sharing(
    admin, model, tool
):
    # given a Meta destination whose stored purposes say only "advertising", and three people:
    # a Californian who opted out of nothing, one whose browser sent GPC, a European who
    # granted advertising but not sale/share
    person = [Ident("email", f"person{i}@acme.example") for i in range(3)]
    consent_record(
        subject=person[0], purpose="analytics", granted=True, source="banner", jurisdiction="ccpa"
    )
    gpc_record(subject=person[1], jurisdiction="ccpa")
    consent_record(
        subject=person[2], purpose="advertising", granted=True, source="banner", jurisdiction="gdpr"
    )
    with FakeVendor("meta_capi") as meta:
        destination = destination_for(admin, tool, meta, config={"pixel_id": "1234567890123"})
        Destination.objects.filter(pk=destination.pk).update(purposes=["advertising"])
        sync = sync_for(
            admin, model, destination, object="conversions", event_name="Purchase", mappings=[]
        )
        # when the sync runs
        run = run_now(admin, sync)
        sent = [e["user_data"]["em"] for r in meta.requests for e in r.body["data"]]
    # then only the Californian who did not opt out reaches Meta; the others are skipped
    assert sent == [[sha256(person[0].value)]]
    assert (run.added, run.skipped_consent) == (1, 2)
    skipped = SyncRunRow.objects.filter(run=run, outcome="skipped_consent")
    assert sorted(skipped.values_list("key", flat=True)) == ["c1", "c2"]
    assert "Sale or sharing of personal data" in skipped.first().message
