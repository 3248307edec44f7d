"""Deterministic evidence merges profiles within limits; probabilistic evidence waits for a
person; merges can be undone; the outcome does not depend on the order evidence arrives."""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.identity import selectors, services
from apps.identity.engine.bulk import Evidence, bulk_link
from apps.identity.models import Identifier, Link, Merge
from apps.identity.normalise import Ident
from martech.common.errors import ApplicationError, ConflictError, PermissionDeniedError

pytestmark = pytest.mark.django_db

ANON = Ident("anonymous_id", "a-1")
EMAIL = Ident("email", "mei@example.com")
USER = Ident("user_id", "u-1")
T0 = dt.datetime(2026, 9, 1, 12, tzinfo=dt.UTC)


def _link(a, b, rule="identify", minutes=0, **kw):
    return services.link_record(
        a=a, b=b, rule=rule, observed_at=T0 + dt.timedelta(minutes=minutes), **kw
    )


def _profile(ident):
    return selectors.profile_resolve(ident)


def test_states_follow_the_identifiers_a_profile_holds():
    services.identifier_observe(ANON)
    assert _profile(ANON).state == "anonymous"
    _link(ANON, EMAIL, rule="same_event")
    assert _profile(ANON).state == "transitioning"
    _link(EMAIL, USER, rule="login", minutes=5)
    profile = _profile(ANON)
    assert profile.state == "identified"
    assert profile == _profile(USER) == _profile(EMAIL)
    assert set(selectors.profile_identifiers(profile)) == {ANON, EMAIL, USER}


def test_a_merge_is_recorded_with_the_link_and_what_moved():
    services.identifier_observe(ANON)
    services.identifier_observe(EMAIL)
    link = _link(ANON, EMAIL)
    merge = Merge.objects.get()
    assert merge.link == link
    assert merge.winner == _profile(ANON)
    assert merge.identifiers == ["email:mei@example.com"]
    assert merge.loser.merged_into == merge.winner


def test_a_second_user_id_is_a_conflict_not_a_merge():
    _link(ANON, USER)
    other = Ident("user_id", "u-2")
    link = _link(ANON, other, minutes=1)
    assert link.status == "conflict"
    assert "different user ids" in link.reason
    assert _profile(other) != _profile(ANON)


def test_a_link_recorded_inside_a_transaction_opens_no_savepoint_and_returns_its_resolved_status():
    services.identifiers_observe({USER: "web", Ident("user_id", "u-2"): "web", EMAIL: "web"})
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        _link(USER, EMAIL)
        link = _link(Ident("user_id", "u-2"), EMAIL, minutes=1)
    assert not [q["sql"] for q in queries if "SAVEPOINT" in q["sql"]]
    assert (link.status, link.reason) == ("conflict", Link.objects.get(pk=link.pk).reason)
    assert "different user ids" in link.reason
    assert Link.objects.get(pk=link.pk).status == "conflict"


def test_a_refused_link_leaves_the_callers_transaction_usable():
    with transaction.atomic():
        with pytest.raises(ApplicationError):
            _link(USER, USER)
        assert _link(USER, EMAIL).status == "active"
    assert _profile(USER) == _profile(EMAIL)


def test_a_hub_value_cannot_glue_many_profiles_together(settings):
    settings.IDENTITY_MAX_PER_TYPE = 3
    hub = Ident("custom:office_ip", "203.0.113.7")
    for n in range(10):
        _link(hub, Ident("anonymous_id", f"visitor-{n}"), rule="same_event", minutes=n)
    profile = _profile(hub)
    assert profile.identifiers.filter(type="anonymous_id").count() == 3
    assert Link.objects.filter(status="conflict").count() == 7


def test_probabilistic_evidence_waits_for_a_person(admin):
    other = Ident("anonymous_id", "a-2")
    link = _link(ANON, other, rule="ip_user_agent", kind="probabilistic", confidence=0.72)
    assert link.status == "pending"
    assert _profile(ANON) != _profile(other)
    assert list(selectors.review_queue(user=admin)) == [link]

    link = services.link_review(actor=admin, link=link, confirm=True)

    assert (link.kind, link.rule, link.decided_by) == ("deterministic", "reviewed", admin)
    assert _profile(ANON) == _profile(other)
    with pytest.raises(ConflictError):
        services.link_review(actor=admin, link=link, confirm=False)


def test_a_rejected_probabilistic_link_never_merges_and_is_not_asked_again(admin):
    other = Ident("anonymous_id", "a-2")
    link = _link(ANON, other, rule="ip_user_agent", kind="probabilistic", confidence=0.6)
    services.link_review(actor=admin, link=link, confirm=False)
    again = _link(ANON, other, rule="ip_user_agent", kind="probabilistic", confidence=0.9)
    assert again.pk == link.pk
    assert again.status == "rejected"
    assert _profile(ANON) != _profile(other)


def test_reviewing_needs_identity_manage(user):
    link = _link(
        ANON,
        Ident("anonymous_id", "a-2"),
        rule="ip_user_agent",
        kind="probabilistic",
        confidence=0.6,
    )
    with pytest.raises(PermissionDeniedError):
        services.link_review(actor=user, link=link, confirm=True)


def test_undoing_a_merge_splits_the_profiles_back(admin):
    services.identifier_observe(ANON)
    services.identifier_observe(EMAIL)
    original = _profile(EMAIL)
    _link(ANON, EMAIL)
    _link(EMAIL, USER, minutes=1)
    merge = Merge.objects.get(identifiers=["email:mei@example.com"])

    services.merge_undo(actor=admin, merge=merge)

    assert _profile(ANON) != _profile(EMAIL)
    assert _profile(EMAIL) == _profile(USER) == original  # back to the profile it came from
    assert _profile(ANON).state == "anonymous"
    assert _profile(EMAIL).state == "identified"
    assert Link.objects.get(pk=merge.link_id).status == "undone"
    with pytest.raises(ConflictError):
        services.merge_undo(actor=admin, merge=merge)


def test_undoing_the_link_that_beat_a_conflict_lets_the_conflict_apply(admin):
    _link(ANON, USER)
    other = Ident("user_id", "u-2")
    conflict = _link(ANON, other, minutes=1)
    services.identifier_observe(USER)
    merge = Merge.objects.filter(link__isnull=False).first()
    services.merge_undo(actor=admin, merge=merge)
    conflict.refresh_from_db()
    assert conflict.status == "active"
    assert _profile(ANON) == _profile(other)


def test_touches_keep_the_first_and_overwrite_the_last_and_survive_a_merge():
    services.touch_record(ANON, {"source": "linkedin", "medium": "paid"}, at=T0)
    services.touch_record(ANON, {"source": "google", "medium": "cpc"}, at=T0 + dt.timedelta(days=3))
    services.touch_record(
        EMAIL, {"source": "newsletter", "medium": "email"}, at=T0 - dt.timedelta(days=1)
    )
    _link(ANON, EMAIL)
    profile = _profile(ANON)
    assert profile.first_touch["source"] == "newsletter"
    assert profile.last_touch["source"] == "google"


def test_touches_in_bulk_change_only_the_touch_each_arrival_decides_and_keep_the_other():
    pk = services.identifier_observe(ANON).profile_id
    email = {"channel": "email", "source": "newsletter"}
    services.touches_record({pk: [(T0, email, True)]})
    # Later and a marketing arrival: the last touch moves, the first one is kept.
    paid = {"channel": "paid", "source": "google"}
    services.touches_record({pk: [(T0 + dt.timedelta(days=2), paid, True)]})
    profile = _profile(ANON)
    assert (profile.first_touch["source"], profile.last_touch["source"]) == ("newsletter", "google")
    # Earlier, not a marketing arrival: the first touch moves, the last one is kept.
    social = {"channel": "social", "source": "linkedin"}
    services.touches_record({pk: [(T0 - dt.timedelta(days=1), social, False)]})
    profile = _profile(ANON)
    assert (profile.first_touch["source"], profile.last_touch["source"]) == ("linkedin", "google")
    assert profile.first_touch["at"] == (T0 - dt.timedelta(days=1)).isoformat()


# --- Order independence -------------------------------------------------------------------

POOL = [Ident("anonymous_id", f"a{i}") for i in range(4)] + [
    Ident("email", "x@example.com"),
    Ident("email", "y@example.com"),
    Ident("user_id", "u1"),
    Ident("user_id", "u2"),
]
EVIDENCE = st.lists(
    st.tuples(st.sampled_from(POOL), st.sampled_from(POOL), st.integers(0, 5)).filter(
        lambda e: e[0] != e[1]
    ),
    min_size=1,
    max_size=10,
)


def _apply(evidence):
    sid = transaction.savepoint()
    try:
        for a, b, minute in evidence:
            _link(a, b, minutes=minute)
        groups = {}
        for ident in Identifier.objects.all():
            groups.setdefault(ident.profile_id, set()).add(f"{ident.type}:{ident.value}")
        conflicts = {
            frozenset((str(k.a), str(k.b))) for k in Link.objects.filter(status="conflict")
        }
        return {frozenset(g) for g in groups.values()}, conflicts
    finally:
        transaction.savepoint_rollback(sid)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(evidence=EVIDENCE, data=st.data())
def test_the_outcome_does_not_depend_on_the_order_evidence_arrives(evidence, data):
    shuffled = data.draw(st.permutations(evidence))
    assert _apply(evidence) == _apply(shuffled)


# --- The bulk loader agrees with recording links one by one ------------------------------


def _partition():
    groups = {}
    for ident in Identifier.objects.all():
        groups.setdefault(ident.profile_id, set()).add(f"{ident.type}:{ident.value}")
    conflicts = {frozenset((str(k.a), str(k.b))) for k in Link.objects.filter(status="conflict")}
    return {frozenset(g) for g in groups.values()}, conflicts


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(evidence=EVIDENCE)
def test_the_bulk_loader_gives_the_same_graph_as_one_by_one(evidence):
    incremental = _apply(evidence)
    sid = transaction.savepoint()
    try:
        bulk_link(Evidence(a, b, "identify", T0 + dt.timedelta(minutes=m)) for a, b, m in evidence)
        assert _partition() == incremental
    finally:
        transaction.savepoint_rollback(sid)


def _sighting(a, b, minute, ref=""):
    return services.Sighting(a, b, "identify", "web", ref, T0 + dt.timedelta(minutes=minute))


def _links():
    return sorted(
        (str(k.a), str(k.b), k.status, k.rule, k.event_ref, k.observed_at)
        for k in Link.objects.select_related("a", "b")
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(evidence=EVIDENCE, stored=st.integers(0, 10))
def test_links_recorded_together_end_as_recorded_one_by_one(evidence, stored):
    """The first ``stored`` sightings are in the graph already; the rest come as one batch.
    The people grouped, the conflicts and every link's first provenance and earliest time
    are those of recording each sighting in turn."""
    sid = transaction.savepoint()
    try:
        for n, (a, b, minute) in enumerate(evidence):
            _link(a, b, minutes=minute, event_ref=f"e{n}")
        alone = _partition(), _links()
    finally:
        transaction.savepoint_rollback(sid)
    sid = transaction.savepoint()
    try:
        for n, (a, b, minute) in enumerate(evidence[:stored]):
            _link(a, b, minutes=minute, event_ref=f"e{n}")
        services.links_record(
            [
                _sighting(a, b, minute, f"e{n}")
                for n, (a, b, minute) in enumerate(evidence)
                if n >= stored
            ]
        )
        assert (_partition(), _links()) == alone
    finally:
        transaction.savepoint_rollback(sid)


def test_links_recorded_together_refuse_a_pair_of_one_identifier():
    with pytest.raises(ApplicationError):
        services.links_record([_sighting(ANON, USER, 0), _sighting(EMAIL, EMAIL, 1)])


def test_a_bulk_batch_that_meets_the_existing_graph_is_regrouped():
    _link(ANON, USER)
    result = bulk_link(
        [
            Evidence(USER, EMAIL, "import", T0),
            Evidence(EMAIL, Ident("user_id", "u-9"), "import", T0),
        ]
    )
    assert result.regrouped == 1
    assert _profile(EMAIL) == _profile(ANON)
    assert _profile(Ident("user_id", "u-9")) != _profile(ANON)
    assert Link.objects.filter(status="conflict").count() == 1


def test_the_bulk_loader_stores_values_with_tabs_backslashes_and_newlines_unchanged():
    odd = Ident("custom:crm", "acct\\7\tnorth\nwest\r")
    result = bulk_link([Evidence(EMAIL, odd, "import", T0, source="crm\timport")])
    assert result.identifiers == 2
    stored = Identifier.objects.get(type="custom:crm")
    assert stored.value == odd.value
    assert stored.source == ""
    link = Link.objects.get()
    assert link.source == "crm\timport"
    assert link.observed_at == T0
    assert stored.profile == _profile(EMAIL)
