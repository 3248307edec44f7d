"""A body that cannot be parsed is a 400 on every API endpoint, before anything acts."""

import datetime as dt

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.views import APIView

from apps.access import services as access_services
from apps.access.models import ReviewCampaign
from martech.common.permissions import BodyParsed

UNSAFE = {"post", "put", "patch", "delete"}


def _close(api, campaign, body, content_type):
    return api.post(f"/api/v1/reviews/{campaign.pk}/close/", data=body, content_type=content_type)


@pytest.fixture
def campaign(admin):
    role = access_services.role_create(actor=admin, name="Auditors", owner=admin)
    access_services.role_capability_set(actor=admin, role=role, capability="audit.view")
    return access_services.review_campaign_create(
        actor=admin,
        name="Quarterly",
        roles=[role],
        deadline=timezone.now() + dt.timedelta(days=3),
        unreviewed_policy="keep",
    )


@pytest.mark.django_db
@pytest.mark.parametrize("body", ['{"a":', "{not json", "\x00"])
def test_a_malformed_json_body_does_not_close_a_review(admin_api, campaign, body):
    # when
    response = _close(admin_api, campaign, body, "application/json")

    # then
    assert (response.status_code, response.json()["code"]) == (400, "parse_error")
    assert ReviewCampaign.objects.get(pk=campaign.pk).closed_at is None


@pytest.mark.django_db
def test_an_empty_or_valid_body_still_closes_a_review(admin_api, campaign):
    response = _close(admin_api, campaign, "", "application/json")

    assert response.status_code == 200
    assert ReviewCampaign.objects.get(pk=campaign.pk).closed_at is not None


def _api_views(patterns=None, prefix=""):
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from _api_views(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            view = getattr(entry.callback, "cls", None)
            if view is not None and issubclass(view, APIView):
                methods = getattr(entry.callback, "actions", None) or {
                    method for method in view.http_method_names if hasattr(view, method)
                }
                yield prefix + str(entry.pattern), view, set(methods)


def test_every_api_view_that_takes_a_body_parses_it_before_it_acts():
    views = [(path, view) for path, view, methods in _api_views() if methods & UNSAFE]
    assert len(views) > 20
    missing = sorted(path for path, view in views if BodyParsed not in view.permission_classes)
    assert missing == []
