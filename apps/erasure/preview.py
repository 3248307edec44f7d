"""What approving an erasure request would do, counted without doing it: the person's
identifiers, the profiles, events and deliveries the console would erase or scrub, and the
tools that would get a task (by deletion API or by hand). It reads what ``request_approve``
then changes, with the same rules (``expand``, ``erase_locally`` and ``_tasks``)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q

from apps.identity.normalise import Ident
from martech.common import crypto

from .local import _match
from .models import ErasureRequest


@dataclass(frozen=True)
class ApprovalPreview:
    identifiers: int
    possible_matches: int
    profiles: int
    events: int
    deliveries: int
    api_tools: int
    manual_tools: int

    @property
    def tools(self) -> int:
        return self.api_tools + self.manual_tools


def approval_preview(request: ErasureRequest) -> ApprovalPreview:
    from apps.destinations import outbound
    from apps.destinations.models import Delivery, Destination
    from apps.events.models import Event
    from apps.identity.models import Identifier, Profile
    from apps.tools.models import Tool

    from .services import expand

    subject = Ident(request.subject_type, crypto.decrypt(request.subject_token).get("value", ""))
    sure, maybe = expand(subject)
    by_type: dict[str, set[str]] = defaultdict(set)
    for ident in sure:
        by_type[ident.type].add(ident.value)
    profiles = set(
        Identifier.objects.filter(_match(sure, "type", "value")).values_list(
            "profile_id", flat=True
        )
    )
    people = len(profiles)  # the profiles holding them; those merged into them are history
    profiles |= set(Profile.objects.filter(merged_into__in=profiles).values_list("pk", flat=True))
    events = Event.objects.filter(
        Q(user_id__in=sorted(by_type.get("user_id", ())))
        | Q(anonymous_id__in=sorted(by_type.get("anonymous_id", ())))
        | Q(profile_id__in=sorted(profiles))
    )
    subjects = sorted({str(i) for i in sure})
    deliveries = Delivery.objects.filter(
        Q(subject__in=subjects) | Q(event_id__in=events.values("pk"))
    )
    api = manual = 0
    covered = set()
    for destination in Destination.objects.only("adapter", "tool_id"):
        covered.add(destination.tool_id)
        adapter = outbound.adapter(destination.adapter)
        if adapter is not None and "deletion" in adapter.supports:
            api += 1
        else:
            manual += 1
    for tool in Tool.objects.exclude(pk__in=covered).exclude(status="retired"):
        if tool.data_categories:
            manual += 1
    return ApprovalPreview(
        identifiers=len(sure),
        possible_matches=len(maybe),
        profiles=people,
        events=events.count(),
        deliveries=deliveries.count(),
        api_tools=api,
        manual_tools=manual,
    )
