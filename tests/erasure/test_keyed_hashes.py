"""The suppression list and the erasure requests keep keyed hashes (HMAC-SHA256 under
MARTECH_SUPPRESSION_KEYS): a copy of the database does not tell whose they are, even for ids
one can count through; lookups work with the key, across a key rotation, and for hashes
stored before the list was keyed."""

from __future__ import annotations

import hashlib
import hmac
import importlib
import os
import subprocess
import sys

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command

from apps.erasure import services, suppression
from apps.erasure.models import ErasureIdentifier, ErasureRequest, Suppression
from apps.erasure.suppression import current_key_id, digest, suppressed_subjects
from tests.workers import ROOT

from .conftest import verified

NEW_KEY = "a-new-suppression-key-made-for-this-rotation-0123456789"


def _stored_hashes() -> set[str]:
    return (
        set(Suppression.objects.values_list("value_hash", flat=True))
        | set(ErasureRequest.objects.values_list("subject_hash", flat=True))
        | set(ErasureIdentifier.objects.values_list("value_hash", flat=True))
    )


def _sha256(subject: str) -> str:
    return hashlib.sha256(subject.encode()).hexdigest()


def test_stored_hashes_are_not_the_sha256_of_the_identifier_and_the_key_finds_them(admin, ana):
    services.request_approve(actor=admin, request=verified(admin))

    stored = _stored_hashes()
    assert stored
    assert not {_sha256(subject) for subject in ana} & stored
    assert suppressed_subjects(ana | {"user_id:cus_2"}) == ana
    assert set(Suppression.objects.values_list("key_id", flat=True)) == {current_key_id()}


def test_counting_through_user_ids_with_sha256_finds_nobody(admin):
    request = services.request_create(
        actor=admin, identifier="user_id:cus_48213", channel="email", jurisdiction="gdpr"
    )
    services.request_verify(actor=admin, request=request, note="Signed in")
    services.request_approve(actor=admin, request=request)
    stored = _stored_hashes()

    found = [n for n in range(100_000) if _sha256(f"user_id:cus_{n:05d}") in stored]

    assert found == []
    assert digest("user_id", "cus_48213") in stored  # with the key, she is found


def test_after_a_key_rotation_lookups_work_and_every_stored_hash_changed(admin, ana, settings):
    old_key = settings.SUPPRESSION_KEYS[0]
    request = services.request_approve(actor=admin, request=verified(admin))
    before = {
        pk: (value_hash, key_id)
        for pk, value_hash, key_id in Suppression.objects.values_list("pk", "value_hash", "key_id")
    }
    requests_before = _stored_hashes()

    # a new key in front: lookups work at once, before anything is wrapped again
    settings.SUPPRESSION_KEYS = [NEW_KEY, old_key]
    assert suppressed_subjects(ana) == ana
    # someone erased while the rotation runs is stored under the new key
    Suppression.objects.create(value_hash=digest("email", "late@acme.example"), type="email")

    call_command("rotate_suppression_key", stdout=open(os.devnull, "w"))  # noqa: SIM115

    after = dict(Suppression.objects.values_list("pk", "value_hash"))
    assert all(after[pk] != value_hash for pk, (value_hash, _) in before.items())
    assert set(Suppression.objects.values_list("key_id", flat=True)) == {current_key_id()}
    assert not requests_before & _stored_hashes()
    assert suppressed_subjects(ana | {"email:late@acme.example", "user_id:cus_2"}) == ana | {
        "email:late@acme.example"
    }
    # the old key alone no longer finds her: the hashes are the chain of both keys
    alone = hmac.new(
        old_key.encode(), _sha256("user_id:cus_1").encode(), hashlib.sha256
    ).hexdigest()
    assert alone not in _stored_hashes()
    # the request's own hashes moved too: the same person is still recognised as open
    again = services.request_create(
        actor=admin, identifier="user_id:cus_1", channel="email", jurisdiction="gdpr"
    )
    assert again.duplicate_of == request


def test_hashes_stored_before_the_list_was_keyed_are_wrapped_by_the_migration(db):
    Suppression.objects.create(
        value_hash=_sha256("user_id:cus_7"), type="user_id", key_id=suppression.UNKEYED
    )
    migration = importlib.import_module("apps.erasure.migrations.0002_keyed_hashes")

    migration.wrap(django_apps, None)

    entry = Suppression.objects.get()
    assert entry.value_hash == digest("user_id", "cus_7") != _sha256("user_id:cus_7")
    assert entry.key_id == current_key_id()
    assert suppressed_subjects({"user_id:cus_7", "user_id:cus_8"}) == {"user_id:cus_7"}


def test_production_settings_refuse_to_start_without_suppression_keys():
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "MARTECH_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="martech.settings.production",
        DJANGO_SECRET_KEY="a-production-secret-key-for-this-test-0123456789abcdef",
        DJANGO_ALLOWED_HOSTS="console.example.com",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/martech",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "MARTECH_SUPPRESSION_KEYS" in result.stderr


@pytest.mark.parametrize("keys", [[], ["too-short"]])
def test_a_missing_or_short_key_fails_the_system_check(settings, keys):
    settings.SUPPRESSION_KEYS = keys

    errors = suppression.check_keys()

    assert [e.id for e in errors] == ["erasure.E001"]
