"""The identity graph never takes an erased person back: no identifier on the suppression
list is created or linked again, whether by a service call, a link confirmed in the API or a
merge."""

import pytest
from rest_framework.test import APIClient

from apps.accounts.services import api_token_create
from apps.erasure.models import Suppression
from apps.erasure.suppression import digest
from apps.identity import selectors, services
from apps.identity.models import Identifier, Link
from apps.identity.normalise import Ident

pytestmark = pytest.mark.django_db


def _suppress(kind: str, value: str) -> None:
    Suppression.objects.create(value_hash=digest(kind, value), type=kind)


def _api(person):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=person, name='t')[1]}")
    return client


def test_linking_or_observing_an_erased_identifier_is_refused_and_creates_nothing():
    _suppress("email", "lena.fischer@example.de")

    for attempt in (
        lambda: services.link_record(
            a=("anonymous_id", "ajs-brand-new-visitor-77"),
            b=("email", "Lena.Fischer@example.de"),
            rule="identify",
        ),
        lambda: services.identifier_observe(("email", "lena.fischer@example.de")),
        lambda: services.identifiers_observe({Ident("email", "lena.fischer@example.de"): "Web"}),
    ):
        with pytest.raises(services.SubjectSuppressed):
            attempt()

    assert not Identifier.objects.exists()


def test_confirming_a_link_to_an_erased_identifier_in_the_api_is_refused(admin):
    link = services.link_record(
        a=("anonymous_id", "ajs-c4410e8d"),
        b=("anonymous_id", "ajs-5f1c9e2a"),
        rule="ip_user_agent",
        kind="probabilistic",
        confidence=0.74,
    )
    _suppress("anonymous_id", "ajs-5f1c9e2a")

    response = _api(admin).post(f"/api/v1/identity-links/{link.pk}/confirm/", {}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "subject_suppressed"
    assert Link.objects.get(pk=link.pk).status == "pending"


def test_merging_a_profile_with_an_erased_identifier_in_the_api_is_refused(admin):
    services.identifier_observe(("user_id", "cus_48213"))
    services.identifier_observe(("user_id", "cus_new_99999"))
    hers = selectors.profile_resolve(Ident("user_id", "cus_48213"))
    other = selectors.profile_resolve(Ident("user_id", "cus_new_99999"))
    _suppress("user_id", "cus_48213")

    response = _api(admin).post(
        f"/api/v1/profiles/{other.pk}/merge/", {"other": hers.pk}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "subject_suppressed"
    assert not Link.objects.exists()


def test_a_bulk_backfill_leaves_out_the_evidence_that_names_an_erased_person():
    import datetime as dt

    from apps.identity.engine.bulk import Evidence, bulk_link

    # given an erased address, and a backfill that links it and, apart, two others
    _suppress("email", "lena.fischer@example.de")
    at = dt.datetime(2026, 9, 1, 12, tzinfo=dt.UTC)
    evidence = [
        Evidence(
            Ident("anonymous_id", "ajs-77"),
            Ident("email", "lena.fischer@example.de"),
            "identify",
            at,
        ),
        Evidence(Ident("anonymous_id", "ajs-88"), Ident("user_id", "cus_88"), "identify", at),
    ]

    # when it is loaded
    result = bulk_link(evidence, source="crm import")

    # then only the other link is stored: the erased address is not recorded again
    assert (result.links, result.suppressed) == (1, 1)
    assert sorted(Identifier.objects.values_list("type", "value")) == [
        ("anonymous_id", "ajs-88"),
        ("user_id", "cus_88"),
    ]
