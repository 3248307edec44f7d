"""Rotating the credential keys re-encrypts everything the console keeps encrypted, not only
destination credentials: a warehouse's DSN and an open erasure request's identifiers still
decrypt once the old key is dropped."""

from __future__ import annotations

import io

from cryptography.fernet import Fernet
from django.core.management import call_command

from apps.erasure.models import ErasureIdentifier, ErasureRequest
from apps.syncs import services as syncs
from apps.syncs.models import Warehouse
from martech.common import crypto
from tests.syncs.conftest import dsn

from .conftest import verified


def test_rotation_re_encrypts_warehouse_dsns_and_open_erasure_identifiers(admin, ana, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CREDENTIAL_KEYS = [old]
    warehouse = syncs.warehouse_create(actor=admin, name="Analytics", kind="postgres", dsn=dsn())
    request = verified(admin)
    assert ErasureIdentifier.objects.filter(request=request).exclude(token="").exists()

    settings.CREDENTIAL_KEYS = [new, old]
    out = io.StringIO()
    call_command("rotate_credential_keys", stdout=out)
    settings.CREDENTIAL_KEYS = [new]  # the old key is gone

    assert crypto.decrypt(Warehouse.objects.get(pk=warehouse.pk).dsn_token) == {"dsn": dsn()}
    stored = ErasureRequest.objects.get(pk=request.pk)
    assert crypto.decrypt(stored.subject_token) == {"value": "ana@acme.example"}
    values = {
        crypto.decrypt(i.token)["value"]
        for i in ErasureIdentifier.objects.filter(request=request).exclude(token="")
    }
    assert "ana@acme.example" in values
    assert "DSNs of 1 warehouses" in out.getvalue()
