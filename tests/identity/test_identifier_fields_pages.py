"""Every place a person types an identifier (profile lookup, erasure request, consent lookup)
reads it by one rule: ``type:value`` as written, a bare email or ``+`` phone as such, any
other bare value as the one type it has been seen as; when that is unclear the field itself
asks for the type."""

import pytest
from django.urls import reverse

from apps.consent.defaults import ensure_default_purposes
from apps.erasure.models import ErasureRequest
from apps.identity import services
from apps.identity.normalise import Ident, InvalidIdentifier, resolve

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db):
    ensure_default_purposes()
    services.link_record(
        a=("anonymous_id", "ajs-1"), b=("email", "lena@example.de"), rule="identify"
    )
    services.link_record(a=("user_id", "cus_48213"), b=("phone", "+14155550182"), rule="identify")
    # "shared-7" names two things: a user id and, elsewhere, an anonymous id
    services.identifier_observe(("user_id", "shared-7"))
    services.identifier_observe(("anonymous_id", "shared-7"))


BARE = [
    ("Lena@Example.de", Ident("email", "lena@example.de")),
    ("+1 415 555 0182", Ident("phone", "+14155550182")),
    ("(415) 555-0182", Ident("phone", "+14155550182")),  # national form: the one seen
    ("cus_48213", Ident("user_id", "cus_48213")),
    ("ajs-1", Ident("anonymous_id", "ajs-1")),
    ("anonymous_id:shared-7", Ident("anonymous_id", "shared-7")),  # typed: as written
    ("user_id:never-seen", Ident("user_id", "never-seen")),
]


def _log(client, identifier):
    return client.post(
        reverse("erasure:request_create"),
        {
            "identifier": identifier,
            "channel": "email",
            "jurisdiction": "gdpr",
            "received_on": "2026-01-05",
        },
    )


@pytest.mark.parametrize(("typed", "meant"), BARE)
def test_the_erasure_form_logs_a_bare_identifier_as_the_type_it_is(
    admin_client, people, typed, meant
):
    answer = _log(admin_client, typed)
    assert answer.status_code == 302, answer.context["form"].errors
    request = ErasureRequest.objects.get()
    assert request.subject_type == meant.type
    assert request.identifiers.get().type == meant.type


@pytest.mark.parametrize(("typed", "meant"), BARE)
def test_the_consent_lookup_reads_a_bare_identifier_as_the_type_it_is(
    admin_client, admin_api, people, typed, meant
):
    page = admin_client.get(reverse("consent:lookup"), {"identifier": typed})
    assert page.status_code == 200
    assert not page.context["form"].errors
    assert page.context["state"].subject == meant
    api = admin_api.get("/api/v1/consent-state/", {"identifier": typed})
    assert (api.status_code, api.json()["subject"]) == (200, str(meant))
    ledger = admin_api.get("/api/v1/consent-records/", {"identifier": typed})
    assert ledger.status_code == 200


@pytest.mark.parametrize(
    ("typed", "asked"),
    [
        ("shared-7", ["user_id:shared-7", "anonymous_id:shared-7"]),  # seen as two types
        ("cus_99999", ["user_id:cus_99999", "anonymous_id:cus_99999"]),  # never seen
    ],
)
def test_an_unclear_identifier_is_asked_about_under_its_field(
    admin_client, admin_api, people, typed, asked
):
    # the erasure form: the field is marked, no alert above the form, nothing logged
    answer = _log(admin_client, typed)
    assert answer.status_code == 400
    form = answer.context["form"]
    assert not form.non_field_errors()
    [message] = form.errors["identifier"]
    assert all(way in message for way in asked)
    assert not ErasureRequest.objects.exists()
    # the consent lookup: the field is marked, no state shown
    page = admin_client.get(reverse("consent:lookup"), {"identifier": typed})
    assert page.context["state"] is None
    assert all(way in page.context["form"].errors["identifier"][0] for way in asked)
    # the APIs: 400 with a code saying the type is wanted
    created = admin_api.post(
        "/api/v1/erasure-requests/",
        {"identifier": typed, "channel": "api", "jurisdiction": "gdpr"},
        format="json",
    )
    assert (created.status_code, created.json()["code"]) == (400, "ambiguous_identifier")
    state = admin_api.get("/api/v1/consent-state/", {"identifier": typed})
    assert (state.status_code, state.json()["code"]) == (400, "ambiguous_identifier")


def test_the_erasure_api_logs_a_bare_email_as_an_email(admin_api, people):
    asked = {"identifier": "lena@example.de", "channel": "api", "jurisdiction": "gdpr"}
    created = admin_api.post("/api/v1/erasure-requests/", asked, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["subject_type"] == "email"


def test_resolve_takes_the_only_seen_type_and_asks_when_none_or_several_are_seen():
    def seen_as(*known):
        return lambda candidates: {c for c in candidates if c in known}

    assert resolve("cus_1", seen=seen_as(Ident("user_id", "cus_1"))) == Ident("user_id", "cus_1")
    assert resolve("ana@x.de", seen=seen_as()) == Ident("email", "ana@x.de")
    assert resolve("+4915123456789", seen=seen_as()) == Ident("phone", "+4915123456789")
    for known in [(), (Ident("user_id", "cus_1"), Ident("anonymous_id", "cus_1"))]:
        with pytest.raises(InvalidIdentifier) as caught:
            resolve("cus_1", seen=seen_as(*known))
        assert caught.value.code == "ambiguous_identifier"
