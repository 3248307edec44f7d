"""No consent choice is recorded for an erased person, through the collection API's
/v1/consent or the consent API, by any id the request names."""

import base64
import json

import pytest

from apps.consent import services
from apps.consent.defaults import ensure_default_purposes
from apps.consent.models import ConsentRecord
from apps.erasure.models import Suppression
from apps.erasure.suppression import digest
from apps.events.services import source_create
from apps.identity.models import Identifier
from martech.common.errors import ApplicationError

pytestmark = pytest.mark.django_db
LENA = {"email": "lena.fischer@example.de", "user_id": "cus_48213", "anonymous_id": "ajs-5f1c9e2a"}


@pytest.fixture(autouse=True)
def erased(db):
    ensure_default_purposes()
    for kind, value in LENA.items():
        Suppression.objects.create(value_hash=digest(kind, value), type=kind)


def _consent(client, raw, body):
    auth = base64.b64encode(f"{raw}:".encode()).decode()
    return client.post(
        "/v1/consent",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {auth}",
    )


@pytest.mark.parametrize(
    "ids",
    [
        {"anonymousId": "ajs-5f1c9e2a"},
        {"userId": "cus_48213"},
        {"userId": "cus_fresh_1", "anonymousId": "ajs-5f1c9e2a"},
    ],
)
def test_banner_choices_for_an_erased_visitor_are_refused(client, admin, ids):
    _, raw = source_create(actor=admin, name="Web")

    response = _consent(client, raw, {**ids, "choices": {"analytics": True}})

    assert response.status_code == 400
    assert response.json()["code"] == "subject_suppressed"
    assert not ConsentRecord.objects.exists()
    assert not Identifier.objects.exists()


def test_the_consent_api_refuses_a_choice_for_an_erased_person(admin_api):
    response = admin_api.post(
        "/api/v1/consent-records/",
        {
            "identifier": "email:Lena.Fischer@example.de",
            "purpose": "analytics",
            "granted": True,
            "jurisdiction": "gdpr",
        },
        format="json",
        HTTP_SEC_GPC="1",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "subject_suppressed"
    assert not ConsentRecord.objects.exists()


def test_a_gpc_signal_for_an_erased_person_is_not_recorded():
    with pytest.raises(ApplicationError) as refused:
        services.gpc_record(subject=("user_id", "cus_48213"), jurisdiction="ccpa")

    assert refused.value.code == "subject_suppressed"
    assert not ConsentRecord.objects.exists()
