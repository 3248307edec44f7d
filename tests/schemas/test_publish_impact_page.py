"""A breaking publish first says how many of the last 7 days' events would have failed the new
version, by source; the API answers the same figures to the same people."""

import copy
import datetime as dt

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.events import services as events
from apps.events.models import Event
from apps.schemas import selectors, services
from apps.schemas.choices import VersionStatus
from apps.schemas.models import SchemaVersion
from tests.conftest import _api_client_for


def _seed(admin):
    """Order Completed traffic: web sends totals as decimals, the backend as whole numbers."""
    web, _ = events.source_create(actor=admin, name="Web storefront")
    backend, _ = events.source_create(actor=admin, name="Orders service")
    now = timezone.now()
    rows = []

    def add(source, days, properties, name="Order Completed", kind="track"):
        at = now - dt.timedelta(days=days)
        payload = {"type": kind, "event": name, "properties": properties}
        rows.append(
            Event(
                source=source,
                message_id=f"m-{len(rows)}",
                type=kind,
                name=name,
                payload=payload,
                timestamp=at,
                received_at=at,
            )
        )

    add(web, 1, {"order_id": "A-1", "total": 59.9, "currency": "EUR"})
    add(web, 2, {"order_id": "A-2", "total": 120.5, "currency": "EUR"})
    add(web, 3, {"order_id": "A-3", "total": 80, "currency": "EUR"})
    add(backend, 1, {"order_id": "A-1", "total": 5990, "currency": "EUR"})
    add(backend, 6, {"order_id": "A-2", "total": 12050, "currency": "USD"})
    add(web, 9, {"order_id": "A-0", "total": 10.5, "currency": "EUR"})  # older than 7 days
    add(web, 1, {"order_id": "A-1", "total": 59.9}, name="Checkout Started")  # another event
    Event.objects.bulk_create(rows)


def _breaking_draft(admin, order):
    """total becomes a whole number of cents: a type change, a new model."""
    draft = services.draft_create(actor=admin, schema=order.schema)
    document = copy.deepcopy(draft.json_schema)
    document["properties"]["total"] = {"type": "integer", "minimum": 0}
    return services.draft_update(actor=admin, version=draft, json_schema=document)


def _publish_url(version):
    return reverse("schemas:version_publish", args=[version.schema_id, version.pk])


def test_the_impact_counts_the_last_7_days_events_that_fail_the_draft_by_source(admin, order):
    _seed(admin)
    draft = _breaking_draft(admin, order)

    impact = selectors.publish_impact(version=draft)

    assert (impact["total"], impact["checked"], impact["failed"]) == (5, 5, 2)
    assert impact["sampled"] is False
    assert impact["sources"] == [
        {"source": "Web storefront", "checked": 3, "failed": 2},
        {"source": "Orders service", "checked": 2, "failed": 0},
    ]


def test_the_impact_checks_a_capped_sample_and_says_so(admin, order):
    _seed(admin)
    draft = _breaking_draft(admin, order)

    impact = selectors.publish_impact(version=draft, cap=2)

    assert (impact["total"], impact["checked"], impact["sampled"]) == (5, 2, True)
    # the latest two: web A-1 (59.9 fails) and backend A-1 (5990 passes), a day old
    assert impact["failed"] == 1


def test_a_breaking_publish_names_its_impact_and_publishes_only_when_confirmed(
    admin, admin_client, order
):
    # given
    _seed(admin)
    draft = _breaking_draft(admin, order)

    # when posted without JavaScript and without confirmation
    page = admin_client.post(_publish_url(draft))

    # then a page states the consequence and nothing is published
    text = page.content.decode()
    assert page.status_code == 200
    assert "Publish the breaking change 2-0-0?" in text
    assert "2 of 5 Order Completed events in the last 7 days would have failed 2-0-0" in text
    assert "Web storefront: 2 of 3 would have failed." in text
    assert "Orders service: 0 of 2 would have failed." in text
    assert 'name="confirmed" value="1"' in text
    assert SchemaVersion.objects.get(pk=draft.pk).status == VersionStatus.DRAFT

    # when the page's form is posted
    done = admin_client.post(_publish_url(draft), {"confirmed": "1"})

    # then it is published, and the publication is in the audit log
    assert done.status_code == 302
    assert SchemaVersion.objects.get(pk=draft.pk).number == "2-0-0"
    record = AuditEvent.objects.get(action="schemas.version.published", target_id=str(draft.pk))
    assert record.metadata["schema"] == "Order Completed"


def test_the_dialog_question_carries_the_same_impact(admin, admin_client, order):
    _seed(admin)
    draft = _breaking_draft(admin, order)

    asked = admin_client.post(_publish_url(draft), HTTP_X_CONSOLE_CONFIRM="ask")

    assert asked.json()["confirm"] is True
    assert "Web storefront: 2 of 3 would have failed." in asked.json()["lines"]
    assert SchemaVersion.objects.get(pk=draft.pk).status == VersionStatus.DRAFT


def test_a_breaking_publish_without_traffic_says_there_is_none_to_check(admin, admin_client, order):
    draft = _breaking_draft(admin, order)

    page = admin_client.post(_publish_url(draft))

    assert "No Order Completed events arrived in the last 7 days" in page.content.decode()


def test_the_api_answers_the_publish_impact_to_who_may_publish_it(admin, admin_api, editor, order):
    _seed(admin)
    draft = _breaking_draft(admin, order)
    url = reverse("api:schema-version-publish-impact", args=[order.schema_id, draft.pk])
    as_editor = Client()
    as_editor.force_login(editor)

    answer = admin_api.get(url)
    refused = _api_client_for(editor).get(url)
    refused_page = as_editor.post(_publish_url(draft))

    assert answer.status_code == 200
    body = answer.json()
    assert (body["number"], body["kind"]) == ("2-0-0", "breaking")
    assert (body["total"], body["checked"], body["failed"], body["sampled"]) == (5, 5, 2, False)
    assert body["sources"][0] == {"source": "Web storefront", "checked": 3, "failed": 2}
    # the editor may publish compatible changes only: refused alike by the API and the page
    assert refused.status_code == 403
    assert refused_page.status_code == 403


def test_a_published_version_has_no_publish_impact(admin_api, order):
    url = reverse("api:schema-version-publish-impact", args=[order.schema_id, order.pk])

    assert admin_api.get(url).status_code == 409
