"""Writes of destinations: create, change, credentials, enable, send test, replay.

Changing a production destination (or enabling one, or replaying to one) needs
``destinations.send_production`` on top of the usual capability; that capability is
tenure-gated by the access rules. Credentials are write-only: stored encrypted, audited by
name only, never returned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.utils import timezone
from jsonschema import Draft202012Validator

from apps.access.rules import require
from apps.audit.services import audit_record, audit_snapshot
from apps.consent import gate
from apps.destinations.errors import DestinationsErrorCode
from martech.common import crypto, egress
from martech.common.errors import ApplicationError, ConflictError

from .adapters import CATALOG, Item, adapter_for
from .choices import DeliveryStatus, Environment, FilterReason, Sends
from .masking import masked_capture_fields, scrub_text, vendor_text
from .models import Capture, Delivery, Destination, WarehousePublication

FIELDS = (
    "name",
    "adapter",
    "tool",
    "environment",
    "description",
    "config",
    "base_url",
    "purposes",
    "sends",
    "event_names",
    "mappings",
    "is_enabled",
)


def _guard(actor, destination: Destination, action: str) -> None:
    require(actor, "destinations.manage", action)
    if destination.is_production:
        require(actor, "destinations.send_production", f"{action} (a production destination)")


def _validate(destination: Destination, *, purposes_given: bool) -> None:
    """Check a destination before it is stored. ``purposes_given``: the caller sent a list of
    purposes (which must then keep the ones its adapter requires)."""
    if not destination.name.strip():
        raise ApplicationError(
            "A destination needs a name.", code=DestinationsErrorCode.INVALID_NAME
        )
    adapter = CATALOG.get(destination.adapter)
    if adapter is None:
        raise ApplicationError(
            f"Unknown adapter {destination.adapter!r}; choose one of {', '.join(CATALOG)}.",
            code=DestinationsErrorCode.INVALID_ADAPTER,
        )
    if destination.environment not in Environment.values:
        raise ApplicationError(
            "Environment is production or sandbox.", code=DestinationsErrorCode.INVALID_ENVIRONMENT
        )
    if destination.sends not in Sends.values:
        raise ApplicationError(
            "Sends is events, profiles or both.", code=DestinationsErrorCode.INVALID_SENDS
        )
    supports = adapter.supports
    if hasattr(adapter, "supports_for") and isinstance(destination.config, dict):
        supports = adapter.supports_for(destination.config)
    loads = "loads" in supports  # a warehouse takes every kind of message, in batches
    if destination.sends != Sends.EVENTS and "profiles" not in supports and not loads:
        raise ApplicationError(
            f"{adapter.label} takes no profiles.", code=DestinationsErrorCode.PROFILES_UNSUPPORTED
        )
    if destination.sends != Sends.PROFILES and "events" not in supports and not loads:
        raise ApplicationError(
            f"{adapter.label} takes no events.", code=DestinationsErrorCode.EVENTS_UNSUPPORTED
        )
    if not isinstance(destination.config, dict):
        raise ApplicationError(
            "Configuration is a JSON object.", code=DestinationsErrorCode.INVALID_CONFIG
        )
    problems = sorted(
        Draft202012Validator(adapter.config_schema).iter_errors(destination.config),
        key=lambda e: list(e.path),
    )
    if problems:
        first = problems[0]
        where = ".".join(str(p) for p in first.path) or "configuration"
        raise ApplicationError(
            f"{where}: {first.message}",
            code=DestinationsErrorCode.INVALID_CONFIG,
            details={"errors": [p.message for p in problems[:10]]},
        )
    if destination.base_url:
        parts = urlsplit(destination.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ApplicationError(
                "The API origin is an http(s) URL.", code=DestinationsErrorCode.INVALID_BASE_URL
            )
    for field, url in target_urls(base_url=destination.base_url, config=destination.config):
        target_check(url, field=field)  # an address never reachable is told as such first
        https_check(url, field=field)
    _validate_lists(destination)
    _keep_adapter_purposes(destination, given=purposes_given)
    if adapter.loads_in_batches:
        _one_destination_a_schema(destination)


def _one_destination_a_schema(destination: Destination) -> None:
    """Two warehouse destinations never load into the same schema of one warehouse
    connection (a load also refuses a schema another destination claimed, however the
    warehouse is reached)."""
    from .adapters.warehouse import DEFAULT_SCHEMA

    config = destination.config
    schema = config.get("schema") or DEFAULT_SCHEMA
    others = Destination.objects.filter(adapter=destination.adapter).exclude(pk=destination.pk)
    for other in others:
        theirs = other.config or {}
        if (
            str(theirs.get("warehouse")) == str(config.get("warehouse"))
            and (theirs.get("schema") or DEFAULT_SCHEMA) == schema
        ):
            raise ApplicationError(
                f"{other.name} already loads into schema {schema} of this warehouse: give this "
                "destination a schema of its own.",
                code=DestinationsErrorCode.SCHEMA_TAKEN,
                details={"field": "schema"},
            )


def _keep_adapter_purposes(destination: Destination, *, given: bool) -> None:
    """Store the purposes the adapter requires (sale/share for an ad network) among the
    destination's. A list of purposes sent without one of them is refused
    (``purpose_required``) rather than quietly changed: they cannot be removed."""
    fixed = destination.fixed_purposes
    missing = [code for code in fixed if code not in destination.purposes]
    if missing and given:
        adapter = adapter_for(destination.adapter)
        raise ApplicationError(
            f"{adapter.label} always requires {', '.join(missing)}: sending to "
            f"{adapter.vendor} is sharing personal data for advertising. Keep it among the "
            "purposes.",
            code=DestinationsErrorCode.PURPOSE_REQUIRED,
            details={"purposes": missing},
        )
    destination.purposes = sorted({*destination.purposes, *fixed})


def target_urls(*, base_url: str, config) -> list[tuple[str, str]]:
    """Every URL a destination would send to: its API origin and any URL in its configuration
    (a webhook's ``url``, a Salesforce ``instance_url``, whatever an adapter adds), as
    (field, url) pairs; a field in the configuration is named ``config.<key>``."""
    found = [("base_url", base_url)] if base_url else []

    def walk(value, path: str) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{path}.{key}")
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                walk(inner, f"{path}.{index}")
        elif isinstance(value, str):
            text = value.strip()
            if "://" in text or path.lower().endswith("url") or text.startswith("//"):
                found.append((path, text))

    if isinstance(config, dict):
        walk(config, "config")
    return found


def plain_http_allowed(url: str) -> bool:
    """Whether an http:// (not https) address is acceptable: only an internal address (a
    loopback or private one) that the egress allow-list lets the console reach, or a name
    the operator lists there (a development machine, the tests, an operator's own network);
    every other endpoint receives personal data over TLS."""
    import ipaddress

    host = (urlsplit(url).hostname or "").strip("[]").lower()
    if host == "localhost":
        try:
            egress.check_host(host, resolve_name=False)
        except egress.EgressRefused:
            return False
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return egress.name_allowed(host)
    return not address.is_global and egress.address_allowed(address)


def https_check(url: str, *, field: str) -> None:
    """Refuse an http:// URL a destination would send personal data to, unless
    ``plain_http_allowed`` (a 400 with code ``https_required`` naming the field). The one
    rule for the form, the API and every other caller of the services."""
    if urlsplit(url.strip()).scheme.lower() == "http" and not plain_http_allowed(url.strip()):
        raise ApplicationError(
            f"{field}: use an https:// address; the endpoint receives personal data, which "
            "travels encrypted only.",
            code=DestinationsErrorCode.HTTPS_REQUIRED,
            details={"field": field},
        )


def target_check(url: str, *, field: str) -> None:
    """Refuse a destination URL the egress policy does not allow (``EgressRefused``, a 400
    with code ``egress_refused`` naming the field). A name that does not resolve yet is
    accepted: every send resolves and checks it again before connecting."""
    try:
        egress.check_url(url)
    except egress.EgressUnresolved:
        return
    except egress.EgressRefused as exc:
        raise egress.EgressRefused(
            f"{field}: {exc.message}", details={**exc.details, "field": field}
        ) from None


def _validate_lists(destination: Destination) -> None:
    from apps.consent.models import Purpose

    purposes = destination.purposes
    if not isinstance(purposes, list) or not all(isinstance(p, str) for p in purposes):
        raise ApplicationError(
            "Purposes are a list of purpose codes.", code=DestinationsErrorCode.INVALID_PURPOSES
        )
    known = set(Purpose.objects.filter(is_active=True).values_list("code", flat=True))
    unknown = sorted(set(purposes) - known)
    if unknown:
        raise ApplicationError(
            f"Unknown purposes: {', '.join(unknown)}.", code=DestinationsErrorCode.INVALID_PURPOSES
        )
    destination.purposes = sorted(set(purposes))
    names = destination.event_names
    if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
        raise ApplicationError(
            "Events are a list of event names.", code=DestinationsErrorCode.INVALID_EVENT_NAMES
        )
    destination.event_names = sorted({n.strip() for n in names})
    mappings = destination.mappings
    if not isinstance(mappings, list) or not all(
        isinstance(m, dict)
        and set(m) == {"from", "to"}
        and all(isinstance(m[k], str) and m[k].strip() for k in ("from", "to"))
        for m in mappings
    ):
        raise ApplicationError(
            'Mappings are a list of {"from": "traits.first_name", "to": "firstname"}.',
            code=DestinationsErrorCode.INVALID_MAPPINGS,
        )
    targets = [m["to"] for m in mappings]
    if len(targets) != len(set(targets)):
        raise ApplicationError(
            "Two mappings write the same field.", code=DestinationsErrorCode.INVALID_MAPPINGS
        )


def _clean_credentials(adapter_key: str, credentials) -> dict[str, str]:
    adapter = adapter_for(adapter_key)
    if not isinstance(credentials, dict) or not all(
        isinstance(v, str) for v in credentials.values()
    ):
        raise ApplicationError(
            "Credentials are an object of strings.", code=DestinationsErrorCode.INVALID_CREDENTIALS
        )
    unknown = sorted(set(credentials) - set(adapter.credential_fields))
    if unknown:
        raise ApplicationError(
            f"{adapter.label} has no credential {', '.join(unknown)}; it takes "
            f"{', '.join(adapter.credential_fields) or 'none'}.",
            code=DestinationsErrorCode.INVALID_CREDENTIALS,
        )
    return credentials


def _store_credentials(destination: Destination, changes: dict[str, str]) -> list[str]:
    current = crypto.decrypt(destination.credentials_token)
    for name, value in changes.items():
        if value:
            current[name] = value
        else:
            current.pop(name, None)
    destination.credentials_token = crypto.encrypt(current)
    destination.credentials_set = sorted(current)
    return sorted(changes)


def _snapshot(destination: Destination) -> dict:
    return {**audit_snapshot(destination, FIELDS), "credentials": destination.credentials_set}


@transaction.atomic
def destination_create(*, actor, credentials: dict | None = None, **fields) -> Destination:
    destination = Destination(created_by=actor, **fields)
    _guard(actor, destination, "create destinations")
    _validate(destination, purposes_given="purposes" in fields)
    if Destination.objects.filter(name__iexact=destination.name).exists():
        raise ConflictError(
            f"A destination named {destination.name!r} exists.",
            code=DestinationsErrorCode.DUPLICATE,
        )
    _store_credentials(destination, _clean_credentials(destination.adapter, credentials or {}))
    destination.save()
    audit_record(
        action="destinations.destination.created", target=destination, after=_snapshot(destination)
    )
    return destination


@transaction.atomic
def destination_update(
    *, actor, destination: Destination, credentials: dict | None = None, **changes
) -> Destination:
    destination = Destination.objects.select_for_update().get(pk=destination.pk)
    _guard(actor, destination, "change destinations")  # as it is now
    before = _snapshot(destination)
    for key, value in changes.items():
        if key not in FIELDS:
            raise ValueError(key)
        setattr(destination, key, value)
    _guard(actor, destination, "change destinations")  # and as it will be
    _validate(destination, purposes_given="purposes" in changes)
    changed_credentials = []
    if credentials:
        changed_credentials = _store_credentials(
            destination, _clean_credentials(destination.adapter, credentials)
        )
    try:
        with transaction.atomic():
            destination.save()
    except IntegrityError:
        raise ConflictError(
            "A destination with that name exists.", code=DestinationsErrorCode.DUPLICATE
        ) from None
    audit_record(
        action="destinations.destination.updated",
        target=destination,
        before=before,
        after=_snapshot(destination),
        metadata={"credentials_changed": changed_credentials},
    )
    return destination


def destination_vendor_error(*, destination_id: int, text: str) -> None:
    """Record a vendor's error on its destination (shown to those who manage it): health
    information, like the delivery engine's, so not audited."""
    Destination.objects.filter(pk=destination_id).update(
        last_error=vendor_text(text)[:500], last_error_at=timezone.now()
    )


def sample_item() -> Item:
    """A believable order for a "send test": the same shape as a real routed event."""
    now = timezone.now().isoformat()
    message = {
        "type": "track",
        "event": "Order Completed",
        "messageId": "test-order-1001",
        "userId": "cus_test_1001",
        "anonymousId": "ajs-test-1001",
        "timestamp": now,
        "properties": {"order_id": "1001", "revenue": 129.9, "currency": "EUR"},
        "traits": {"email": "ana.sample@acme.example", "first_name": "Ana"},
        "context": {"page": {"url": "https://www.acme.example/checkout/done?gclid=test-gclid"}},
    }
    identifiers = {
        "user_id": "cus_test_1001",
        "anonymous_id": "ajs-test-1001",
        "email": "ana.sample@acme.example",
        "phone": "+14155550100",
        "gclid": "test-gclid",
    }
    return Item(key=0, kind="event", message=message, identifiers=identifiers)


TEST_ANSWER_LIMIT = 4000  # characters of a vendor's answer shown after a real send test
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class TestAnswer:
    """What the vendor answered one request of a real send test: the HTTP status (None when
    nothing came back), its body with every credential scrubbed and at most
    ``TEST_ANSWER_LIMIT`` characters, and why nothing was sent or answered (``error``;
    ``refused`` when the egress policy or the request itself stopped it)."""

    method: str
    url: str
    status: int | None
    body: str
    error: str = ""
    refused: bool = False

    def as_dict(self) -> dict:
        return {
            "method": self.method,
            "url": self.url,
            "status": self.status,
            "body": self.body,
            "error": self.error,
            "refused": self.refused,
        }


def _test_requests(destination: Destination):
    """The adapter, the credentials and the vendor requests for the sample event."""
    from .routing import mapped

    adapter = adapter_for(destination.adapter)
    if adapter.loads_in_batches:
        raise ApplicationError(
            "A warehouse takes no test event: it is loaded in batches. Use Load now, and see "
            "what landed on its page.",
            code=DestinationsErrorCode.LOADED_NOT_SENT,
        )
    item = sample_item()
    if destination.sends == Sends.PROFILES:
        item = Item(0, "profile", {**item.message, "type": "identify"}, item.identifiers)
    item = Item(
        item.key, item.kind, item.message, item.identifiers, mapped(destination, item.message)
    )
    credentials = crypto.decrypt(destination.credentials_token)
    base_url = (destination.base_url or adapter.default_base_url).rstrip("/")
    try:
        requests = adapter.requests([item], destination.config, credentials, base_url)
    except Exception as exc:
        reason = vendor_text(str(exc), credentials)
        raise ApplicationError(
            f"The vendor request cannot be built: {reason}",
            code=DestinationsErrorCode.INVALID_CONFIG,
        ) from None
    return adapter, credentials, requests


def send_test_requests(*, destination: Destination) -> list:
    """The vendor requests a send test to ``destination`` would make; nothing is kept or sent.

    Lets a page say what "Send for real" will do before it is done."""
    return _test_requests(destination)[2]


def _capture(actor, destination: Destination, adapter, credentials, requests) -> list[Capture]:
    return [
        Capture.objects.create(
            destination=destination,
            items=len(r.keys),
            created_by=actor,
            **masked_capture_fields(adapter, r, credentials),
        )
        for r in requests
    ]


def answer_text(body: bytes, credentials: dict) -> str:
    """A vendor's answer as a send test shows it: control characters (but not line breaks)
    removed, every credential scrubbed, then cut to ``TEST_ANSWER_LIMIT`` characters."""
    text = _CONTROL.sub(" ", body[: TEST_ANSWER_LIMIT * 16].decode(errors="replace"))
    text = scrub_text(text, credentials)
    if len(text) > TEST_ANSWER_LIMIT:
        text = text[:TEST_ANSWER_LIMIT] + " …"
    return text


def warehouse_load_now(*, actor, destination: Destination) -> None:
    """Start a load of a warehouse destination now, rather than at its next turn. Needs
    destinations.manage, and destinations.send_production for a production one. Audited."""
    _guard(actor, destination, "load a warehouse")
    _warehouse_only(destination)
    if not destination.is_enabled:
        raise ApplicationError(
            "The destination is disabled: enable it to load it.",
            code=DestinationsErrorCode.DISABLED,
        )
    audit_record(action="destinations.destination.load_started", target=destination)
    from .tasks import load_warehouse_task

    transaction.on_commit(lambda: load_warehouse_task.delay(destination.pk))


def _warehouse_only(destination: Destination) -> None:
    if not adapter_for(destination.adapter).loads_in_batches:
        raise ApplicationError(
            "Only a warehouse destination is loaded; this one is sent to event by event.",
            code=DestinationsErrorCode.NOT_LOADED,
        )


@transaction.atomic
def warehouse_key_show(*, actor, destination: Destination) -> str:
    """The hash key of a warehouse destination's ``deleted_users``, shown once, to someone
    with destinations.manage (models read it from the warehouse's ``hash_key`` table after
    that). Audited, without the key."""
    require(actor, "destinations.manage", "see a warehouse's hash key")
    _warehouse_only(destination)
    from .warehouse.publish import key_of, publication_of

    publication = publication_of(destination)
    publication = WarehousePublication.objects.select_for_update().get(pk=publication.pk)
    if publication.key_shown_at is not None:
        who = publication.key_shown_by.get_full_name() if publication.key_shown_by else "someone"
        raise ConflictError(
            f"The hash key was shown once already, on {publication.key_shown_at:%Y-%m-%d}, to "
            f"{who}. Models read it from the warehouse's hash_key table.",
            code=DestinationsErrorCode.KEY_SHOWN,
        )
    publication.key_shown_at, publication.key_shown_by = timezone.now(), actor
    publication.save(update_fields=["key_shown_at", "key_shown_by"])
    audit_record(action="destinations.destination.hash_key_shown", target=destination)
    return key_of(publication)


def warehouse_publish(*, destination: Destination) -> WarehousePublication:
    """Publish a warehouse destination's tables (``deleted_users``, ``identity_graph``,
    ``profiles``, ``hash_key``) now; the worker does it after each load."""
    _warehouse_only(destination)
    from .warehouse.publish import publish

    return publish(destination)


def warehouse_erase(*, destination: Destination, identifiers: list, at) -> dict[str, int]:
    """Erase a person (their ``identifiers``, suppressed at ``at``) from a warehouse
    destination: their rows go from every loaded table, their hashes join its
    ``deleted_users``. Returns the rows deleted per table; raises ``ApplicationError``
    (``warehouse_failed``, its reason scrubbed) when the warehouse fails, having changed
    nothing there."""
    _warehouse_only(destination)
    from .warehouse.erase import erase
    from .warehouse.publish import remember_erased

    erased = remember_erased(destination, [(ident, at) for ident in identifiers])
    return erase(destination, identifiers, erased)


def send_test(*, actor, destination: Destination, send: bool = False):
    """Build exactly what the vendor would receive for a sample event and keep it in the
    sandbox inbox (credentials masked); nothing leaves the console. Returns the captures.

    With ``send=True`` the same requests are then sent to the vendor through the outbound
    port (its pacing and the egress policy apply), and the vendor's answers are returned too,
    as ``(captures, answers)``: a sandbox destination needs destinations.manage, a production
    one destinations.send_production as well. Audited either way, with each status."""
    require(actor, "destinations.manage", "send tests")
    if send and destination.is_production:
        require(actor, "destinations.send_production", "send a test to a production destination")
    adapter, credentials, requests = _test_requests(destination)
    if not send:
        with transaction.atomic():
            captures = _capture(actor, destination, adapter, credentials, requests)
            audit_record(
                action="destinations.destination.test_sent",
                target=destination,
                metadata={"captures": [c.pk for c in captures]},
            )
        return captures
    from . import outbound
    from .masking import mask_request

    with transaction.atomic():
        captures = _capture(actor, destination, adapter, credentials, requests)
    vendor, answers = outbound.vendor_for(destination), []
    for request in requests:  # no transaction is held open while the vendor answers
        answer = vendor.transmit(request)
        answers.append(
            TestAnswer(
                method=request.method,
                url=mask_request(adapter, request)[0],
                status=answer.status,
                body=answer_text(answer.body, credentials),
                error=vendor_text(answer.error, credentials),
                refused=answer.refused,
            )
        )
    audit_record(
        action="destinations.destination.test_delivered",
        target=destination,
        metadata={
            "captures": [c.pk for c in captures],
            "answers": [{"status": a.status, "error": a.error} for a in answers],
        },
    )
    return captures, answers


@transaction.atomic
def deliveries_replay(*, actor, deliveries) -> dict[str, int]:
    """Send dead letters again. Consent and suppression are checked again first: a delivery
    whose subject has since withdrawn consent or been erased is filtered instead. Replaying
    a delivery that is not dead changes nothing."""
    from apps.consent.selectors import consent_snapshots
    from apps.identity.normalise import Ident

    require(actor, "destinations.replay", "replay dead letters")
    rows = list(
        Delivery.objects.select_for_update()
        .select_related("destination")
        .filter(pk__in=[d.pk for d in deliveries], status=DeliveryStatus.DEAD)
    )
    if any(r.destination.is_production for r in rows):
        require(actor, "destinations.send_production", "replay to a production destination")
    blocked = gate.suppressed(r.subject for r in rows)
    now = timezone.now()
    # Consent as it stands now, once per person, for the whole replay in a few queries.
    subjects = sorted({r.subject for r in rows if ":" in r.subject})
    idents = [Ident(*subject.split(":", 1)) for subject in subjects]
    consent_now = dict(zip(subjects, consent_snapshots([(i, now) for i in idents]), strict=True))
    counts = {"replayed": 0, "filtered": 0}
    for row in rows:
        consent = consent_now.get(row.subject)
        if row.subject in blocked:
            row.status, row.reason = DeliveryStatus.FILTERED, FilterReason.SUPPRESSION
        elif not gate.allows(row.destination.required_purposes, consent):
            row.status, row.reason = DeliveryStatus.FILTERED, FilterReason.CONSENT
        else:
            row.status, row.reason = DeliveryStatus.PENDING, ""
            row.next_attempt_at, row.first_attempt_at = now, None
        if row.status == DeliveryStatus.FILTERED:
            row.payload = None
        row.consent, row.replayed_at = consent, now
        counts["replayed" if row.status == DeliveryStatus.PENDING else "filtered"] += 1
    for destination in {r.destination for r in rows}:
        mine = [r for r in rows if r.destination_id == destination.pk]
        audit_record(
            action="destinations.delivery.replayed",
            target=destination,
            metadata={
                "deliveries": [r.pk for r in mine][:500],
                "count": len(mine),
                "filtered": sum(1 for r in mine if r.status == DeliveryStatus.FILTERED),
            },
        )
    Delivery.objects.bulk_update(
        rows,
        [
            "status",
            "reason",
            "next_attempt_at",
            "first_attempt_at",
            "payload",
            "consent",
            "replayed_at",
        ],
    )
    if counts["replayed"]:
        from .tasks import kick

        transaction.on_commit(kick)
    return counts


PURGE_CHUNK = 10_000


def payloads_purge(*, before) -> int:
    """Empty what deliveries finished before ``before`` were to send (the raw message, with
    its identifiers and mapped fields): delivered or filtered ones. The record of what went
    where, when and under which consent stays; dead letters keep theirs, to be replayed, as
    quarantined events do. Done ``PURGE_CHUNK`` rows a statement (the first run after an
    upgrade may meet millions). Returns how many were emptied."""
    due = Delivery.objects.filter(
        created_at__lt=before, status__in=[DeliveryStatus.DELIVERED, DeliveryStatus.FILTERED]
    ).exclude(payload=None)
    total, after = 0, 0
    # Each chunk starts where the last ended (never rereading rows already emptied).
    while ids := list(
        due.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:PURGE_CHUNK]
    ):
        total += Delivery.objects.filter(pk__in=ids).update(payload=None)
        after = ids[-1]
    return total


def credentials_rotate() -> int:
    """Re-encrypt every destination's credentials with the newest key; returns how many."""
    count = 0
    with transaction.atomic():
        for destination in Destination.objects.select_for_update().exclude(credentials_token=""):
            destination.credentials_token = crypto.rotate(destination.credentials_token)
            destination.save(update_fields=["credentials_token"])
            count += 1
        for publication in WarehousePublication.objects.select_for_update():
            publication.key_token = crypto.rotate(publication.key_token)
            publication.save(update_fields=["key_token"])
            count += 1
    return count
