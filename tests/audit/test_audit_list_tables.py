"""The audit log page: sortable by time, actor, action and target, filtered by kinds of record
and actions in words, and exported as CSV with the same filters to those who may read it."""

import csv
import datetime as dt
import io

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.models import AuditEvent
from apps.tools.models import Tool
from tests.factories import person_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def events():
    """Four events an hour apart: two about tools, one about a person, one by the system."""
    start = timezone.now() - dt.timedelta(days=1)
    tool_type = ContentType.objects.get_for_model(Tool)
    user_type = ContentType.objects.get_for_model(User)
    specs = [
        ("tools.tool.created", "ada@acme.example", tool_type, "Braze"),
        ("accounts.user.updated", "bob@acme.example", user_type, "Cleo"),
        ("tools.tool.updated", "cleo@acme.example", tool_type, "=Braze"),
        ("accounts.api_token.purged", "", None, ""),
    ]
    return [
        AuditEvent.objects.create(
            action=action,
            actor_label=actor,
            target_type=target_type,
            target_id="7" if target_type else "",
            target_repr=target,
            occurred_at=start + dt.timedelta(hours=i),
        )
        for i, (action, actor, target_type, target) in enumerate(specs)
    ]


def _actions(response):
    assert response.status_code == 200
    return [event.action for event in response.context["object_list"]]


def test_the_audit_log_sorts_by_time_both_ways(admin_client, events):
    url = reverse("audit:event_list")
    oldest_first = [e.action for e in events]
    mine = {e.pk for e in events}

    def only_mine(response):
        return [e.action for e in response.context["object_list"] if e.pk in mine]

    assert only_mine(admin_client.get(url, {"sort": "time"})) == oldest_first
    assert only_mine(admin_client.get(url, {"sort": "-time"})) == oldest_first[::-1]
    assert only_mine(admin_client.get(url)) == oldest_first[::-1]


def test_the_audit_log_sorts_by_action_and_actor(admin_client, events):
    url = reverse("audit:event_list")
    by_action = _actions(admin_client.get(url, {"sort": "action", "actor": "ada@acme.example"}))
    assert by_action == ["tools.tool.created"]
    mine = {e.pk for e in events}
    shown = [
        e.actor_label
        for e in admin_client.get(url, {"sort": "-actor"}).context["object_list"]
        if e.pk in mine
    ]
    assert shown == ["cleo@acme.example", "bob@acme.example", "ada@acme.example", ""]


def test_the_audit_filters_offer_record_kinds_and_actions_in_words(admin_client, events):
    html = admin_client.get(reverse("audit:event_list")).text
    assert '<select name="target_type"' in html
    assert '<option value="tools.tool">Tool</option>' in html
    assert '<select name="action"' in html
    assert '<option value="tools.tool.created">Tool created</option>' in html
    assert "app.model" not in html


def test_the_audit_log_filters_by_a_kind_of_record_chosen_from_the_list(admin_client, events):
    response = admin_client.get(reverse("audit:event_list"), {"target_type": "tools.tool"})
    assert sorted(_actions(response)) == ["tools.tool.created", "tools.tool.updated"]
    assert '<option value="tools.tool" selected>Tool</option>' in response.text


def _csv(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_the_audit_export_holds_the_filtered_events_in_the_chosen_order(admin_client, events):
    url = reverse("audit:event_export")
    rows = _csv(admin_client.get(url, {"target_type": "tools.tool", "sort": "time"}))
    assert [row["action"] for row in rows] == ["tools.tool.created", "tools.tool.updated"]
    assert [row["action_words"] for row in rows] == ["Tool created", "Tool updated"]
    assert rows[0]["target_type"] == "tools.tool"
    assert rows[1]["target"] == "'=Braze"  # a formula-like cell is written as text
    rows = _csv(admin_client.get(url, {"action": "accounts.", "actor": "bob@acme.example"}))
    assert [row["action"] for row in rows] == ["accounts.user.updated"]


def test_the_audit_list_offers_the_export_with_its_filters(admin_client, events):
    html = admin_client.get(reverse("audit:event_list"), {"target_type": "tools.tool"}).text
    assert f'href="{reverse("audit:event_export")}?target_type=tools.tool"' in html


def test_the_audit_export_is_refused_without_the_audit_view_capability(admin, user_client, events):
    url = reverse("audit:event_export")
    assert user_client.get(url).status_code == 403
    tools_reader = person_with(admin, "tools.view", name="Tia Reader")
    user_client.force_login(tools_reader)
    response = user_client.get(url, {"target_type": "tools.tool"})
    assert response.status_code == 403
    assert b"Braze" not in response.content


def test_the_audit_export_needs_a_signed_in_person(client, events):
    response = client.get(reverse("audit:event_export"))
    assert response.status_code == 302
