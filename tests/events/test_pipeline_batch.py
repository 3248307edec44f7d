"""The pipeline processes a batch together (identity and touch writes grouped): the outcome
must be the one of processing its events one by one, and a failure that hits the batch as a
whole must not stop its other events."""

import base64
import json

import pytest
from django.db import connection, transaction

from apps.consent.defaults import ensure_default_purposes
from apps.events import services
from apps.events.models import Event
from apps.events.pipeline import process_one, process_waiting
from apps.identity.models import Identifier, Link, Profile


@pytest.fixture(autouse=True)
def purposes(db):
    ensure_default_purposes()


@pytest.fixture
def web(admin):
    return services.source_create(actor=admin, name="Web", rate_limit=10_000)


def _send(client, raw, messages):
    auth = "Basic " + base64.b64encode(f"{raw}:".encode()).decode()
    response = client.post(
        "/v1/batch",
        json.dumps({"batch": messages}),
        content_type="application/json",
        HTTP_AUTHORIZATION=auth,
    )
    assert response.status_code == 200, response.content


def _page(n, anonymous, minute, utm=None, **extra):
    url = "https://www.acme.example/p"
    if utm:
        url += f"?utm_source={utm}&utm_medium=email"
    return {
        "type": "page",
        "messageId": f"p{n}",
        "anonymousId": anonymous,
        "timestamp": f"2026-11-30T10:{minute:02d}:00Z",
        "context": {"page": {"url": url}},
        **extra,
    }


def _traffic():
    """Arrivals out of time order, sign-ins that merge cookies, a repeated identify, an
    alias, an event with no identity evidence and a user-id conflict."""
    return [
        _page(1, "c-1", 30, "spring"),
        _page(2, "c-1", 10, "winter"),  # earlier, arrives later: becomes the first touch
        _page(3, "c-2", 20, "autumn"),
        {
            "type": "identify",
            "messageId": "i1",
            "userId": "u-1",
            "anonymousId": "c-1",
            "traits": {"email": "Ana@Example.com"},
            "timestamp": "2026-11-30T10:31:00Z",
        },
        {
            "type": "identify",
            "messageId": "i2",
            "userId": "u-1",
            "anonymousId": "c-2",
            "timestamp": "2026-11-30T10:32:00Z",
        },
        {
            "type": "identify",
            "messageId": "i3",
            "userId": "u-1",
            "anonymousId": "c-1",
            "timestamp": "2026-11-30T10:40:00Z",
        },  # the same pair again, later
        _page(4, "c-2", 45),  # direct: may set only a first touch
        _page(5, "c-1", 50, "summer"),
        {
            "type": "alias",
            "messageId": "a1",
            "userId": "u-1",
            "previousId": "c-9",
            "timestamp": "2026-11-30T10:51:00Z",
        },
        {
            "type": "identify",
            "messageId": "i4",
            "userId": "u-2",
            "anonymousId": "c-3",
            "traits": {"email": "ana@example.com"},
            "timestamp": "2026-11-30T10:52:00Z",
        },
        _page(6, "c-4", 53, "solo"),
        {
            "type": "track",
            "messageId": "t1",
            "event": "Signed Out",
            "userId": "u-3",
            "timestamp": "2026-11-30T10:54:00Z",
        },
    ]


def _outcome():
    """What the graph and the events look like, independent of ids."""
    members: dict[int, set[str]] = {}
    for ident in Identifier.objects.all():
        members.setdefault(ident.profile_id, set()).add(f"{ident.type}:{ident.value}")
    group = {pk: frozenset(names) for pk, names in members.items()}
    profiles = {
        group[p.pk]: (p.state, p.first_touch, p.last_touch)
        for p in Profile.objects.filter(pk__in=group)
    }
    links = sorted(
        (
            f"{link.a.type}:{link.a.value}",
            f"{link.b.type}:{link.b.value}",
            link.status,
            link.rule,
            link.observed_at.isoformat(),
            link.event_ref,
            link.source,
        )
        for link in Link.objects.select_related("a", "b")
    )
    merged_into = dict(Profile.objects.values_list("pk", "merged_into_id"))

    def live(pk):  # an event keeps the profile it met; that one may have merged since
        while merged_into.get(pk):
            pk = merged_into[pk]
        return group.get(pk)

    events = {
        e.message_id: (e.status, live(e.profile_id), e.attribution, e.consent, e.error)
        for e in Event.objects.all()
    }
    return profiles, links, events


def _reset():
    Event.objects.update(
        status="received",
        attempts=0,
        profile_id=None,
        attribution=None,
        consent=None,
        processed_at=None,
    )
    with connection.cursor() as cursor:
        for table in ("identity_merge", "identity_link", "identity_identifier", "identity_profile"):
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608


def test_a_batch_processed_together_ends_exactly_as_its_events_one_by_one(client, web):
    _, raw = web
    _send(client, raw, _traffic())
    assert process_waiting() == 12
    together = _outcome()

    _reset()
    _one_by_one()
    alone = _outcome()

    assert together == alone
    profiles, _, events = together
    ana = next(g for g in profiles if "user_id:u-1" in g)
    assert {"anonymous_id:c-1", "anonymous_id:c-2", "email:ana@example.com"} <= ana
    assert profiles[ana][1]["source"] == "winter"  # earliest arrival
    assert profiles[ana][2]["source"] == "summer"  # latest marketing arrival
    assert events["i4"][0] == "processed"  # u-2 meets an email already with u-1: a conflict


def _one_by_one():
    from apps.consent.selectors import consent_snapshots

    for event in Event.objects.select_related("source").order_by("id"):
        with transaction.atomic():
            subject = process_one(event)
        if subject is not None:
            (event.consent,) = consent_snapshots([(subject, event.received_at)])
        event.save()


def test_new_links_meeting_the_graph_of_earlier_batches_end_as_one_by_one(client, web):
    """A later batch links identifiers that earlier batches stored (merging their profiles),
    dates back a link first seen later, and repeats a new pair: the graph, the links'
    provenance and the profiles are those of recording each event in turn."""
    _, raw = web
    _send(
        client,
        raw,
        [
            _page(1, "c-1", 30, "spring"),
            _page(2, "c-2", 20, "autumn"),
            {
                "type": "identify",
                "messageId": "i1",
                "userId": "u-1",
                "anonymousId": "c-3",
                "timestamp": "2026-11-30T10:40:00Z",
            },
        ],
    )
    assert process_waiting() == 3
    _send(
        client,
        raw,
        [
            {
                "type": "identify",
                "messageId": "i2",
                "userId": "u-1",
                "anonymousId": "c-1",
                "timestamp": "2026-11-30T10:35:00Z",
            },  # meets u-1 and c-1 from the first batch
            {
                "type": "identify",
                "messageId": "i3",
                "userId": "u-1",
                "anonymousId": "c-3",
                "timestamp": "2026-11-30T10:05:00Z",
            },  # a stored pair, seen earlier than stored
            {
                "type": "identify",
                "messageId": "i4",
                "userId": "u-2",
                "anonymousId": "c-2",
                "timestamp": "2026-11-30T10:50:00Z",
            },
            {
                "type": "identify",
                "messageId": "i5",
                "userId": "u-2",
                "anonymousId": "c-2",
                "timestamp": "2026-11-30T10:45:00Z",
            },  # the same new pair, earlier
        ],
    )
    assert process_waiting() == 4
    together = _outcome()

    _reset()
    _one_by_one()
    assert together == _outcome()
    profiles, links, _ = together
    assert any({"user_id:u-1", "anonymous_id:c-1", "anonymous_id:c-3"} <= g for g in profiles)
    pairs = {(a, b): rest for a, b, *rest in links}
    assert pairs[("anonymous_id:c-3", "user_id:u-1")][2:4] == ["2026-11-30T10:05:00+00:00", "i1"]
    assert pairs[("anonymous_id:c-2", "user_id:u-2")][2:4] == ["2026-11-30T10:45:00+00:00", "i4"]


def test_an_event_whose_writes_fail_is_marked_failed_and_the_rest_of_its_batch_goes_on(client, web):
    _, raw = web
    # A real database refusal for one profile's touch, whatever path writes it.
    with connection.cursor() as cursor:
        cursor.execute("""
            CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.first_touch->>'source' = 'poison' THEN
                RAISE EXCEPTION 'poisoned touch';
              END IF;
              RETURN NEW;
            END $$;
            CREATE TRIGGER refuse_poison BEFORE UPDATE ON identity_profile
              FOR EACH ROW EXECUTE FUNCTION refuse_poison();
        """)
    _send(
        client,
        raw,
        [
            _page(1, "c-1", 10, "spring"),
            _page(2, "c-2", 11, "poison"),
            _page(3, "c-3", 12, "summer"),
        ],
    )
    assert process_waiting() == 3
    events = {e.message_id: e for e in Event.objects.all()}
    assert events["p2"].status == "failed"
    assert "poisoned touch" in events["p2"].error
    assert events["p2"].attempts == 1
    assert events["p2"].profile_id is None
    assert {events["p1"].status, events["p3"].status} == {"processed"}
    assert events["p1"].attribution["source"] == "spring"
    first = Identifier.objects.get(value="c-3").profile.first_touch
    assert first["source"] == "summer"


def test_what_a_batch_leaves_empty_is_stored_as_sql_null_not_as_json_null(client, web):
    _, raw = web
    click = {
        "type": "track",
        "event": "Clicked",
        "messageId": "t1",
        "anonymousId": "c-2",
        "timestamp": "2026-11-30T10:12:00Z",
    }
    _send(client, raw, [_page(1, "c-1", 10, "spring"), click])
    assert process_waiting() == 2
    # A track without a page carries no attribution: SQL NULL, which filters and indexes see.
    assert list(
        Event.objects.filter(attribution__isnull=True).values_list("message_id", flat=True)
    ) == ["t1"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM events_event WHERE jsonb_typeof(attribution) = 'null' "
            "OR jsonb_typeof(consent) = 'null'"
        )
        assert cursor.fetchone()[0] == 0
    assert Event.objects.get(message_id="p1").attribution["source"] == "spring"


@pytest.fixture
def commit_setting_seen():
    """What ``synchronous_commit`` was when the pipeline wrote its events back, as PostgreSQL
    itself reports it from a trigger on that write."""
    with connection.cursor() as cursor:
        cursor.execute("""
            CREATE TABLE commit_setting_seen (value text);
            CREATE FUNCTION note_commit_setting() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              INSERT INTO commit_setting_seen VALUES (current_setting('synchronous_commit'));
              RETURN NULL;
            END $$;
            CREATE TRIGGER note_commit_setting AFTER UPDATE ON events_event
              FOR EACH STATEMENT EXECUTE FUNCTION note_commit_setting();
        """)

    def seen():
        with connection.cursor() as cursor:
            cursor.execute("SELECT DISTINCT value FROM commit_setting_seen")
            return {v for (v,) in cursor.fetchall()}

    yield seen
    with connection.cursor() as cursor:
        cursor.execute("""
            DROP TRIGGER note_commit_setting ON events_event;
            DROP FUNCTION note_commit_setting();
            DROP TABLE commit_setting_seen;
        """)


@pytest.mark.parametrize(
    ("own_transaction", "during_batch"),
    [pytest.param(True, "off", marks=pytest.mark.django_db(transaction=True)), (False, "on")],
)
def test_only_a_batch_that_is_its_own_transaction_commits_without_waiting_for_the_flush(
    client, web, commit_setting_seen, own_transaction, during_batch
):
    """Inside a caller's transaction the setting would outlive the batch: it is left alone."""
    _, raw = web
    _send(client, raw, [_page(1, "c-1", 10, "spring")])
    assert process_waiting() == 1
    assert commit_setting_seen() == {during_batch}
    assert Event.objects.get(message_id="p1").status == "processed"
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"  # never beyond the batch's own transaction
