"""Taking access away first says who loses what: without ``confirmed=1`` the page states
the consequence and nothing changes; with it the access goes."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.access import services as svc
from apps.access.models import (
    AccessAssignment,
    AccessRequest,
    BirthrightRule,
    ReviewCampaign,
    Role,
    RoleCapability,
    TrainingCompletion,
)
from apps.accounts.models import ApiToken
from apps.accounts.services import api_token_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def role(admin):
    role = svc.role_create(actor=admin, name="Marketing Operations", owner=admin)
    svc.role_capability_set(actor=admin, role=role, capability="audit.view")
    return role


@pytest.fixture
def leo(admin, role):
    leo = UserFactory(full_name="Leo Martins")
    svc.role_assign(actor=admin, user=leo, role=role)
    return leo


def _asked(client, url, data=None):
    page = client.post(url, data or {})
    assert page.status_code == 200
    return page.content.decode()


def test_revoking_in_a_review_without_confirmation_names_the_loss_and_keeps_the_access(
    admin, admin_client, role, leo
):
    campaign = svc.review_campaign_create(
        actor=admin,
        name="Q4 review",
        roles=[role],
        deadline=timezone.now() + dt.timedelta(days=10),
        unreviewed_policy="keep",
    )
    item = campaign.items.get()
    url = reverse("access:review_item_decide", args=[item.pk])

    text = _asked(admin_client, url, {"decision": "revoke"})

    assert "Revoke Leo Martins&#x27;s Marketing Operations?" in text
    assert "Leo Martins loses Marketing Operations and what it gives at once." in text
    assert AccessAssignment.objects.get(user=leo).ended_at is None
    admin_client.post(url, {"decision": "revoke", "confirmed": "1"})
    assert AccessAssignment.objects.get(user=leo).ended_at is not None


def test_keeping_in_a_review_needs_no_confirmation(admin, admin_client, role, leo):
    campaign = svc.review_campaign_create(
        actor=admin,
        name="Q4 review",
        roles=[role],
        deadline=timezone.now() + dt.timedelta(days=10),
        unreviewed_policy="keep",
    )
    item = campaign.items.get()
    url = reverse("access:review_item_decide", args=[item.pk])
    asked = admin_client.post(url, {"decision": "keep"}, HTTP_X_CONSOLE_CONFIRM="ask")
    assert asked.json() == {"confirm": False}

    admin_client.post(url, {"decision": "keep"})

    item.refresh_from_db()
    assert item.decision == "keep"


def test_closing_a_review_that_revokes_the_undecided_says_so_first(admin, admin_client, role, leo):
    campaign = svc.review_campaign_create(
        actor=admin,
        name="Q4 review",
        roles=[role],
        deadline=timezone.now() + dt.timedelta(days=10),
        unreviewed_policy="revoke",
    )
    url = reverse("access:review_close", args=[campaign.pk])

    text = _asked(admin_client, url)

    assert "1 undecided item is revoked: whoever holds it loses it at once." in text
    assert ReviewCampaign.objects.get(pk=campaign.pk).is_open
    admin_client.post(url, {"confirmed": "1"})
    assert not ReviewCampaign.objects.get(pk=campaign.pk).is_open


def test_removing_a_role_from_a_person_asks_first(admin_client, leo):
    assignment = AccessAssignment.objects.get(user=leo)
    url = reverse("access:assignment_remove", args=[assignment.pk])

    text = _asked(admin_client, url)

    assert "Remove Marketing Operations from Leo Martins?" in text
    assert AccessAssignment.objects.get(pk=assignment.pk).ended_at is None
    admin_client.post(url, {"confirmed": "1"})
    assert AccessAssignment.objects.get(pk=assignment.pk).ended_at is not None


def test_removing_a_capability_from_a_role_counts_its_holders_first(admin_client, role, leo):
    rule = RoleCapability.objects.get(role=role)
    url = reverse("access:role_capability_remove", args=[rule.pk])

    text = _asked(admin_client, url)

    assert "1 person holding Marketing Operations lose “Read the audit log” at once" in text
    assert RoleCapability.objects.filter(pk=rule.pk).exists()
    admin_client.post(url, {"confirmed": "1"})
    assert not RoleCapability.objects.filter(pk=rule.pk).exists()


def test_removing_a_birthright_rule_asks_first(admin, admin_client, role):
    rule = svc.birthright_rule_add(actor=admin, role=role, team="Marketing")
    url = reverse("access:birthright_remove", args=[rule.pk])

    text = _asked(admin_client, url)

    assert "Remove the birthright rule for Marketing Operations (team is Marketing)?" in text
    assert BirthrightRule.objects.filter(pk=rule.pk).exists()
    admin_client.post(url, {"confirmed": "1"})
    assert not BirthrightRule.objects.filter(pk=rule.pk).exists()


def test_deleting_a_role_says_it_cannot_be_undone_first(admin_client, role):
    url = reverse("access:role_delete", args=[role.pk])

    text = _asked(admin_client, url)

    assert "Deletes Marketing Operations with its 1 capability rule and 0 birthright rules." in text
    assert "This cannot be undone." in text
    assert Role.objects.filter(pk=role.pk).exists()
    admin_client.post(url, {"confirmed": "1"})
    assert not Role.objects.filter(pk=role.pk).exists()


def test_removing_a_training_completion_asks_first(admin, admin_client, leo):
    training = svc.training_create(actor=admin, name="Privacy basics")
    completion = svc.training_completion_record(
        actor=admin, user=leo, training=training, completed_on=timezone.localdate()
    )
    url = reverse("access:completion_delete", args=[completion.pk])

    text = _asked(admin_client, url)

    assert "Remove Leo Martins&#x27;s Privacy basics completion?" in text
    assert TrainingCompletion.objects.filter(pk=completion.pk).exists()
    admin_client.post(url, {"confirmed": "1"})
    assert not TrainingCompletion.objects.filter(pk=completion.pk).exists()


def test_deactivating_a_person_counts_their_tokens_and_access_first(admin_client, leo):
    api_token_create(user=leo, name="Sheets", days=5)
    url = reverse("accounts:user_active", args=[leo.pk])

    text = _asked(admin_client, url, {"active": "false"})

    assert "Deactivate Leo Martins?" in text
    assert "(1 role or grant) stop at once" in text
    assert "1 API token of theirs is revoked for good" in text
    leo.refresh_from_db()
    assert leo.is_active
    admin_client.post(url, {"active": "false", "confirmed": "1"})
    leo.refresh_from_db()
    assert not leo.is_active


def test_revoking_an_api_token_asks_first(user, user_client):
    token, _ = api_token_create(user=user, name="Sheets export", days=5)
    url = reverse("accounts:token_revoke", args=[token.pk])

    text = _asked(user_client, url)

    assert "Revoke “Sheets export”?" in text
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    user_client.post(url, {"confirmed": "1"})
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


def test_cancelling_an_access_request_asks_first(client, admin):
    jonas = UserFactory(full_name="Jonas")
    request = svc.access_request_create(
        requester=jonas, capability="audit.view", duration_days=5, justification="Checking."
    )
    client.force_login(jonas)
    url = reverse("access:request_cancel", args=[request.pk])

    assert f"Cancel request #{request.pk}?" in _asked(client, url)
    assert AccessRequest.objects.get(pk=request.pk).status == "pending"
    client.post(url, {"confirmed": "1"})
    assert AccessRequest.objects.get(pk=request.pk).status == "cancelled"
