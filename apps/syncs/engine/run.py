"""Running a sync: stream the model, compare each row with what the destination last
acknowledged, and send only what changed.

A row is identified by the model's primary key and compared by a fingerprint (a hash of the
identifier and the mapped values). Each batch of streamed rows asks the state table which of
them are new, changed or failed last time; only those are sent, through the destination's
adapter, in the vendor's batch size. A row's state is written only after the vendor
acknowledged it, request by request, so a run that stops anywhere is followed by a correct
run: acknowledged rows are not sent again, the rest are (vendors upsert by identifier).
Memory stays bounded: rows are streamed from a server-side cursor, and in mirror mode the keys
seen are written to a temporary table so rows that left the model are found by an anti-join.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson
from django.db import connection
from django.utils import timezone

from apps.destinations.adapters import Item, Outbound, Result, Verdict, adapter_for
from apps.destinations.client import send
from apps.destinations.crypto import decrypt
from apps.destinations.routing import consent_allows, has_suppression_checks, suppressed
from apps.identity.normalise import InvalidIdentifier, normalise
from martech.common.errors import ApplicationError
from martech.common.pgcopy import execute_arrays

from ..models import COUNTS, RowOutcome, Sync, SyncMode, SyncObject, SyncRow, SyncRun, SyncRunRow
from . import warehouse

log = logging.getLogger(__name__)
STREAM_BATCH = 5000
SAMPLE_ROWS = 10
ROW_RESULTS_CAP = 10_000  # per run; the counts stay exact beyond it
ATTEMPTS = 4  # tries of one request within a run before its rows wait for the next run
RETRY_CAP = 30.0  # seconds between those tries at most
BEAT_SECONDS = 2.0  # progress and heartbeat at least this often while sending


class RunStopped(Exception):
    """The vendor keeps failing: the run stops; what it did not send waits for the next."""


@dataclass
class Row:
    key: str
    subject: str  # "type:value", normalised; "" when the row's identifier is not valid
    identifier: str
    fields: dict
    fingerprint: bytes
    op: str = ""  # added, changed
    error: str = ""


@dataclass
class Tally:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    sample: list[dict] = field(default_factory=list)
    results: list[SyncRunRow] = field(default_factory=list)
    done: int = 0
    requests: int = 0
    stored_results: int = 0


def _jsonable(value):
    return str(value)


def fingerprint(subject: str, values: tuple) -> bytes:
    """16 bytes that change whenever the identifier or any mapped value changes."""
    raw = orjson.dumps([subject, *values], default=_jsonable)
    return hashlib.blake2b(raw, digest_size=16).digest()


class Runner:
    """One run of one sync; ``plan`` counts without sending, ``execute`` sends."""

    def __init__(self, run: SyncRun, *, heartbeat: Callable[[Tally], None] | None = None):
        self.run = run
        self.sync: Sync = run.sync
        self.destination = self.sync.destination
        self.adapter = adapter_for(self.destination.adapter)
        self.heartbeat = heartbeat or (lambda tally: None)
        self.tally = Tally()
        self.mode = run.mode or self.sync.mode
        self.postgres = connection.vendor == "postgresql"
        self.dry = False

    # -- reading the model -------------------------------------------------------------

    def check_key(self) -> int:
        model = self.sync.model
        check = warehouse.check_key(model.warehouse, model.sql, model.primary_key)
        if check.nulls:
            raise ApplicationError(
                f"The primary key {model.primary_key!r} is empty in {check.nulls} rows; "
                "every row needs one.", code="null_keys")  # fmt: skip
        if check.duplicates:
            listed = ", ".join(f"{k} ({n} times)" for k, n in check.duplicates)
            raise ApplicationError(f"The primary key {model.primary_key!r} repeats: {listed}.",
                                   code="duplicate_keys")  # fmt: skip
        return check.rows

    def _columns(self) -> tuple[int, int, list[tuple[int, str]]]:
        model = self.sync.model
        shown = warehouse.preview(model.warehouse, model.sql, limit=0)
        names = [c["name"] for c in shown.columns]
        wanted = (model.primary_key, self.sync.subject_column,
                  *(m["from"] for m in self.sync.mappings))  # fmt: skip
        missing = [n for n in wanted if n not in names]
        if missing:
            raise ApplicationError(
                f"The model no longer has the column(s) {', '.join(sorted(set(missing)))}.",
                code="missing_columns")  # fmt: skip
        mapped = [(names.index(m["from"]), m["to"]) for m in self.sync.mappings]
        return names.index(model.primary_key), names.index(self.sync.subject_column), mapped

    def _rows(self, batch: list[tuple], key_at: int, subject_at: int, mapped) -> list[Row]:
        kind = self.sync.subject_type
        out = []
        for values in batch:
            raw = values[subject_at]
            subject, identifier, error = "", "", ""
            try:
                ident = normalise(kind, raw)
                subject, identifier = f"{ident.type}:{ident.value}", ident.value
            except InvalidIdentifier as exc:
                error = f"Invalid {kind}: {exc.message}"
            mapped_values = tuple(values[i] for i, _ in mapped)
            out.append(Row(
                key=str(values[key_at]), subject=subject, identifier=identifier,
                fields={to: values[i] for i, to in mapped},
                fingerprint=fingerprint(subject or str(raw), mapped_values), error=error,
            ))  # fmt: skip
        return out

    # -- comparing with the state ------------------------------------------------------

    _DIFF = (
        "SELECT v.i, r.synced_at IS NOT NULL FROM unnest(%b::text[], %b::bytea[]) "
        "WITH ORDINALITY AS v(key, fp, i) LEFT JOIN syncs_syncrow r "
        "ON r.sync_id = %b AND r.key = v.key "
        "WHERE r.id IS NULL OR r.fingerprint IS DISTINCT FROM v.fp OR r.error <> ''"
    )

    def _diff(self, rows: list[Row]) -> list[Row]:
        """The rows that differ from what the destination acknowledged, with ``op`` set."""
        if self.postgres:
            keys, prints = [r.key for r in rows], [r.fingerprint for r in rows]
            found = execute_arrays(self._DIFF, [keys, prints, self.sync.pk])
            out = []
            for i, synced in sorted(found):
                row = rows[i - 1]
                row.op = "changed" if synced else "added"
                out.append(row)
            return out
        known = {
            key: (bytes(fp) if fp is not None else None, synced, error)
            for key, fp, synced, error in SyncRow.objects.filter(
                sync=self.sync, key__in=[r.key for r in rows]
            ).values_list("key", "fingerprint", "synced_at", "error")
        }
        out = []
        for row in rows:
            state = known.get(row.key)
            if state is None or state[0] != row.fingerprint or state[2]:
                row.op = "changed" if state and state[1] else "added"
                out.append(row)
        return out

    def _sort(self, rows: list[Row]) -> list[Row]:
        """Count the rows of one streamed batch and return those to send."""
        counts = self.tally.counts
        changed = self._diff(rows)
        counts["unchanged"] += len(rows) - len(changed)
        wanted = []
        for row in changed:
            if (self.mode == SyncMode.INSERT and row.op == "changed") or (
                self.mode == SyncMode.UPDATE and row.op == "added"
            ):
                counts["skipped_mode"] += 1
            elif row.error:
                self._failed(row, row.error)
            else:
                wanted.append(row)
        if wanted and has_suppression_checks():
            blocked = suppressed(r.subject for r in wanted)
            if blocked:
                for row in (r for r in wanted if r.subject in blocked):
                    counts["skipped_suppression"] += 1
                    self._note(row.key, RowOutcome.SKIPPED_SUPPRESSION,
                               "The person is on the erasure suppression list.")  # fmt: skip
                wanted = [r for r in wanted if r.subject not in blocked]
        if wanted and self.destination.purposes:
            wanted = self._consented(wanted)
        return wanted

    def _consented(self, rows: list[Row]) -> list[Row]:
        from apps.consent.selectors import consent_snapshots
        from apps.identity.normalise import Ident

        now = timezone.now()
        snapshots = consent_snapshots([(Ident(*r.subject.split(":", 1)), now) for r in rows])
        kept = []
        need = ", ".join(self.destination.purposes)
        for row, snapshot in zip(rows, snapshots, strict=True):
            if consent_allows(self.destination, snapshot):
                kept.append(row)
            else:
                self.tally.counts["skipped_consent"] += 1
                self._note(row.key, RowOutcome.SKIPPED_CONSENT,
                           f"No consent for {need} at {self.destination.name}.")  # fmt: skip
        return kept

    # -- recording ---------------------------------------------------------------------

    def _note(self, key: str, outcome: str, message: str) -> None:
        if self.tally.stored_results + len(self.tally.results) < ROW_RESULTS_CAP:
            self.tally.results.append(
                SyncRunRow(run=self.run, key=key, outcome=outcome, message=message[:2000])
            )

    def _failed(self, row: Row, message: str) -> None:
        self.tally.counts["failed"] += 1
        self._note(row.key, RowOutcome.FAILED, message)
        if not self.dry:
            self._store_failed([(row, message)])

    def flush_results(self) -> None:
        if self.tally.results:
            SyncRunRow.objects.bulk_create(self.tally.results, batch_size=1000)
            self.tally.stored_results += len(self.tally.results)
            self.tally.results = []

    _ACKED = (
        "INSERT INTO syncs_syncrow (sync_id, key, subject, fingerprint, synced_at, error, "
        "failed_at) SELECT %b, v.key, v.subject, v.fp, %b, '', NULL "
        "FROM unnest(%b::text[], %b::text[], %b::bytea[]) AS v(key, subject, fp) "
        "ON CONFLICT (sync_id, key) DO UPDATE SET subject = EXCLUDED.subject, "
        "fingerprint = EXCLUDED.fingerprint, synced_at = EXCLUDED.synced_at, error = '', "
        "failed_at = NULL"
    )
    _FAILED = (
        "INSERT INTO syncs_syncrow (sync_id, key, subject, fingerprint, synced_at, error, "
        "failed_at) SELECT %b, v.key, v.subject, NULL, NULL, v.error, %b "
        "FROM unnest(%b::text[], %b::text[], %b::text[]) AS v(key, subject, error) "
        "ON CONFLICT (sync_id, key) DO UPDATE SET error = EXCLUDED.error, "
        "failed_at = EXCLUDED.failed_at"
    )

    def _store_acked(self, rows: list[Row]) -> None:
        now = timezone.now()
        if self.postgres:
            execute_arrays(self._ACKED, [self.sync.pk, now, [r.key for r in rows],
                                         [r.subject for r in rows],
                                         [r.fingerprint for r in rows]])  # fmt: skip
            return
        SyncRow.objects.bulk_create(
            [SyncRow(sync=self.sync, key=r.key, subject=r.subject, fingerprint=r.fingerprint,
                     synced_at=now, error="", failed_at=None) for r in rows],
            update_conflicts=True, unique_fields=["sync", "key"],
            update_fields=["subject", "fingerprint", "synced_at", "error", "failed_at"],
        )  # fmt: skip

    def _store_failed(self, failures: list[tuple[Row, str]]) -> None:
        """Keep the error (and the last acknowledged fingerprint) so the row goes again."""
        now = timezone.now()
        if self.postgres:
            execute_arrays(self._FAILED, [self.sync.pk, now, [r.key for r, _ in failures],
                                          [r.subject for r, _ in failures],
                                          [m[:2000] for _, m in failures]])  # fmt: skip
            return
        SyncRow.objects.bulk_create(
            [SyncRow(sync=self.sync, key=r.key, subject=r.subject, error=m[:2000], failed_at=now)
             for r, m in failures],
            update_conflicts=True, unique_fields=["sync", "key"],
            update_fields=["error", "failed_at"],
        )  # fmt: skip

    # -- sending -----------------------------------------------------------------------

    def _item(self, index: int, row: Row, *, member: bool = True) -> Item:
        identifiers = {self.sync.subject_type: row.identifier}
        fields = dict(orjson.loads(orjson.dumps(row.fields, default=_jsonable)))
        if self.sync.object == SyncObject.CONVERSIONS:
            digest = row.fingerprint.hex()[:16]
            message = {
                "type": "track", "event": self.sync.event_name,
                "messageId": f"sync-{self.sync.pk}-{row.key}-{digest}",
                "timestamp": timezone.now().isoformat(), "properties": fields,
                "userId": identifiers.get("user_id"),
            }  # fmt: skip
            return Item(key=index, kind="event", message=message, identifiers=identifiers,
                        fields=fields)  # fmt: skip
        if self.sync.object == SyncObject.AUDIENCES:
            fields[self.sync.audience_field] = member
        message = {"type": "identify", "traits": fields, "userId": identifiers.get("user_id")}
        return Item(key=index, kind="profile", message=message, identifiers=identifiers,
                    fields=fields)  # fmt: skip

    def _request(self, request: Outbound) -> Result:
        """Send one request, trying again within the run while the vendor says "later"."""
        for attempt in range(1, ATTEMPTS + 1):
            self._pace()
            answer = send(request)
            self.tally.requests += 1
            if answer.status is None:
                result = Result(Verdict.RETRY, None, answer.error)
            else:
                result = self.adapter.classify(answer.status, answer.headers, answer.body,
                                               request.keys)  # fmt: skip
            if result.verdict != Verdict.RETRY or attempt == ATTEMPTS:
                return result
            ceiling = min(RETRY_CAP, 0.5 * 2.0**attempt)
            wait = max(random.uniform(0, ceiling), result.retry_after or 0.0)
            if wait > 10 * RETRY_CAP:  # the vendor asks for a long pause: the next run
                return result
            time.sleep(wait)
        return result  # pragma: no cover

    def _pace(self) -> None:
        rate = self.adapter.rate_for(self.destination.config)
        if rate:
            pause = 1.0 / rate - (time.monotonic() - self._last)
            if pause > 0:
                time.sleep(pause)
        self._last = time.monotonic()

    _last = 0.0
    _beat_at = 0.0

    def _beat(self) -> None:
        self._beat_at = time.monotonic()
        self.heartbeat(self.tally)

    def _send(self, rows: list[Row]) -> None:
        """Send ``rows`` in the vendor's batches, recording each request's outcome."""
        credentials = self._credentials()
        base_url = (self.destination.base_url or self.adapter.default_base_url).rstrip("/")
        size = self.adapter.batch_size
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size]
            items = [self._item(i, row) for i, row in enumerate(chunk)]
            try:
                requests = self.adapter.requests(items, self.destination.config, credentials,
                                                 base_url)  # fmt: skip
            except Exception as exc:  # a row the vendor call cannot be built from
                self._outcome(chunk, Result(Verdict.PERMANENT, None,
                              f"Could not build the vendor request: {exc}"))  # fmt: skip
                continue
            carried = {k for r in requests for k in r.keys}
            left = [row for i, row in enumerate(chunk) if i not in carried]
            if left:
                self._outcome(left, Result(Verdict.PERMANENT, None,
                                           "The adapter built no request for it."))  # fmt: skip
            for request in requests:
                result = self._request(request)
                self._outcome([chunk[k] for k in request.keys], result, request.keys)
                if time.monotonic() - self._beat_at > BEAT_SECONDS:
                    self._beat()
                if result.verdict == Verdict.RETRY:
                    raise RunStopped(f"{result.status or 'No answer'}: {result.message}"[:500])

    def _credentials(self) -> dict:
        if not hasattr(self, "_creds"):
            self._creds = decrypt(self.destination.credentials_token)
        return self._creds

    def _outcome(self, rows: list[Row], result: Result, keys: tuple[int, ...] = ()) -> None:
        acked, failures = [], []
        index = dict(zip(keys, rows, strict=True)) if keys else {}
        failed_keys = {index[k].key: v for k, v in result.failed.items() if k in index}
        for row in rows:
            verdict, message = result.verdict, result.message
            if row.key in failed_keys:
                verdict, message = failed_keys[row.key]
            if verdict == Verdict.DELIVERED:
                acked.append(row)
                self.tally.counts[row.op] += 1
            else:
                text = f"{result.status or 'No answer'}: {message}".strip()
                failures.append((row, text))
                self.tally.counts["failed"] += 1
                self._note(row.key, RowOutcome.FAILED, text)
        if acked:
            self._store_acked(acked)
        if failures:
            self._store_failed(failures)

    # -- mirror: rows that left the model -----------------------------------------------

    def _seen_open(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMPORARY TABLE IF NOT EXISTS syncs_seen (key text)")
            cursor.execute("DELETE FROM syncs_seen")

    def _seen_add(self, rows: list[Row]) -> None:
        if self.postgres:
            execute_arrays("INSERT INTO syncs_seen SELECT unnest(%b::text[])",
                           [[r.key for r in rows]])  # fmt: skip
            return
        with connection.cursor() as cursor:
            cursor.executemany("INSERT INTO syncs_seen (key) VALUES (%s)", [(r.key,) for r in rows])

    def _seen_close(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS syncs_seen")

    def _gone(self, after: int, limit: int = 500) -> list[tuple[int, str, str]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT r.id, r.key, r.subject FROM syncs_syncrow r WHERE r.sync_id = %s "
                "AND r.id > %s AND r.synced_at IS NOT NULL AND NOT EXISTS "
                "(SELECT 1 FROM syncs_seen s WHERE s.key = r.key) ORDER BY r.id LIMIT %s",
                [self.sync.pk, after, limit],
            )
            return cursor.fetchall()

    def _remove(self, dry: bool) -> None:
        after = 0
        while batch := self._gone(after):
            after = batch[-1][0]
            rows = [Row(key=k, subject=s, identifier=s.split(":", 1)[-1], fields={},
                        fingerprint=b"", op="removed") for _, k, s in batch]  # fmt: skip
            if dry:
                self.tally.counts["removed"] += len(rows)
                self._sample(rows)
                continue
            for row in rows:
                self._remove_one(row)
            self._beat()

    def _remove_one(self, row: Row) -> None:
        base_url = (self.destination.base_url or self.adapter.default_base_url).rstrip("/")
        try:
            if self.sync.object == SyncObject.AUDIENCES:
                [request] = self.adapter.requests([self._item(0, row, member=False)],
                                                  self.destination.config,
                                                  self._credentials(), base_url)[:1]  # fmt: skip
            else:
                request = self.adapter.deletion({self.sync.subject_type: row.identifier},
                                                self.destination.config, self._credentials(),
                                                base_url)  # fmt: skip
                request = Outbound(request.method, request.url, request.headers, request.body,
                                   (0,))  # fmt: skip
        except Exception as exc:
            result = Result(Verdict.PERMANENT, None, f"Could not build the removal: {exc}")
        else:
            result = self._request(request)
            if result.verdict == Verdict.RETRY:
                raise RunStopped(f"{result.status or 'No answer'}: {result.message}"[:500])
        if result.verdict == Verdict.DELIVERED or (result.status == 404):
            SyncRow.objects.filter(sync=self.sync, key=row.key).delete()
            self.tally.counts["removed"] += 1
            self._note(row.key, RowOutcome.REMOVED, "Removed from the destination.")
        else:
            text = f"{result.status or 'No answer'}: {result.message}".strip()
            self.tally.counts["failed"] += 1
            self._note(row.key, RowOutcome.FAILED, text)
            SyncRow.objects.filter(sync=self.sync, key=row.key).update(
                error=text[:2000], failed_at=timezone.now()
            )

    # -- the run -----------------------------------------------------------------------

    def _sample(self, rows: list[Row]) -> None:
        room = SAMPLE_ROWS - len(self.tally.sample)
        for row in rows[: max(0, room)]:
            fields = orjson.loads(orjson.dumps(row.fields, default=_jsonable))
            self.tally.sample.append({"key": row.key, "op": row.op,
                                      "identifier": row.identifier, "fields": fields})  # fmt: skip

    def go(self, *, dry: bool) -> Tally:
        """Plan (``dry``: count and sample, send nothing) or execute the run."""
        self.dry = dry
        key_at, subject_at, mapped = self._columns()
        model = self.sync.model
        mirror = self.mode == SyncMode.MIRROR
        if mirror:
            self._seen_open()
        try:
            for batch in warehouse.stream(model.warehouse, model.sql, batch=STREAM_BATCH):
                rows = self._rows(batch, key_at, subject_at, mapped)
                if mirror:
                    self._seen_add(rows)
                if dry:
                    wanted = self._plan_sort(rows)
                    self._sample(wanted)
                else:
                    wanted = self._sort(rows)
                    self._send(wanted)
                self.tally.done += len(rows)
                self.flush_results()
                self._beat()
            if mirror:
                self._remove(dry)
                self.flush_results()
        finally:
            if mirror:
                self._seen_close()
        return self.tally

    def _plan_sort(self, rows: list[Row]) -> list[Row]:
        """What ``_sort`` decides, without writing any state."""
        wanted = self._sort(rows)
        for row in wanted:
            self.tally.counts[row.op] += 1
        self.tally.results = []  # a plan keeps no per-row results
        return wanted
