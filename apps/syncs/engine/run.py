"""Running a sync: stream the model, compare each row with what the destination last
acknowledged, and send only what changed.

A row is identified by the model's primary key and compared by a fingerprint (a hash of the
identifier and the mapped values, computed by the warehouse). The model is read sorted by its
key (as text, byte order) and merged with the sync's state read in the same order, so each
row is new, changed, failed last time or unchanged without a query per row, and the keys the
model no longer has (mirror mode removes them) fall out of the same merge. Only what changed
is sent, through the destination's adapter, in the vendor's batch size. A row's state is
written only after the vendor acknowledged it, request by request, so a run that stops
anywhere is followed by a correct run: acknowledged rows are not sent again, the rest are
(vendors upsert by identifier). Memory stays bounded: both sides are streamed from
server-side cursors, read ahead on helper threads.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import orjson
from django.utils import timezone

from apps.consent import gate
from apps.destinations import outbound
from apps.destinations.outbound import Item, Outbound, Result, Verdict
from apps.identity.normalise import InvalidIdentifier, normalise
from apps.syncs.errors import SyncsErrorCode
from martech.common.errors import ApplicationError

from .. import store
from ..models import COUNTS, RowOutcome, Sync, SyncMode, SyncObject, SyncRun, SyncRunRow
from ..store import RowState, StatePage
from . import warehouse
from .prefetch import Prefetch

log = logging.getLogger(__name__)
STREAM_BATCH = 5000
SAMPLE_ROWS = 10
ROW_RESULTS_CAP = 10_000  # per run; the counts stay exact beyond it
ATTEMPTS = 4  # tries of one request within a run (outbound.IN_RUN_BACKOFF apart) before its
# rows wait for the next run
BEAT_SECONDS = 2.0  # progress and heartbeat at least this often while sending


# Column and field names (lower case, letters only) that hold a person's identifier, and its
# type: a row is checked against the suppression list by each of them, not only its subject.
IDENTITY_NAMES = {
    "email": "email",
    "emailaddress": "email",
    "mail": "email",
    "phone": "phone",
    "phonenumber": "phone",
    "mobile": "phone",
    "mobilephone": "phone",
    "msisdn": "phone",
    "sms": "phone",
    "userid": "user_id",
    "externalid": "user_id",
    "customerid": "user_id",
    "externaluserid": "user_id",
    "anonymousid": "anonymous_id",
    "deviceid": "device_id",
    "advertisingid": "device_id",
    "idfa": "device_id",
    "gaid": "device_id",
}


def identity_fields(mappings: list[dict]) -> dict[str, tuple[str, ...]]:
    """For each mapped field that holds an identifier (by its column's or its own name), the
    identifier types of its values."""
    out = {}
    for rule in mappings:
        kinds = []
        for name in (rule.get("from", ""), rule.get("to", "")):
            kind = IDENTITY_NAMES.get("".join(c for c in name.lower() if "a" <= c <= "z"))
            if kind and kind not in kinds:
                kinds.append(kind)
        if kinds:
            out[rule.get("to", "")] = tuple(kinds)
    return out


class RunStopped(Exception):
    """The vendor keeps failing: the run stops; what it did not send waits for the next."""


@dataclass
class Row:
    key: str
    subject: str  # "type:value", normalised; "" when the row's identifier is not valid
    identifier: str
    fields: dict
    fingerprint: bytes
    op: str = ""  # added, changed, removed


@dataclass
class Tally:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    sample: list[dict] = field(default_factory=list)
    results: list[SyncRunRow] = field(default_factory=list)
    done: int = 0
    total: int | None = None
    requests: int = 0
    stored_results: int = 0


def _jsonable(value):
    return str(value)


def fingerprint(subject: str, values: tuple) -> bytes:
    """16 bytes that change whenever the identifier or any mapped value changes."""
    raw = orjson.dumps([subject, *values], default=_jsonable)
    return hashlib.blake2b(raw, digest_size=16).digest()


class State:
    """The sync's state (what the destination acknowledged), read in key order a page at a
    time, for a merge with the model's rows in the same order. Keys the model no longer has
    are collected in ``gone`` (when ``keep_gone``) to be removed in mirror mode."""

    PAGE = 10_000
    GONE_BATCH = 500
    _EMPTY = StatePage((), (), (), (), ())

    def __init__(self, sync_id: int, *, keep_gone: bool):
        self.sync_id, self.keep_gone = sync_id, keep_gone
        self.page: StatePage = self._EMPTY
        self.i, self.exhausted = 0, False
        self.gone: list[RowState] = []

    def _refill(self) -> bool:
        if self.exhausted:
            return False
        self.page, self.i = self._next_page(), 0
        if len(self.page) < self.PAGE:
            self.exhausted = True
        return bool(len(self.page))

    def compare(self, keys: list[str], prints: list[bytes]) -> list[str]:
        """For each of ``keys`` (ascending) and the fingerprint of its values now, what the
        row is to the destination: ``""`` (it holds these values), ``"changed"`` (it holds
        others, or the last attempt failed) or ``"added"`` (it holds none). State keys passed
        over are gone."""
        out: list[str] = []
        append = out.append
        gone = self.gone if self.keep_gone else None
        page, i = self.page, self.i
        state_keys, held = page.key, page.acknowledged
        for key, print_ in zip(keys, prints, strict=True):
            found = False
            while True:
                if i >= len(state_keys):
                    if not self._refill():
                        page, i = self._EMPTY, 0
                        state_keys, held = page.key, page.acknowledged
                        break
                    page, i = self.page, 0
                    state_keys, held = page.key, page.acknowledged
                head = state_keys[i]
                if head < key:
                    if gone is not None and held[i]:
                        gone.append(page.row(i))
                    i += 1
                    continue
                found = head == key
                break
            if not found:
                append("added")
                continue
            if page.fingerprint[i] == print_ and not page.failed[i]:
                append("")
            else:
                append("changed" if held[i] else "added")
            i += 1
        self.page, self.i = page, i
        return out

    def _next_page(self) -> StatePage:
        if self._pages is None:
            self._pages = store.state_pages(self.sync_id, size=self.PAGE)
        return next(self._pages, self._EMPTY)

    _pages = None

    def close(self) -> None:
        if self._pages is not None:
            self._pages.close()
            self._pages = None

    def take_gone(self) -> list[RowState]:
        gone, self.gone = self.gone, []
        return gone

    def rest(self) -> Iterator[list[RowState]]:
        """What is left after the model's last row, as batches of gone keys."""
        while self.i < len(self.page) or self._refill():
            i = self.i
            self.i += 1
            if self.keep_gone and self.page.acknowledged[i]:
                self.gone.append(self.page.row(i))
            if len(self.gone) >= self.GONE_BATCH:
                yield self.take_gone()
        if self.gone:
            yield self.take_gone()


ERASED_KEY = "(erased person)"
_MODE_SKIP = {
    SyncMode.INSERT: "Changed since it was sent; an insert-only sync sends new rows only.",
    SyncMode.UPDATE: "Never sent before; an update-only sync changes rows it already sent.",
}


class Runner:
    """One run of one sync; ``plan`` counts without sending, ``execute`` sends."""

    def __init__(self, run: SyncRun, *, heartbeat: Callable[[Tally], None] | None = None):
        self.run = run
        self.sync: Sync = run.sync
        self.destination = self.sync.destination
        self.vendor = outbound.vendor_for(self.destination)
        self.adapter = self.vendor.adapter
        self.heartbeat = heartbeat or (lambda tally: None)
        self.tally = Tally()
        self.mode = run.mode or self.sync.mode
        self.dry = False
        self._acked: list[Row] = []
        self._waiting: list[Row] = []

    # -- reading the model -------------------------------------------------------------

    def check_key(self) -> int:
        model = self.sync.model
        check = warehouse.check_key(model.warehouse, model.sql, model.primary_key)
        if check.nulls:
            raise ApplicationError(
                f"The primary key {model.primary_key!r} is empty in {check.nulls} rows; "
                "every row needs one.",
                code=SyncsErrorCode.NULL_KEYS,
            )
        if check.duplicates:
            listed = ", ".join(f"{k} ({n} times)" for k, n in check.duplicates)
            raise ApplicationError(
                f"The primary key {model.primary_key!r} repeats: {listed}.",
                code=SyncsErrorCode.DUPLICATE_KEYS,
            )
        return check.rows

    def _columns(self) -> tuple[int, int, list[tuple[int, str]]]:
        model = self.sync.model
        shown = warehouse.preview(model.warehouse, model.sql, limit=0)
        names = [c["name"] for c in shown.columns]
        wanted = (
            model.primary_key,
            self.sync.subject_column,
            *(m["from"] for m in self.sync.mappings),
        )
        missing = [n for n in wanted if n not in names]
        if missing:
            raise ApplicationError(
                f"The model no longer has the column(s) {', '.join(sorted(set(missing)))}.",
                code=SyncsErrorCode.MISSING_COLUMNS,
            )
        mapped = [(names.index(m["from"]), m["to"]) for m in self.sync.mappings]
        return names.index(model.primary_key), names.index(self.sync.subject_column), mapped

    _layout: tuple = ()

    def _changed(self, batch: list[tuple], extra: int, state: State) -> list[Row]:
        """Merge one key-ordered batch of model rows with the state: count the unchanged
        ones, let the state note the keys the model no longer has, and return the others as
        ``Row`` s with ``op`` set."""
        _, subject_at, mapped = self._layout
        subject_at = subject_at + extra
        mapped = [(i + extra, to) for i, to in mapped]
        hashed_here = extra == 1  # SQLite: the server did not hash
        keys = [values[0] for values in batch]
        previous = self._previous
        for key in keys:
            if key is None or (previous is not None and key <= previous):
                raise ApplicationError(
                    f"The primary key {self.sync.model.primary_key!r} changed during the run "
                    f"(a null or repeated key near {key!r}); nothing further was sent.",
                    code=SyncsErrorCode.DUPLICATE_KEYS,
                )
            previous = key
        if hashed_here:
            prints = [
                fingerprint(values[subject_at], tuple(values[i] for i, _ in mapped))
                for values in batch
            ]
        else:
            prints = [values[1] for values in batch]
        out, unchanged = [], 0
        for values, print_, op in zip(batch, prints, state.compare(keys, prints), strict=True):
            if not op:
                unchanged += 1
                continue
            raw = values[subject_at]
            out.append(
                Row(
                    key=values[0],
                    subject="",
                    identifier="" if raw is None else str(raw),
                    fields={to: values[i] for i, to in mapped},
                    fingerprint=print_,
                    op=op,
                )
            )
        self._previous = previous
        self.tally.counts["unchanged"] += unchanged
        return out

    _previous: str | None = None

    def _identify(self, rows: list[Row]) -> list[Row]:
        """Normalise the identifiers of the rows about to go; invalid ones fail."""
        kind, out = self.sync.subject_type, []
        for row in rows:
            try:
                ident = normalise(kind, row.identifier or None)
            except InvalidIdentifier as exc:
                self._failed(row, f"Invalid {kind}: {exc.message}")
                continue
            row.subject, row.identifier = f"{ident.type}:{ident.value}", ident.value
            out.append(row)
        return out

    _identity_fields: dict[str, tuple[str, ...]] | None = None

    def _named(self, row: Row) -> set[str]:
        """Every identifier the row carries: its subject, and the values of the mapped
        columns that hold identifiers (by the column's or the field's name, or an email
        address in any mapped text), normalised."""
        if self._identity_fields is None:
            self._identity_fields = identity_fields(self.sync.mappings)
        out = {row.subject}
        for to, value in row.fields.items():
            if value is None or isinstance(value, bool):
                continue
            kinds = self._identity_fields.get(to, ())
            if isinstance(value, str) and "@" in value and "email" not in kinds:
                kinds = (*kinds, "email")
            for kind in kinds:
                try:
                    out.add(str(normalise(kind, str(value))))
                except InvalidIdentifier:
                    continue
        return out

    def _sort(self, changed: list[Row]) -> list[Row]:
        """Of the rows that changed, those to send: by mode, identifier, suppression and
        consent, each skip counted."""
        counts = self.tally.counts
        wanted = []
        for row in changed:
            if (self.mode == SyncMode.INSERT and row.op == "changed") or (
                self.mode == SyncMode.UPDATE and row.op == "added"
            ):
                counts["skipped_mode"] += 1
                self._note(row.key, RowOutcome.SKIPPED_MODE, _MODE_SKIP[self.mode])
            else:
                wanted.append(row)
        wanted = self._identify(wanted)
        if wanted and gate.anyone_suppressed():
            named = [self._named(r) for r in wanted]
            blocked = gate.suppressed(set().union(*named))
            if blocked:
                kept = []
                for row, subjects in zip(wanted, named, strict=True):
                    if subjects & blocked:
                        counts["skipped_suppression"] += 1
                        # no key: a model keyed by email would write the erased address again
                        self._note(
                            ERASED_KEY,
                            RowOutcome.SKIPPED_SUPPRESSION,
                            "The person is on the erasure suppression list.",
                        )
                    else:
                        kept.append(row)
                wanted = kept
        if wanted and self.destination.required_purposes:
            wanted = self._consented(wanted)
        return wanted

    def _consented(self, rows: list[Row]) -> list[Row]:
        from apps.consent.selectors import consent_snapshots, purpose_names
        from apps.identity.normalise import Ident

        now = timezone.now()
        snapshots = consent_snapshots([(Ident(*r.subject.split(":", 1)), now) for r in rows])
        kept = []
        need = ", ".join(purpose_names(self.destination.required_purposes))
        for row, snapshot in zip(rows, snapshots, strict=True):
            if gate.allows(self.destination.required_purposes, snapshot):
                kept.append(row)
            else:
                self.tally.counts["skipped_consent"] += 1
                self._note(
                    row.key,
                    RowOutcome.SKIPPED_CONSENT,
                    f"No consent for {need} at {self.destination.name}.",
                )
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

    def flush_acked(self) -> None:
        """Record what the vendor acknowledged, request by request: only a request in flight
        when a worker dies is sent again (an idempotent upsert)."""
        if self._acked:
            self._store_acked(self._acked)
            self._acked = []

    def _store_acked(self, rows: list[Row]) -> None:
        store.acknowledge(self.sync.pk, rows, at=timezone.now())

    def _store_failed(self, failures: list[tuple[Row, str]]) -> None:
        """Keep the error (and the last acknowledged fingerprint) so the row goes again."""
        store.fail(
            self.sync.pk,
            [store.Failure(r.key, r.subject, message) for r, message in failures],
            at=timezone.now(),
        )

    # -- sending -----------------------------------------------------------------------

    def _item(self, index: int, row: Row, *, member: bool = True) -> Item:
        identifiers = {self.sync.subject_type: row.identifier}
        fields = dict(orjson.loads(orjson.dumps(row.fields, default=_jsonable)))
        if self.sync.object == SyncObject.CONVERSIONS:
            digest = row.fingerprint.hex()[:16]
            message = {
                "type": "track",
                "event": self.sync.event_name,
                "messageId": f"sync-{self.sync.pk}-{row.key}-{digest}",
                "timestamp": timezone.now().isoformat(),
                "properties": fields,
                "userId": identifiers.get("user_id"),
            }
            return Item(
                key=index, kind="event", message=message, identifiers=identifiers, fields=fields
            )
        if self.sync.object == SyncObject.AUDIENCES:
            fields[self.sync.audience_field] = member
        message = {"type": "identify", "traits": fields, "userId": identifiers.get("user_id")}
        return Item(
            key=index, kind="profile", message=message, identifiers=identifiers, fields=fields
        )

    def _request(self, request: Outbound) -> Result:
        """Send one request, trying again within the run while the vendor says "later"."""
        result = self.vendor.send_retrying(request, tries=ATTEMPTS)
        self.tally.requests = self.vendor.requests_sent
        return result

    _beat_at = 0.0

    def _beat(self) -> None:
        self.flush_acked()
        self._beat_at = time.monotonic()
        self.heartbeat(self.tally)

    def _send(self, rows: list[Row]) -> None:
        """Send ``rows`` in the vendor's batches, recording each request's outcome."""
        size = self.adapter.batch_size
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size]
            items = [self._item(i, row) for i, row in enumerate(chunk)]
            try:
                requests = self.vendor.build(items)
            except outbound.BuildFailed as exc:  # a row the vendor call cannot be built from
                self._outcome(chunk, Result(Verdict.PERMANENT, None, exc.message))
                continue
            carried = {k for r in requests for k in r.keys}
            left = [row for i, row in enumerate(chunk) if i not in carried]
            if left:
                self._outcome(
                    left, Result(Verdict.PERMANENT, None, "The adapter built no request for it.")
                )
            for request in requests:
                result = self._request(request)
                self._outcome([chunk[k] for k in request.keys], result, request.keys)
                self.flush_acked()
                if result.verdict == Verdict.RETRY:
                    raise RunStopped(f"{result.status or 'No answer'}: {result.message}"[:500])
                if time.monotonic() - self._beat_at > BEAT_SECONDS:
                    self._beat()
        self.flush_acked()

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
        self._acked.extend(acked)
        if failures:
            self._store_failed(failures)

    # -- mirror: rows that left the model -----------------------------------------------

    def _remove(self, gone: list[RowState], dry: bool) -> None:
        rows = [
            Row(
                key=state.key,
                subject=state.subject,
                identifier=state.subject.split(":", 1)[-1],
                fields={},
                fingerprint=b"",
                op="removed",
            )
            for state in gone
        ]
        if dry:
            self.tally.counts["removed"] += len(rows)
            self._sample(rows)
            return
        for row in rows:
            self._remove_one(row)

    def _remove_one(self, row: Row) -> None:
        try:
            if self.sync.object == SyncObject.AUDIENCES:
                [request] = self.vendor.build([self._item(0, row, member=False)])[:1]
            else:
                request = self.vendor.erasure({self.sync.subject_type: row.identifier})
                request = Outbound(request.method, request.url, request.headers, request.body, (0,))
        except outbound.BuildFailed as exc:
            result = Result(Verdict.PERMANENT, None, exc.message)
        except Exception as exc:
            text = self.vendor.kept(f"{type(exc).__name__}: {exc}")
            result = Result(Verdict.PERMANENT, None, f"Could not build the removal: {text}")
        else:
            result = self._request(request)
            if result.verdict == Verdict.RETRY:
                raise RunStopped(f"{result.status or 'No answer'}: {result.message}"[:500])
        if result.verdict == Verdict.DELIVERED or (result.status == 404):
            store.forget(self.sync.pk, row.key)
            self.tally.counts["removed"] += 1
            self._note(row.key, RowOutcome.REMOVED, "Removed from the destination.")
        else:
            text = f"{result.status or 'No answer'}: {result.message}".strip()
            self.tally.counts["failed"] += 1
            self._note(row.key, RowOutcome.FAILED, text)
            self._store_failed([(row, text)])

    # -- the run -----------------------------------------------------------------------

    def _sample(self, rows: list[Row]) -> None:
        room = SAMPLE_ROWS - len(self.tally.sample)
        for row in rows[: max(0, room)]:
            fields = orjson.loads(orjson.dumps(row.fields, default=_jsonable))
            self.tally.sample.append(
                {"key": row.key, "op": row.op, "identifier": row.identifier, "fields": fields}
            )

    def go(self, *, dry: bool, check_key: bool = True) -> Tally:
        """Plan (``dry``: count and sample, send nothing) or execute the run. The model's
        key is checked first (while the warehouse already sorts the rows for the merge)."""
        self.dry = dry
        self._layout = self._columns()
        model = self.sync.model
        mirror = self.mode == SyncMode.MIRROR
        hashed = [self.sync.subject_column, *(m["from"] for m in self.sync.mappings)]
        batches = Prefetch(
            warehouse.stream_keyed(
                model.warehouse, model.sql, model.primary_key, hashed, batch=STREAM_BATCH
            ),
            name="sync-model-reader",
        )
        state = State(self.sync.pk, keep_gone=mirror)
        try:
            if check_key:
                self.tally.total = self.check_key()
                self._beat()
            for extra, batch in batches:
                changed = self._changed(batch, extra, state)
                if dry:
                    self._sample(self._plan_sort(changed))
                else:
                    self._queue(self._sort(changed))
                self.tally.done += len(batch)
                if len(state.gone) >= State.GONE_BATCH:
                    self._remove(state.take_gone(), dry)
                self.flush_results()
                if time.monotonic() - self._beat_at > BEAT_SECONDS:
                    self._beat()
            self._queue([], final=True)
            self.flush_results()
            for gone in state.rest():
                self._remove(gone, dry)
                self.flush_results()
                self._beat()
            self._beat()
        finally:
            batches.close()
            state.close()
        return self.tally

    def _queue(self, rows: list[Row], *, final: bool = False) -> None:
        """Send rows in full vendor batches: changed rows of several streamed batches are
        gathered (a few thousand at most) before they go."""
        self._waiting.extend(rows)
        if self._waiting and (final or len(self._waiting) >= 20 * self.adapter.batch_size):
            waiting, self._waiting = self._waiting, []
            self._send(waiting)

    def _plan_sort(self, rows: list[Row]) -> list[Row]:
        """What ``_sort`` decides, without writing any state but the plan's per-row results
        (skips and invalid rows), so a held run shows which rows its counts are."""
        wanted = self._sort(rows)
        for row in wanted:
            self.tally.counts[row.op] += 1
        return wanted
