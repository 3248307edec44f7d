"""Erasure requests: deadlines by law, duplicates, verification and approval, expansion
through the identity graph, suppression at once, and erasure in the console."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.utils import timezone

from apps.consent import gate
from apps.consent.models import ConsentRecord
from apps.consent.services import consent_record
from apps.erasure import services
from apps.erasure.models import Decision, ErasureIdentifier, RequestStatus, Suppression
from apps.erasure.suppression import digest
from apps.identity.models import Identifier, Profile
from apps.identity.normalise import Ident
from apps.identity.selectors import profile_identifiers, profile_resolve
from apps.identity.services import link_record
from martech.common.errors import ApplicationError, PermissionDeniedError

from .conftest import person_with, verified


@pytest.mark.parametrize(
    ("jurisdiction", "received", "deadline", "extended"),
    [
        ("gdpr", dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 4, 28)),
        ("gdpr", dt.date(2026, 3, 15), dt.date(2026, 4, 15), dt.date(2026, 6, 15)),
        ("ccpa", dt.date(2026, 3, 15), dt.date(2026, 4, 29), dt.date(2026, 6, 13)),
    ],
)
def test_the_deadline_follows_the_law_and_extends_once_with_a_reason(
    admin, jurisdiction, received, deadline, extended
):
    request = services.request_create(
        actor=admin,
        identifier="email:ana@acme.example",
        channel="email",
        jurisdiction=jurisdiction,
        received_on=received,
    )
    assert request.deadline == deadline
    with pytest.raises(ApplicationError) as caught:
        services.request_extend(actor=admin, request=request, reason=" ")
    assert caught.value.code == "reason_required"
    request = services.request_extend(actor=admin, request=request, reason="Many systems")
    assert (request.extended_deadline, request.due) == (extended, extended)
    with pytest.raises(ApplicationError) as caught:
        services.request_extend(actor=admin, request=request, reason="Again")
    assert caught.value.code == "already_extended"


def test_a_request_for_someone_with_an_open_request_is_linked_as_its_duplicate(admin, ana):
    first = verified(admin)
    services.request_approve(actor=admin, request=first)
    # by another identifier of the same person, known once the first was expanded
    again = services.request_create(
        actor=admin, identifier="user_id:cus_1", channel="support", jurisdiction="gdpr"
    )
    assert again.status == RequestStatus.DUPLICATE
    assert again.duplicate_of == first
    other = services.request_create(
        actor=admin, identifier="email:bo@acme.example", channel="email", jurisdiction="gdpr"
    )
    assert other.status == RequestStatus.RECEIVED


def test_an_invalid_identifier_is_refused_with_the_reason(admin):
    with pytest.raises(ApplicationError) as caught:
        services.request_create(
            actor=admin, identifier="email:not-an-address", channel="email", jurisdiction="gdpr"
        )
    assert caught.value.code == "invalid_identifier"
    assert "not an email address" in caught.value.message


def test_only_a_verified_request_is_approved_and_only_by_someone_with_erasure_approve(admin, ana):
    clerk = person_with(admin, "erasure.view", "erasure.request", name="Cleo Clerk")
    request = services.request_create(
        actor=clerk, identifier="email:ana@acme.example", channel="web_form", jurisdiction="gdpr"
    )
    with pytest.raises(ApplicationError) as caught:
        services.request_approve(actor=admin, request=request)
    assert caught.value.code == "not_verified"
    services.request_verify(actor=clerk, request=request, note="Signed-in form")
    with pytest.raises(PermissionDeniedError):
        services.request_approve(actor=clerk, request=request)
    assert services.request_approve(actor=admin, request=request).status in (
        RequestStatus.IN_PROGRESS,
        RequestStatus.COMPLETED,
    )


def test_approval_suppresses_every_identifier_of_the_person_at_once_and_lists_possible_matches(
    admin, ana
):
    request = services.request_approve(actor=admin, request=verified(admin))
    included = {f"{i.type}" for i in request.identifiers.filter(decision=Decision.INCLUDED)}
    assert included == {"user_id", "anonymous_id", "email"}
    assert set(Suppression.objects.values_list("value_hash", flat=True)) == {
        digest(*s.split(":", 1)) for s in ana
    }
    [maybe] = request.identifiers.filter(decision=Decision.PENDING)
    assert maybe.value_hash == digest("anonymous_id", "ajs-shared-tablet")
    # routing, replay, collection and syncs ask the same list, through the privacy gate
    assert gate.suppressed(ana | {"anonymous_id:ajs-shared-tablet", "user_id:cus_2"}) == ana
    # the possible match, once a person says it is her, is suppressed too
    services.identifier_decide(actor=admin, identifier=maybe, include=True)
    assert gate.suppressed({"anonymous_id:ajs-shared-tablet"}) == {"anonymous_id:ajs-shared-tablet"}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_expansion_over_generated_graphs_is_exactly_the_persons_profile(admin, seed):
    rng = random.Random(seed)
    people = [
        [
            ("user_id", f"u{seed}-{p}"),
            *[("anonymous_id", f"a{seed}-{p}-{d}") for d in range(rng.randint(1, 4))],
        ]
        for p in range(8)
    ]
    for person in people:
        for ident in person[1:]:
            link_record(a=person[0], b=ident, rule="identify")
    for _ in range(6):  # probabilistic noise between people never merges them
        a, b = rng.sample(range(8), 2)
        link_record(
            a=people[a][-1],
            b=people[b][-1],
            rule="ip_user_agent",
            kind="probabilistic",
            confidence=0.6,
        )
    target = rng.randrange(8)
    asked = Ident(*people[target][rng.randrange(len(people[target]))])
    expected = set(profile_identifiers(profile_resolve(asked)))
    sure, maybe = services.expand(asked)
    assert set(sure) == expected == {Ident(*i) for i in people[target]}
    assert not set(maybe) & expected


def test_the_person_is_erased_in_the_console_and_the_request_keeps_only_hashes(admin, ana):
    from apps.events.models import Event
    from apps.events.services import source_create

    source, _ = source_create(actor=admin, name="Web")
    now = timezone.now()
    for n, (user, anon) in enumerate(
        [("cus_1", "ajs-ana-phone"), ("", "ajs-ana-laptop"), ("cus_2", "ajs-bo")]
    ):
        Event.objects.create(
            source=source,
            message_id=f"m{n}",
            type="track",
            name="Viewed",
            user_id=user,
            anonymous_id=anon,
            payload={},
            timestamp=now,
        )
    consent_record(
        subject=Ident("email", "ana@acme.example"),
        purpose="analytics",
        granted=True,
        source="banner",
        jurisdiction="gdpr",
    )
    consent_record(
        subject=Ident("email", "bo@acme.example"),
        purpose="analytics",
        granted=True,
        source="banner",
        jurisdiction="gdpr",
    )
    profile = profile_resolve(Ident("user_id", "cus_1"))

    request = services.request_approve(actor=admin, request=verified(admin))

    assert list(Event.objects.values_list("message_id", flat=True)) == ["m2"]
    assert list(ConsentRecord.objects.values_list("identifier_value", flat=True)) == [
        "bo@acme.example"
    ]
    assert not Profile.objects.filter(pk=profile.pk).exists()
    assert not Identifier.objects.filter(value__in=["cus_1", "ana@acme.example"]).exists()
    assert Identifier.objects.filter(value="cus_2").exists()
    assert request.local_erasure["events"] == 2
    assert request.local_erasure["consent records"] == 1
    # no tool holds data here; a possible match still waits for a person
    request.refresh_from_db()
    assert request.status == RequestStatus.IN_PROGRESS
    maybe = request.identifiers.get(decision=Decision.PENDING)
    services.identifier_decide(actor=admin, identifier=maybe, include=False)
    # then it is complete and keeps only hashes, for at least 24 months
    request.refresh_from_db()
    assert request.status == RequestStatus.COMPLETED
    assert request.subject_token == ""
    assert not request.identifiers.exclude(token="").exists()
    assert request.retain_until >= timezone.localdate() + dt.timedelta(days=730)
    assert all(len(h) == 64 for h in request.identifiers.values_list("value_hash", flat=True))


def test_a_completed_request_and_its_duplicates_are_kept_24_months_then_purged(admin):
    first = verified(admin, "email:zoe@acme.example")
    again = services.request_create(
        actor=admin, identifier="email:zoe@acme.example", channel="phone", jurisdiction="gdpr"
    )
    assert again.duplicate_of == first
    assert again.subject_token
    services.request_approve(actor=admin, request=first)  # no tools: complete at once
    first.refresh_from_db()
    again.refresh_from_db()
    assert first.status == RequestStatus.COMPLETED
    assert (again.subject_token, again.retain_until) == ("", first.retain_until)
    assert not again.identifiers.exclude(token="").exists()
    # nothing goes before the retention runs out; then both go, the suppression stays
    assert services.requests_purge(today=first.retain_until) == 0
    later = first.retain_until + dt.timedelta(days=1)
    assert services.requests_purge(today=later) == 2
    assert not ErasureIdentifier.objects.exists()
    assert gate.suppressed({"email:zoe@acme.example"}) == {"email:zoe@acme.example"}


def test_references_stay_unique_after_older_requests_are_purged(admin):
    first = verified(admin, "email:one@acme.example")
    services.request_approve(actor=admin, request=first)
    first.refresh_from_db()
    services.requests_purge(today=first.retain_until + dt.timedelta(days=1))
    second = services.request_create(
        actor=admin, identifier="email:two@acme.example", channel="email", jurisdiction="gdpr"
    )
    third = services.request_create(
        actor=admin, identifier="email:three@acme.example", channel="email", jurisdiction="gdpr"
    )
    assert len({first.reference, second.reference, third.reference}) == 3
    assert second.reference.startswith(f"ER-{timezone.localdate():%Y}-")


def test_approval_costs_the_same_queries_for_one_destination_or_four(
    admin, tool, django_assert_max_num_queries
):
    from apps.destinations.services import destination_create
    from apps.tools.models import Tool

    Tool.objects.filter(pk=tool.pk).update(technical_owner=admin)  # owners are read per tool

    def hook(n):
        destination_create(
            actor=admin,
            name=f"Hook {n}",
            adapter="webhook",
            tool=tool,
            is_enabled=True,
            config={"url": f"https://hooks{n}.acme.example/in"},
            credentials={"signing_secret": "s"},
        )

    hook(0)
    one = verified(admin, "email:a@acme.example")
    with django_assert_max_num_queries(200) as counted:
        services.request_approve(actor=admin, request=one)
    for n in range(1, 4):
        hook(n)
    four = verified(admin, "email:b@acme.example")
    with django_assert_max_num_queries(len(counted.captured_queries)):
        services.request_approve(actor=admin, request=four)
    assert four.tasks.count() == 4
