"""Publishing a breaking change, deprecating and discarding first say what they do; a
compatible publish goes at once."""

import copy

from django.urls import reverse

from apps.schemas import services
from apps.schemas.choices import VersionStatus
from apps.schemas.models import EventSchema, SchemaVersion


def _draft_with(actor, version, mutate, fields=None):
    draft = services.draft_create(actor=actor, schema=version.schema)
    doc = copy.deepcopy(draft.json_schema)
    mutate(doc)
    return services.draft_update(actor=actor, version=draft, json_schema=doc, fields=fields)


def _url(name, version):
    return reverse(f"schemas:{name}", args=[version.schema_id, version.pk])


def test_publishing_a_breaking_change_without_confirmation_names_it_and_publishes_nothing(
    admin, admin_client, order
):
    draft = _draft_with(admin, order, lambda d: d["properties"].pop("currency"))

    page = admin_client.post(_url("version_publish", draft))

    text = page.content.decode()
    assert page.status_code == 200
    assert "Publish the breaking change 2-0-0?" in text
    assert "Publishes Order Completed 2-0-0: a new model, not compatible with 1-0-0" in text
    assert "currency:" in text
    assert SchemaVersion.objects.get(pk=draft.pk).status == VersionStatus.DRAFT
    admin_client.post(_url("version_publish", draft), {"confirmed": "1"})
    assert SchemaVersion.objects.get(pk=draft.pk).number == "2-0-0"


def test_a_compatible_publish_needs_no_confirmation(admin, admin_client, order):
    draft = _draft_with(admin, order, lambda d: d["properties"]["total"].update(minimum=1))
    asked = admin_client.post(_url("version_publish", draft), HTTP_X_CONSOLE_CONFIRM="ask")
    assert asked.json() == {"confirm": False}

    admin_client.post(_url("version_publish", draft))

    assert SchemaVersion.objects.get(pk=draft.pk).number == "1-1-0"


def test_discarding_the_only_draft_says_the_schema_goes_too_and_waits(admin, admin_client):
    from .conftest import ORDER

    schema = services.schema_create(actor=admin, name="Signed Up", json_schema=ORDER)
    draft = schema.versions.get()

    page = admin_client.post(_url("version_discard", draft))

    assert "It is the only version: the schema Signed Up goes too." in page.content.decode()
    assert "This cannot be undone." in page.content.decode()
    assert EventSchema.objects.filter(pk=schema.pk).exists()
    admin_client.post(_url("version_discard", draft), {"confirmed": "1"})
    assert not EventSchema.objects.filter(pk=schema.pk).exists()


def test_deprecating_asks_first(admin_client, order):
    page = admin_client.post(_url("version_deprecate", order))

    assert "Deprecate Order Completed 1-0-0?" in page.content.decode()
    assert SchemaVersion.objects.get(pk=order.pk).status == VersionStatus.PUBLISHED
    admin_client.post(_url("version_deprecate", order), {"confirmed": "1"})
    assert SchemaVersion.objects.get(pk=order.pk).status == VersionStatus.DEPRECATED
