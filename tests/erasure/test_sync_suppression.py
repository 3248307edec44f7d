"""A reverse-ETL row is skipped when any identifier it maps belongs to an erased person, not
only the identifier the sync keys it by."""

from __future__ import annotations

from apps.erasure.models import Suppression
from apps.erasure.suppression import digest
from apps.syncs.engine.run import ERASED_KEY
from apps.syncs.models import SyncRunRow
from tests.syncs.conftest import (  # noqa: F401 (fixtures)
    destination_for,
    model,
    purposes,
    run_now,
    sent_rows,
    sync_for,
    table,
    tool,
    warehouse,
    webhook_vendor,
)


def test_a_row_whose_mapped_email_is_erased_is_skipped_though_it_is_keyed_by_user_id(
    admin,
    model,  # noqa: F811
    tool,  # noqa: F811
    webhook_vendor,  # noqa: F811
):
    Suppression.objects.create(value_hash=digest("email", "person1@acme.example"), type="email")
    sync = sync_for(
        admin,
        model,
        destination_for(admin, tool, webhook_vendor),
        subject_column="id",
        subject_type="user_id",
        mappings=[{"from": "email", "to": "contact_address"}, {"from": "name", "to": "full_name"}],
    )

    run = run_now(admin, sync)

    assert (run.added, run.skipped_suppression) == (2, 1)
    assert "person1@acme.example" not in str(sent_rows(webhook_vendor))
    assert SyncRunRow.objects.get(run=run, outcome="skipped_suppression").key == ERASED_KEY
