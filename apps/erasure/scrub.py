"""Scrubbing: a person's identifiers taken out of what the console keeps beside its records,
as JSON or free text, where deleting records by subject does not reach.

Where they can sit, and what becomes of them:

* sync runs: a plan's (dry run's) sample rows that mention the person are dropped; the run's
  error has them replaced by ``[erased]``; a run's row results keyed by them are deleted
  (the run's counts stay exact), and the others' messages are cleaned; so are the errors
  kept on syncs' row state;
* the sandbox inbox: a captured request that mentions them is deleted;
* deliveries: error texts (dead letters included) are cleaned, and so are the payloads of
  dead letters and of deliveries still waiting (someone else's event may name them; the
  person's own were emptied with their events). Finished deliveries' payloads are left to
  the retention purge, which empties them all: reading every one would scan the largest
  table inside the approval;
* destinations: the last vendor error is cleaned;
* schema violations: the sample and the message are cleaned.

An identifier is found as a whole token (``cus_4`` is not found inside ``cus_48213``), in
any letter case, and also in the forms it travels in: URL-encoded, JSON-escaped, and as the
SHA-256 ad networks are sent (of the value lower-cased; of a phone's digits). The database
makes a first cut with substring matches and each candidate is checked here, so a short
identifier costs a longer look but never scrubs text it is merely part of.

Runs in the caller's transaction: at approval (and when a possible match is included) with
the identifiers found through the identity graph, and again at completion, for what was
written about them while the tools were being asked.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from functools import reduce
from operator import or_
from urllib.parse import quote

from django.db.models import Q, TextField
from django.db.models.functions import Cast

from apps.identity.normalise import Ident

ERASED = "[erased]"

# What may not touch a match on either side: text that would make it a longer identifier.
# A %XX escape right before it is an edge (an encoded quote or separator).
_BEFORE = r"(?:(?<=%[0-9A-Fa-f]{2})|(?<![\w@+.\-]))"
_AFTER = r"(?![\w@+\-]|\.\w)"


def _sha256(value: str) -> str:
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()


def _forms(ident: Ident) -> set[str]:
    value = ident.value.strip()
    if not value:
        return set()
    forms = {value, quote(value, safe=""), json.dumps(value)[1:-1], _sha256(value)}
    if ident.type == "phone":
        digits = "".join(ch for ch in value if ch.isdigit())
        forms |= {digits, _sha256(digits)}
    return {f for f in forms if f}


class Finder:
    """Finds and replaces the identifiers of one person in text and in JSON values."""

    def __init__(self, idents: Iterable[Ident]):
        forms: set[str] = set()
        for ident in idents:
            forms |= _forms(ident)
        # longest first: an alternation takes the first form that matches
        self.forms = sorted(forms, key=lambda f: (-len(f), f))
        alternatives = "|".join(re.escape(f) for f in self.forms)
        self._pattern = re.compile(f"{_BEFORE}(?:{alternatives}){_AFTER}", re.IGNORECASE)

    def __bool__(self) -> bool:
        return bool(self.forms)

    def candidates(self, *fields: str) -> Q:
        """The database's first cut: rows where one of ``fields`` holds one of the forms."""
        return reduce(
            or_, (Q(**{f"{field}__icontains": form}) for field in fields for form in self.forms)
        )

    def found(self, text: str) -> bool:
        return bool(text) and self._pattern.search(text) is not None

    def clean(self, text: str) -> str:
        return self._pattern.sub(ERASED, text) if text else text

    def found_in(self, value) -> bool:
        """Whether a JSON value (keys included) mentions the person anywhere."""
        if isinstance(value, str):
            return self.found(value)
        if isinstance(value, bool) or value is None:
            return False
        if isinstance(value, int | float):
            return self.found(str(value))
        if isinstance(value, dict):
            return any(self.found(str(k)) or self.found_in(v) for k, v in value.items())
        if isinstance(value, list | tuple):
            return any(self.found_in(v) for v in value)
        return False

    def clean_json(self, value):
        """The JSON value with the person's identifiers replaced, in keys too."""
        if isinstance(value, str):
            return self.clean(value)
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int | float):
            return ERASED if self.found(str(value)) else value
        if isinstance(value, dict):
            return {self.clean(str(k)): self.clean_json(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.clean_json(v) for v in value]
        return value


def _as_text(queryset, field: str, alias: str):
    return queryset.annotate(**{alias: Cast(field, output_field=TextField())})


def _sync_runs(finder: Finder) -> dict[str, int]:
    from apps.syncs.models import SyncRow, SyncRun, SyncRunRow

    samples = errors = 0
    runs = _as_text(SyncRun.objects.all(), "sample", "sample_text").filter(
        finder.candidates("sample_text", "error")
    )
    for run in runs.only("pk", "sample", "error").iterator():
        fields = []
        sample = run.sample if isinstance(run.sample, list) else []
        kept = [row for row in sample if not finder.found_in(row)]
        if len(kept) != len(sample):
            run.sample = kept
            fields.append("sample")
            samples += 1
        cleaned = finder.clean(run.error)
        if cleaned != run.error:
            run.error = cleaned
            fields.append("error")
            errors += 1
        if fields:
            run.save(update_fields=fields)
    keyed, cleaned_rows = [], 0
    for result in SyncRunRow.objects.filter(finder.candidates("key", "message")).iterator():
        if finder.found(result.key):
            keyed.append(result.pk)
        elif (message := finder.clean(result.message)) != result.message:
            SyncRunRow.objects.filter(pk=result.pk).update(message=message)
            cleaned_rows += 1
    SyncRunRow.objects.filter(pk__in=keyed).delete()
    states = 0
    rows = SyncRow.objects.exclude(error="").filter(finder.candidates("error"))
    for row in rows.only("pk", "error").iterator():
        if (error := finder.clean(row.error)) != row.error:
            SyncRow.objects.filter(pk=row.pk).update(error=error)
            states += 1
    return {
        "sync run samples scrubbed": samples,
        "sync run errors scrubbed": errors,
        "sync row results deleted": len(keyed),
        "sync row messages scrubbed": cleaned_rows + states,
    }


def _captures(finder: Finder) -> dict[str, int]:
    from apps.destinations.models import Capture

    captures = _as_text(Capture.objects.all(), "headers", "headers_text").filter(
        finder.candidates("url", "headers_text", "body")
    )
    doomed = [
        capture.pk
        for capture in captures.iterator()
        if finder.found(capture.url)
        or finder.found(capture.body)
        or finder.found_in(capture.headers)
    ]
    Capture.objects.filter(pk__in=doomed).delete()
    return {"sandbox captures deleted": len(doomed)}


def _deliveries(finder: Finder) -> dict[str, int]:
    from apps.destinations.choices import UNFINISHED, DeliveryStatus
    from apps.destinations.models import Delivery, Destination

    errors = 0
    failed = Delivery.objects.exclude(error="").filter(finder.candidates("error"))
    for delivery in failed.only("pk", "error").iterator():
        if (error := finder.clean(delivery.error)) != delivery.error:
            Delivery.objects.filter(pk=delivery.pk).update(error=error)
            errors += 1
    payloads = 0
    waiting = _as_text(
        Delivery.objects.filter(status__in=(*UNFINISHED, DeliveryStatus.DEAD)),
        "payload",
        "payload_text",
    ).filter(finder.candidates("payload_text"))
    for delivery in waiting.only("pk", "payload").iterator():
        if finder.found_in(delivery.payload):
            payload = finder.clean_json(delivery.payload)
            Delivery.objects.filter(pk=delivery.pk).update(payload=payload)
            payloads += 1
    vendors = 0
    destinations = Destination.objects.exclude(last_error="").filter(
        finder.candidates("last_error")
    )
    for destination in destinations.only("pk", "last_error"):
        if (error := finder.clean(destination.last_error)) != destination.last_error:
            Destination.objects.filter(pk=destination.pk).update(last_error=error[:500])
            vendors += 1
    return {
        "delivery errors scrubbed": errors,
        "waiting delivery payloads scrubbed": payloads,
        "destination errors scrubbed": vendors,
    }


def _violations(finder: Finder) -> dict[str, int]:
    from apps.schemas.models import Violation

    scrubbed = 0
    violations = _as_text(Violation.objects.all(), "sample", "sample_text").filter(
        finder.candidates("sample_text", "message", "path")
    )
    for violation in violations.only("pk", "sample", "message", "path").iterator():
        sample = finder.clean_json(violation.sample)
        message, path = finder.clean(violation.message), finder.clean(violation.path)
        if (sample, message, path) != (violation.sample, violation.message, violation.path):
            Violation.objects.filter(pk=violation.pk).update(
                sample=sample, message=message[:500], path=path[:300]
            )
            scrubbed += 1
    return {"schema violations scrubbed": scrubbed}


def scrub(idents: Iterable[Ident]) -> dict[str, int]:
    """Take ``idents`` out of sync runs, the sandbox inbox, deliveries' errors and waiting
    payloads, destinations' last errors and schema violations; returns what it changed (only
    what it did change is named)."""
    finder = Finder(idents)
    if not finder:
        return {}
    done: dict[str, int] = {}
    for step in (_sync_runs, _captures, _deliveries, _violations):
        done.update(step(finder))
    return {what: n for what, n in done.items() if n}
