"""A capability review shows the capability under review; closing early says who closed it."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.access import services as svc
from apps.access.models import ReviewItem
from apps.access.registry import all_capabilities
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

REVIEWED = "audit.view"


@pytest.fixture
def wide_role(admin):
    """A role with every capability, held by one person."""
    role = svc.role_create(actor=admin, name="Marketing Operations", owner=admin)
    for capability in all_capabilities():
        svc.role_capability_set(actor=admin, role=role, capability=capability.code)
    person = UserFactory(full_name="Leo Martins")
    svc.role_assign(actor=admin, user=person, role=role)
    return role


def _capability_review(admin, **fields):
    return svc.review_campaign_create(
        actor=admin,
        name="Audit log readers",
        capabilities=[REVIEWED],
        deadline=fields.pop("deadline", timezone.now() + dt.timedelta(days=9)),
        unreviewed_policy=fields.pop("unreviewed_policy", "keep"),
    )


def test_a_capability_review_lists_only_the_reviewed_capability(admin, admin_client, wide_role):
    # given
    campaign = _capability_review(admin)
    others = wide_role.capability_rules.count() - 1

    # when
    html = admin_client.get(reverse("access:review_detail", args=[campaign.pk])).content.decode()

    # then
    row = html.split("Leo Martins", 1)[1].split("</tr>", 1)[0]
    assert f"<code>{REVIEWED}</code>" in row
    assert row.count("<code>") == 1
    assert f"and {others} more of the role, not under review" in row


def test_a_role_review_lists_every_capability_of_the_role_wrapped(admin, admin_client, wide_role):
    campaign = svc.review_campaign_create(
        actor=admin,
        name="Whole role",
        roles=[wide_role],
        deadline=timezone.now() + dt.timedelta(days=9),
        unreviewed_policy="keep",
    )

    html = admin_client.get(reverse("access:review_detail", args=[campaign.pk])).content.decode()

    row = html.split("Leo Martins", 1)[1].split("</tr>", 1)[0]
    assert row.count("<code>") == wide_role.capability_rules.count()
    assert '<div class="d-flex flex-wrap gap-1"><code>' in row
    assert "not under review" not in row


def test_closing_a_review_before_its_deadline_names_who_closed_it(admin, wide_role):
    # given
    admin.full_name = "Dana Whitfield"
    admin.save()
    campaign = _capability_review(admin)

    # when
    svc.review_campaign_close(campaign=campaign, actor=admin)

    # then
    item = ReviewItem.objects.get(campaign=campaign)
    assert (item.decision, item.by_policy) == ("keep", True)
    assert item.note == "closed early by Dana Whitfield before it was reviewed"


def test_a_review_closed_at_its_deadline_says_it_was_not_reviewed_in_time(admin, wide_role):
    campaign = _capability_review(admin)
    type(campaign).objects.filter(pk=campaign.pk).update(
        deadline=timezone.now() - dt.timedelta(minutes=1)
    )

    assert svc.review_campaigns_close_overdue() == 1

    assert ReviewItem.objects.get(campaign=campaign).note == "not reviewed by the deadline"
