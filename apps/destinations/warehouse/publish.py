"""The tables a warehouse destination publishes for modelling, beside the events, in the same
schema and after each load:

* ``deleted_users``: every erased identifier the destination can publish, as
  ``identifier_hash`` = hex SHA-256 of ``<key>:<type>:<value>`` (the value normalised as the
  console normalises it: an email trimmed and lower-cased, a phone in E.164), with
  ``identifier_type`` and ``suppressed_at``. The key is the destination's own (``hash_key``),
  so a model computes the same hash of its own columns in SQL; a plain concatenation hashed
  with SHA-256, because every warehouse has SHA-256 and not every one has HMAC (DuckDB has
  none). The console's suppression list cannot be published as it is: its hashes are keyed
  with the console's own key, which no warehouse may hold. So an identifier is published when
  its value is known, while its erasure request is in progress (the warehouse's erasure task
  and every publication hash the request's identifiers, and the console keeps those hashes,
  ``PublishedErasure``); identifiers erased before the destination existed are counted as
  not publishable, their values gone.
* ``identity_graph``: each identifier (``id`` = ``type:value``) with the profile holding it,
  the canonical profile (merges followed) and the profile it came from by a merge.
* ``profiles``: each profile, its state, first and last touch, and its consent in force now,
  one ``consent_<purpose>`` column per purpose.

  Both hold only people whose consent in force now grants every one of the destination's
  required purposes (``gate.allows``, as routing asks of an event): a profile's identifiers
  and its row go together or not at all, and a profile merged away (no identifiers left, so
  no consent of its own) is published only when the destination requires nothing. A sandbox
  destination publishes neither table's rows: production people never reach a sandbox.
* ``hash_key``: one row, the key and how the hash is made.

Each table is replaced whole in one transaction of the warehouse (emptied, then loaded page by
page, so memory stays bounded whatever the size of the graph): a model never reads half a
publication.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.consent import gate
from apps.consent.selectors import consent_snapshots, purpose_name_map
from apps.erasure.selectors import identifiers_being_erased, suppression_count
from apps.identity.normalise import Ident
from apps.identity.selectors import identity_graph_pages, profile_pages
from apps.syncs.warehouses.base import Column, Table
from martech.common import crypto

from ..adapters.warehouse import DEFAULT_SCHEMA
from ..models import Destination, PublishedErasure, WarehousePublication
from . import ownership
from .layout import PUBLISHED_TABLES, snake

DELETED_USERS, IDENTITY_GRAPH, PROFILES, HASH_KEY = PUBLISHED_TABLES
CONSTRUCTION = "sha256(key || ':' || type || ':' || value), lower-case hex"
PAGE = 5000
TOUCH = ("at", "channel", "source", "medium", "campaign")


def identifier_hash(key: str, ident: Ident) -> str:
    """The hash of ``ident`` under a warehouse destination's ``key``, as a model computes it
    in SQL: ``sha256(key || ':' || type || ':' || value)`` in lower-case hex."""
    return hashlib.sha256(f"{key}:{ident.type}:{ident.value}".encode()).hexdigest()


def publication_of(destination: Destination) -> WarehousePublication:
    """The destination's publication, its key generated on first use (64 hex characters:
    nothing a SQL literal must escape)."""
    found = WarehousePublication.objects.filter(destination=destination).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return WarehousePublication.objects.create(
                destination=destination,
                key_token=crypto.encrypt({"key": secrets.token_hex(32)}),
            )
    except IntegrityError:  # made at the same moment elsewhere
        return WarehousePublication.objects.get(destination=destination)


def key_of(publication: WarehousePublication) -> str:
    return crypto.decrypt(publication.key_token)["key"]


def remember_erased(
    destination: Destination, idents: Iterable[tuple[Ident, dt.datetime]]
) -> list[tuple[str, str, dt.datetime]]:
    """Keep the destination's hashes of erased identifiers (while their values are known),
    in pages; returns them as ``deleted_users`` rows (hash, type, moment)."""
    key = key_of(publication_of(destination))
    out: list[tuple[str, str, dt.datetime]] = []
    page: list[PublishedErasure] = []

    def keep():
        PublishedErasure.objects.bulk_create(page, ignore_conflicts=True)
        page.clear()

    for ident, at in idents:
        row = PublishedErasure(
            destination=destination,
            type=ident.type,
            identifier_hash=identifier_hash(key, ident),
            suppressed_at=at,
        )
        page.append(row)
        out.append((row.identifier_hash, row.type, at))
        if len(page) >= 1000:
            keep()
    keep()
    return out


@dataclass(frozen=True)
class _Published:
    table: Table
    pages: Iterator[list[tuple]]


def _columns(*pairs: tuple[str, str]) -> tuple[Column, ...]:
    return tuple(Column(name, type_) for name, type_ in pairs)


def deleted_users_table(schema: str) -> Table:
    return Table(
        schema=schema,
        name=DELETED_USERS,
        columns=_columns(
            ("identifier_hash", "string"),
            ("identifier_type", "string"),
            ("suppressed_at", "timestamp"),
        ),
        key="identifier_hash",
    )


def _deleted_users(destination: Destination, schema: str) -> _Published:
    table = deleted_users_table(schema)

    def pages():
        after = 0
        while True:
            page = list(
                PublishedErasure.objects.filter(destination=destination, pk__gt=after)
                .order_by("pk")
                .values_list("pk", "identifier_hash", "type", "suppressed_at")[:PAGE]
            )
            if not page:
                return
            after = page[-1][0]
            yield [row[1:] for row in page]

    return _Published(table, pages())


def _consent_now(subjects: Iterable[Ident]) -> dict[Ident, dict[str, bool]]:
    """The consent in force now of each of ``subjects`` (its profile's), in one read."""
    asked = list(dict.fromkeys(subjects))
    now = timezone.now()
    return dict(zip(asked, consent_snapshots([(s, now) for s in asked]), strict=True))


def _people(destination: Destination) -> tuple[str, ...] | None:
    """The purposes a person must grant to be published to ``destination``, or None when
    nobody is (a sandbox)."""
    return destination.required_purposes if destination.is_production else None


def _identity_graph(schema: str, required: tuple[str, ...] | None) -> _Published:
    table = Table(
        schema=schema,
        name=IDENTITY_GRAPH,
        columns=_columns(
            ("id", "string"),
            ("identifier_type", "string"),
            ("identifier_value", "string"),
            ("profile_id", "integer"),
            ("canonical_profile_id", "integer"),
            ("merged_from", "integer"),
            ("first_seen", "timestamp"),
        ),
        key="id",
    )

    def pages():
        if required is None:
            return
        for page in identity_graph_pages(PAGE):
            if required:
                consent = _consent_now(Ident(row["type"], row["value"]) for row in page)
                page = [
                    row
                    for row in page
                    if gate.allows(required, consent[Ident(row["type"], row["value"])])
                ]
            yield [
                (
                    f"{row['type']}:{row['value']}",
                    row["type"],
                    row["value"],
                    row["profile_id"],
                    row["canonical_profile_id"],
                    row["merged_from"],
                    row["first_seen"],
                )
                for row in page
            ]

    return _Published(table, pages())


def _touch_at(touch: dict) -> dt.datetime | None:
    try:
        at = dt.datetime.fromisoformat(str(touch.get("at")).replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def _profiles(schema: str, required: tuple[str, ...] | None) -> _Published:
    purposes = sorted(purpose_name_map())
    consent_columns = [(f"consent_{snake(code)}", code) for code in purposes]
    touch_columns = [
        (f"{side}_touch_{part}", "timestamp" if part == "at" else "string")
        for side in ("first", "last")
        for part in TOUCH
    ]
    table = Table(
        schema=schema,
        name=PROFILES,
        columns=_columns(
            ("profile_id", "integer"),
            ("canonical_profile_id", "integer"),
            ("state", "string"),
            *touch_columns,
            *[(name, "boolean") for name, _ in consent_columns],
            ("created_at", "timestamp"),
            ("updated_at", "timestamp"),
        ),
        key="profile_id",
    )

    def pages():
        if required is None:
            return
        for page in profile_pages(PAGE):
            snapshots = _consent_now(row["subject"] for row in page if row["subject"] is not None)
            rows = []
            for row in page:
                consent = snapshots.get(row["subject"]) if row["subject"] else None
                if not gate.allows(required, consent):
                    continue
                touches = []
                for side in ("first_touch", "last_touch"):
                    touch = row[side]
                    for part in TOUCH:
                        if part == "at":
                            touches.append(_touch_at(touch) if touch.get("at") else None)
                        else:
                            value = touch.get(part)
                            touches.append(str(value) if value is not None else None)
                rows.append(
                    (
                        row["profile_id"],
                        row["canonical_profile_id"],
                        row["state"],
                        *touches,
                        *[(consent or {}).get(code) for _, code in consent_columns],
                        row["created_at"],
                        row["updated_at"],
                    )
                )
            yield rows

    return _Published(table, pages())


def _hash_key(schema: str, publication: WarehousePublication) -> _Published:
    table = Table(
        schema=schema,
        name=HASH_KEY,
        columns=_columns(
            ("id", "string"),
            ("key", "string"),
            ("construction", "string"),
            ("created_at", "timestamp"),
        ),
        key="id",
    )
    row = ("deleted_users", key_of(publication), CONSTRUCTION, publication.created_at)
    return _Published(table, iter([[row]]))


def publish(destination: Destination) -> WarehousePublication:
    """Replace the destination's published tables in its warehouse, each in one transaction
    of the warehouse; the publication records the rows of each table, or the error."""
    from apps.syncs.models import Warehouse
    from apps.syncs.selectors import warehouse_engine

    from .loader import _int, _scrubbed

    publication = publication_of(destination)
    config = destination.config or {}
    schema = config.get("schema") or DEFAULT_SCHEMA
    credentials: dict = {}
    rows: dict[str, int] = {}
    try:
        # While a request is in progress its identifiers are known: hash them now, for
        # every warehouse destination, even one created after the request was approved.
        remember_erased(destination, identifiers_being_erased())
        warehouse = Warehouse.objects.filter(pk=_int(config.get("warehouse"))).first()
        if warehouse is None:
            raise LookupError("Its warehouse connection no longer exists: choose another.")
        engine, credentials = warehouse_engine(warehouse)
        with engine.writing(credentials) as connection:
            found = engine.tables(connection, schema)
            ownership.claim(engine, connection, schema, destination, found)
        required = _people(destination)
        for published in (
            _hash_key(schema, publication),
            _deleted_users(destination, schema),
            _identity_graph(schema, required),
            _profiles(schema, required),
        ):
            table = published.table
            with engine.writing(credentials) as connection:
                engine.ensure(connection, table)
                engine.clear(connection, table.name, schema)
                count = 0
                for page in published.pages:
                    count += engine.load(connection, table, page)
            rows[table.name] = count
        publication.error = ""
        publication.published_at = timezone.now()
    except Exception as exc:  # recorded on the publication, shown on the destination's page
        publication.error = _scrubbed(exc, credentials)
    publication.rows = rows
    published_erasures = PublishedErasure.objects.filter(destination=destination).count()
    publication.unpublishable = max(0, suppression_count() - published_erasures)
    publication.save(update_fields=["error", "published_at", "rows", "unpublishable"])
    return publication
