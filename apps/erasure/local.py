"""Erasure in the console's own database: the person's events, identifiers, links, merges,
profile and consent records are deleted; deliveries keep only that they happened (payload,
consent snapshot and subject scrubbed; those still waiting are stopped); reverse-ETL state
about them is deleted. Runs inside the approval's transaction."""

from __future__ import annotations

from collections import defaultdict
from functools import reduce
from operator import or_

from django.db import connection
from django.db.models import Q

from apps.identity.normalise import Ident


def _match(idents: list[Ident], type_field: str, value_field: str) -> Q:
    by_type: dict[str, set[str]] = defaultdict(set)
    for ident in idents:
        by_type[ident.type].add(ident.value)
    return reduce(
        or_, (Q(**{type_field: t, f"{value_field}__in": sorted(v)}) for t, v in by_type.items())
    )


def erase_locally(idents: list[Ident]) -> dict[str, int]:
    """Delete or scrub what the console holds about ``idents``; returns what it did."""
    from apps.consent.models import ConsentRecord
    from apps.destinations.choices import UNFINISHED, DeliveryStatus, FilterReason
    from apps.destinations.models import Delivery
    from apps.events.models import Event
    from apps.identity.models import Identifier, Merge, Profile
    from apps.syncs.models import SyncRow

    if not idents:
        return {}
    if connection.vendor == "postgresql":  # consent records are append-only except here
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('martech.erasure', 'on', true)")
    subjects = sorted({str(i) for i in idents})
    by_type: dict[str, set[str]] = defaultdict(set)
    for ident in idents:
        by_type[ident.type].add(ident.value)
    profiles = set(
        Identifier.objects.filter(_match(idents, "type", "value")).values_list(
            "profile_id", flat=True
        )
    )
    # the profiles that hold them count; those merged into them are deleted as their history
    people = len(profiles)
    absorbed = set(Profile.objects.filter(merged_into__in=profiles).values_list("pk", flat=True))
    profiles |= absorbed
    done: dict[str, int] = {}
    events = Event.objects.filter(
        Q(user_id__in=sorted(by_type.get("user_id", ())))
        | Q(anonymous_id__in=sorted(by_type.get("anonymous_id", ())))
        | Q(profile_id__in=sorted(profiles))
    )
    event_ids = list(events.values_list("pk", flat=True))
    touched = Delivery.objects.filter(Q(subject__in=subjects) | Q(event_id__in=event_ids))
    # waiting ones never go, and dead letters can no longer be replayed
    done["deliveries stopped"] = touched.filter(
        status__in=(*UNFINISHED, DeliveryStatus.DEAD)
    ).update(status=DeliveryStatus.FILTERED, reason=FilterReason.SUPPRESSION, next_attempt_at=None)
    done["deliveries scrubbed"] = touched.update(
        payload=None, consent=None, subject="erased", message_id="", event_id=None
    )
    done["events"] = Event.objects.filter(pk__in=event_ids).delete()[0]
    done["consent records"] = ConsentRecord.objects.filter(
        _match(idents, "identifier_type", "identifier_value")
    )._erase()[0]
    done["sync rows"] = SyncRow.objects.filter(subject__in=subjects).delete()[0]
    Merge.objects.filter(Q(winner__in=profiles) | Q(loser__in=profiles)).delete()
    identifiers = Identifier.objects.filter(profile__in=profiles)
    done["identifiers"] = identifiers.count()
    identifiers.delete()  # their links go with them
    Profile.objects.filter(pk__in=profiles).delete()
    done["profiles"] = people
    return done
