"""A sync's runs are numbered 1, 2, 3 … in the order they were made, each sync on its own;
runs made before numbering existed get their numbers in the same order."""

import datetime as dt
import importlib

from django.apps import apps as django_apps
from django.utils import timezone

from apps.syncs.models import SyncRun

from .conftest import destination_for, run_now, sync_for


def test_each_sync_numbers_its_own_runs_in_order(admin, model, tool, webhook_vendor):
    destination = destination_for(admin, tool, webhook_vendor)
    first = sync_for(admin, model, destination)
    second = sync_for(admin, model, destination, name="People to the data team")
    numbers = [
        run_now(admin, first, dry_run=True).number,
        run_now(admin, second, dry_run=True).number,
        run_now(admin, first).number,
        run_now(admin, first, dry_run=True).number,
    ]
    assert numbers == [1, 1, 2, 3]


def test_existing_runs_are_numbered_by_when_they_were_made(admin, model, tool, webhook_vendor):
    sync = sync_for(admin, model, destination_for(admin, tool, webhook_vendor))
    now = timezone.now()
    # made in id order 1, 2, 3 but at times 2, 3, 1 (as the demo's history was)
    runs = [
        SyncRun.objects.create(sync=sync, mode="upsert", created_at=now + dt.timedelta(days=d))
        for d in (2, 3, 1)
    ]
    for n, run in enumerate(runs, start=10):  # numbers out of any order
        SyncRun.objects.filter(pk=run.pk).update(number=n)
    migration = importlib.import_module("apps.syncs.migrations.0006_run_number")
    migration.number_existing_runs(django_apps, None)
    assert [SyncRun.objects.get(pk=r.pk).number for r in runs] == [2, 3, 1]
