"""The suppression list: keyed hashes of erased people's identifiers. Collection, the
pipeline, routing, delivery replays, consent, the identity graph and reverse-ETL syncs ask it
through the privacy gate, ``apps.consent.gate``, which imports this module: it imports only
identity's normaliser and the common kernel, so that the gate's import of it makes no cycle.

An entry is HMAC-SHA256 of the SHA-256 of the normalised ``type:value``, under the keys of
``SUPPRESSION_KEYS`` (``MARTECH_SUPPRESSION_KEYS``, newest first), which are kept apart from
the database: the list, the erasure requests' hashes or a copy of the database alone do not
tell whose identifiers they are, even for ids that could be counted through (``cus_00001``,
``cus_00002``, …). Keys rotate without the identifiers: each stored hash records the id of
the key it was last wrapped under, and ``manage.py rotate_suppression_key`` wraps it once more
under the newest key (``HMAC(new key, stored hash)``). A hash under key *n* is therefore the
chain of every key up to *n*: the old keys must stay configured, but they no longer suffice.
While a rotation runs, lookups try every key id present.

Each process keeps the list's hashes in memory with the generation they were read under
(``martech.common.sharedcache``): the collection API and the pipeline then ask the cache for
one value, not the database. Adding to the list replaces the generation. A transaction that
added to the list never fills the memory (its rows are not committed yet), and the memory is
only kept while the list is at most ``MEMORY_LIMIT`` long, and only where the cache is
shared by all processes (not in the embedded mode's per-process memory); otherwise each check
asks the database.
"""

from __future__ import annotations

import hashlib
import hmac
import threading

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction

from apps.identity.normalise import Ident
from martech.common import sharedcache

GENERATION = sharedcache.register("erasure:suppression:generation")
MEMORY_LIMIT = 500_000
MIN_KEY_LENGTH = 32
# The key id of a hash stored before the list was keyed: plain SHA-256 of ``type:value``.
UNKEYED = ""
# (generation, the list's hashes or None when it is longer than MEMORY_LIMIT, the key ids
# its hashes are under)
_memory: tuple[object, frozenset[str] | None, frozenset[str]] | None = None
# .pending: the transaction of this thread that added to the list and has not committed (its
# outermost atomic block), so that one rolled back does not outlive itself.
_written = threading.local()
_chain: tuple[object, tuple[tuple[str, bytes], ...]] = (None, ())


def _key_id(key: bytes) -> str:
    """A name for a key that reveals nothing of it."""
    return hmac.new(key, b"martech suppression key id", hashlib.sha256).hexdigest()[:16]


def keys() -> tuple[tuple[str, bytes], ...]:
    """The configured keys, oldest first, each with its id (read again only when the setting
    is replaced)."""
    global _chain
    configured = getattr(settings, "SUPPRESSION_KEYS", None) or []
    if _chain[0] is not configured:
        raw = [k.strip() for k in configured if k.strip()]
        if not raw:
            raise ImproperlyConfigured(
                "Set MARTECH_SUPPRESSION_KEYS: the suppression list's hashes are keyed."
            )
        if any(len(k) < MIN_KEY_LENGTH for k in raw):
            raise ImproperlyConfigured(
                f"Each key of MARTECH_SUPPRESSION_KEYS is at least {MIN_KEY_LENGTH} characters."
            )
        if len(set(raw)) != len(raw):
            raise ImproperlyConfigured("MARTECH_SUPPRESSION_KEYS lists a key twice.")
        _chain = (configured, tuple((_key_id(k.encode()), k.encode()) for k in reversed(raw)))
    return _chain[1]


def current_key_id() -> str:
    """The id of the newest key: the one new hashes are made under."""
    return keys()[-1][0]


def _wrap(value_hash: str, after: int) -> str:
    """``value_hash`` wrapped by every key after position ``after`` (-1: every key)."""
    for _, key in keys()[after + 1 :]:
        value_hash = hmac.new(key, value_hash.encode(), hashlib.sha256).hexdigest()
    return value_hash


def _position(key_id: str) -> int:
    if key_id == UNKEYED:
        return -1
    for position, (known, _) in enumerate(keys()):
        if known == key_id:
            return position
    raise ImproperlyConfigured(
        f"A suppression hash is under key {key_id}, which MARTECH_SUPPRESSION_KEYS no longer "
        "lists: put the key back (every key stays listed)."
    )


def _unkeyed(subject: str) -> str:
    return hashlib.sha256(subject.encode()).hexdigest()


def digest(kind: str, value: str) -> str:
    """The keyed hash of the normalised ``type:value`` under the newest key: what the list and
    the erasure requests keep."""
    return _wrap(_unkeyed(f"{kind}:{value}"), -1)


def digests(subject: str) -> dict[str, str]:
    """The keyed hashes of ``subject`` (``type:value``) under each key id, oldest first."""
    value_hash, out = _unkeyed(subject), {}
    for key_id, key in keys():
        value_hash = hmac.new(key, value_hash.encode(), hashlib.sha256).hexdigest()
        out[key_id] = value_hash
    return out


def rewrap(value_hash: str, key_id: str) -> str:
    """A stored hash under ``key_id`` as it is under the newest key."""
    return _wrap(value_hash, _position(key_id))


def mask(ident: Ident) -> str:
    """Enough for a person to recognise the identifier, not enough to read it."""
    value = ident.value
    if ident.type == "email" and "@" in value:
        local, domain = value.split("@", 1)
        return f"{local[:1]}***@{domain}"
    if len(value) <= 4:
        return "***"
    return f"{value[:2]}***{value[-2:]}"


def _transaction() -> object | None:
    """The outermost atomic block open on this thread's connection: the transaction."""
    blocks = connection.atomic_blocks
    return blocks[0] if blocks else None


def _pending() -> bool:
    """Whether the open transaction added to the list (not one before it, rolled back)."""
    pending = getattr(_written, "pending", None)
    return pending is not None and pending is _transaction()


def forget(**_) -> None:
    """The list changed: this process forgets it now, every other one after the commit."""
    global _memory
    _memory = None
    if connection.in_atomic_block:
        _written.pending = _transaction()
        transaction.on_commit(lambda: setattr(_written, "pending", None))
    sharedcache.bump(GENERATION)


def _remembered() -> tuple[frozenset[str], frozenset[str]] | None:
    """The list's hashes and their key ids from this process's memory, read again when the
    generation moved; None when the database must be asked."""
    global _memory
    if not sharedcache.shared():
        return None  # another process's additions could not be told apart: ask every time
    if not connection.in_atomic_block:
        _written.pending = None  # no transaction open: nothing uncommitted of this thread's
    elif _pending():
        return None  # this transaction's own additions are in the database only
    generation = sharedcache.started(GENERATION, sharedcache.current(GENERATION))
    memory = _memory
    if memory is None or memory[0] != generation:
        from .models import Suppression

        rows = list(Suppression.objects.values_list("value_hash", "key_id")[: MEMORY_LIMIT + 1])
        if len(rows) <= MEMORY_LIMIT:
            memory = (generation, frozenset(h for h, _ in rows), frozenset(k for _, k in rows))
        else:
            memory = (generation, None, frozenset())
        _memory = memory
    if memory[1] is None:
        return None
    return memory[1], memory[2]


def nothing_suppressed() -> bool:
    """True when this process knows the list is empty (at the current generation)."""
    known = _remembered()
    return known is not None and not known[0]


def suppressed_subjects(subjects: set[str]) -> set[str]:
    """Which of ``subjects`` (``type:value``, normalised) are on the list."""
    from .models import Suppression

    if not subjects:
        return set()
    known = _remembered()
    if known is not None and not known[0]:
        return set()
    hashes: dict[str, str] = {}
    for subject in subjects:
        under = digests(subject)
        if known is not None:  # only the key ids the list's hashes are under
            under = {k: h for k, h in under.items() if k in known[1]}
        for value_hash in under.values():
            hashes[value_hash] = subject
    if known is not None:
        return {subject for h, subject in hashes.items() if h in known[0]}
    if connection.vendor == "postgresql":
        from martech.common.pgcopy import execute_arrays

        found = [
            h
            for (h,) in execute_arrays(
                "SELECT value_hash FROM erasure_suppression WHERE value_hash = ANY(%b::text[])",
                [list(hashes)],
            )
        ]
    else:
        found = Suppression.objects.filter(value_hash__in=list(hashes)).values_list(
            "value_hash", flat=True
        )
    return {hashes[h] for h in found}


def _rewrap_rows(model, hash_field: str, unique: tuple[str, ...] | None, newest: str) -> int:
    """Wrap ``model``'s hashes not under the newest key once more, in batches. Where the hash
    is unique (together with the ``unique`` fields), a row whose wrapped hash another row
    already holds (the same identifier, stored under the newest key while the rotation ran)
    is deleted. Returns how many rows changed."""
    scope = unique or ()
    changed = 0
    while True:
        with transaction.atomic():
            batch = list(
                model.objects.select_for_update()
                .exclude(key_id=newest)
                .order_by("pk")
                .values_list("pk", hash_field, "key_id", *scope)[:1000]
            )
            if not batch:
                return changed
            for pk, value_hash, key_id, *within in batch:
                wrapped = rewrap(value_hash, key_id)
                rows = model.objects.filter(pk=pk)
                held = model.objects.filter(
                    **{hash_field: wrapped}, **dict(zip(scope, within, strict=True))
                ).exclude(pk=pk)
                if unique is not None and held.exists():
                    rows.delete()
                else:
                    rows.update(**{hash_field: wrapped, "key_id": newest})
                changed += 1


def rotate() -> dict[str, int]:
    """Wrap every stored hash that is not under the newest key of ``SUPPRESSION_KEYS`` once
    more under it (``manage.py rotate_suppression_key``); idempotent, and lookups work
    throughout. Returns how many of each were wrapped."""
    from .models import ErasureIdentifier, ErasureRequest, Suppression

    newest = current_key_id()
    done = {
        "suppression entries": _rewrap_rows(Suppression, "value_hash", (), newest),
        "requests": _rewrap_rows(ErasureRequest, "subject_hash", None, newest),
        "request identifiers": _rewrap_rows(
            ErasureIdentifier, "value_hash", ("request_id", "type"), newest
        ),
    }
    forget()
    return done


@checks.register(checks.Tags.security)
def check_keys(app_configs=None, **kwargs) -> list:
    """The suppression list's keys are configured and long enough."""
    try:
        keys()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="erasure.E001")]
    return []


@checks.register(checks.Tags.database)
def check_key_ids(app_configs=None, databases=None, **kwargs) -> list:
    """Every stored hash is under a key that is still configured (else nobody could look it
    up, and the person it stands for would be collected again)."""
    if not databases or "default" not in databases:
        return []
    from django.db.utils import DatabaseError

    from .models import ErasureIdentifier, ErasureRequest, Suppression

    try:
        configured = {key_id for key_id, _ in keys()} | {UNKEYED}
        stored = set(Suppression.objects.values_list("key_id", flat=True).distinct())
        stored |= set(ErasureRequest.objects.values_list("key_id", flat=True).distinct())
        stored |= set(ErasureIdentifier.objects.values_list("key_id", flat=True).distinct())
    except (ImproperlyConfigured, DatabaseError):
        return []  # said by check_keys, or the database is not ready: other checks say so
    missing = sorted(stored - configured)
    if not missing:
        return []
    return [
        checks.Error(
            f"Suppression hashes are under key id(s) {', '.join(missing)}, which "
            "MARTECH_SUPPRESSION_KEYS does not list; nobody on the list under them is "
            "recognised. Put the key(s) back.",
            id="erasure.E002",
        )
    ]
