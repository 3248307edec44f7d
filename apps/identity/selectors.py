"""Reads of the identity graph. ``profile_resolve`` and ``profile_identifiers`` are for
other apps (no person involved); the ``*_for`` reads check ``identity.view``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from functools import reduce
from operator import or_

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.urls import reverse

from apps.access.rules import require, require_to_see, user_can
from martech.common.errors import NotFoundError
from martech.common.navigation import SearchResult
from martech.common.pgcopy import execute_arrays

from . import store
from .choices import EVIDENCE, LinkKind, LinkStatus
from .models import Identifier, Link, Merge, Profile
from .normalise import Ident, InvalidIdentifier, parse, resolve


def identifier_lookup(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The ids of the identifiers among ``keys`` ((type, value) pairs) that are in the graph,
    looked up in bulk."""
    return store.identifier_lookup(keys)


def standing_links(identifier_ids) -> dict[frozenset[int], Link]:
    """The earliest deterministic link that still counts as evidence (active or conflict) of
    each pair among these identifiers, keyed by the pair's ids; only its ends and time are
    loaded. The link ``link_record`` would find for the pair."""
    ids = list(identifier_ids)
    found: dict[frozenset[int], Link] = {}
    if not ids:
        return found
    for link in (
        Link.objects.filter(
            a_id__in=ids, b_id__in=ids, kind=LinkKind.DETERMINISTIC, status__in=EVIDENCE
        )
        .only("a_id", "b_id", "observed_at")
        .order_by("observed_at", "id")
    ):
        found.setdefault(frozenset((link.a_id, link.b_id)), link)
    return found


def profile_resolve(ident: Ident) -> Profile | None:
    """The profile an identifier belongs to, or None if it was never seen."""
    found = Identifier.objects.filter(type=ident.type, value=ident.value).first()
    return found.profile if found else None


def profile_identifiers(profile: Profile) -> list[Ident]:
    """Every identifier of a profile (what erasure must reach)."""
    return [Ident(t, v) for t, v in profile.identifiers.values_list("type", "value")]


def linked_identifiers(ident: Ident) -> list[Ident]:
    """All identifiers of the profile ``ident`` belongs to (itself if it is unknown)."""
    profile = profile_resolve(ident)
    return profile_identifiers(profile) if profile else [ident]


# Each asked identifier with every identifier of its profile: one statement for a batch.
_MEMBERS = """
SELECT s.t, s.v, m.type, m.value
FROM unnest(%b::text[], %b::text[]) AS s(t, v)
JOIN identity_identifier i ON i.type = s.t AND i.value = s.v
JOIN identity_identifier m ON m.profile_id = i.profile_id
"""


def profiles_members(idents: Iterable[Ident]) -> dict[Ident, set[Ident]]:
    """``linked_identifiers`` for many identifiers at once: each one's profile's identifiers
    (itself included; only itself when the graph does not know it). One statement on
    PostgreSQL, two elsewhere."""
    asked = set(idents)
    members: dict[Ident, set[Ident]] = {ident: {ident} for ident in asked}
    if not asked:
        return members
    if connection.vendor == "postgresql":
        ordered = list(asked)
        rows = execute_arrays(_MEMBERS, [[i.type for i in ordered], [i.value for i in ordered]])
        for t, v, mt, mv in rows:
            members[Ident(t, v)].add(Ident(mt, mv))
        return members
    by_type: dict[str, set[str]] = defaultdict(set)
    for ident in asked:
        by_type[ident.type].add(ident.value)
    match = reduce(or_, (Q(type=t, value__in=values) for t, values in by_type.items()))
    found = Identifier.objects.filter(match).values_list("type", "value", "profile_id")
    profile_of = {Ident(t, v): profile for t, v, profile in found}
    of_profile: dict[int, list[Ident]] = defaultdict(list)
    for profile, t, v in Identifier.objects.filter(
        profile_id__in=set(profile_of.values())
    ).values_list("profile_id", "type", "value"):
        of_profile[profile].append(Ident(t, v))
    for ident, profile in profile_of.items():
        members[ident].update(of_profile[profile])
    return members


def profile_list(*, user, filters: dict | None = None) -> QuerySet[Profile]:
    from .filters import ProfileFilter

    require(user, "identity.view", "see profiles")
    queryset = (
        Profile.objects.filter(identifiers__isnull=False)
        .annotate(identifier_count=Count("identifiers", distinct=True))
        .order_by("-updated_at", "-id")
    )
    return ProfileFilter(filters or {}, queryset=queryset).qs.distinct()


def profile_get(*, user, pk: int) -> Profile:
    require_to_see(user, "identity.view", "No such profile.")
    profile = Profile.objects.filter(pk=pk).first()
    if profile is None:
        raise NotFoundError("No such profile.")
    return profile


def identifier_resolve(text: str) -> Ident:
    """The one identifier a person typed to act on someone (erasure, consent): ``type:value``
    as written, or a bare value read as ``normalise.resolve`` does, where "known" means seen
    in the identity graph. Raises InvalidIdentifier asking for the type when it is unclear."""

    def seen(candidates: list[Ident]) -> set[Ident]:
        match = reduce(or_, (Q(type=c.type, value=c.value) for c in candidates))
        pairs = Identifier.objects.filter(match).values_list("type", "value")
        return {Ident(kind, value) for kind, value in pairs}

    return resolve(text, seen=seen)


def profile_find(*, user, identifier: str) -> Profile:
    """The profile of ``type:value``; 404 if nobody with it was ever seen."""
    require(user, "identity.view", "see profiles")
    profile = profile_resolve(parse(identifier))
    if profile is None:
        raise NotFoundError("No profile has this identifier.")
    return profile


def profile_links(profile: Profile) -> QuerySet[Link]:
    return (
        Link.objects.filter(Q(a__profile=profile) | Q(b__profile=profile))
        .select_related("a", "b", "created_by", "decided_by")
        .distinct()
        .order_by("-observed_at", "-id")
    )


def profile_merges(profile: Profile) -> QuerySet[Merge]:
    return Merge.objects.filter(Q(winner=profile) | Q(loser=profile)).select_related(
        "link", "undone_by"
    )


def review_queue(*, user) -> QuerySet[Link]:
    require(user, "identity.view", "see the review queue")
    return (
        Link.objects.filter(status__in=(LinkStatus.PENDING, LinkStatus.CONFLICT))
        .select_related("a__profile", "b__profile")
        .order_by("-confidence", "observed_at", "id")
    )


def link_get(*, user, pk: int) -> Link:
    require_to_see(user, "identity.view", "No such link.")
    link = Link.objects.filter(pk=pk).select_related("a", "b").first()
    if link is None:
        raise NotFoundError("No such link.")
    return link


def merge_get(*, user, pk: int) -> Merge:
    require_to_see(user, "identity.view", "No such merge.")
    merge = Merge.objects.filter(pk=pk).select_related("link").first()
    if merge is None:
        raise NotFoundError("No such merge.")
    return merge


def profile_palette_search(*, user, query: str, limit: int) -> list[SearchResult]:
    if not user_can(user, "identity.view") or len(query.strip()) < 3:
        return []
    try:
        ident = parse(query) if ":" in query else None
    except InvalidIdentifier:
        ident = None
    found = Identifier.objects.select_related("profile")
    if ident:
        found = found.filter(type=ident.type, value=ident.value)
    else:
        found = found.filter(value__icontains=query.strip().lower())
    return [
        SearchResult(
            f"{i.type}:{i.value}",
            reverse("identity:profile_detail", args=[i.profile_id]),
            "Profile",
            f"Profile {i.profile_id} · {i.profile.get_state_display()}",
        )
        for i in found.order_by("type", "value")[:limit]
    ]


def activation_profiles_sql() -> str:
    """Every profile as the console publishes it for activation, as a SQLite SELECT over
    this app's tables (the embedded mode's ``activation.profiles`` is built on it, with the
    traits of each profile's latest identify in ``activation.events``; PostgreSQL's view is
    created by ``identity.0005``). Merged profiles are included, with ``merged_into_id``
    naming the one they went into."""

    def touch(column: str, path: str) -> str:
        return f"json_extract(p.{column}, '$.{path}')"

    return f"""
SELECT p.id AS profile_id, p.merged_into_id AS merged_into_id, p.state AS status,
       (SELECT min(i.value) FROM main.identity_identifier i
        WHERE i.profile_id = p.id AND i.type = 'email') AS email,
       (SELECT min(i.value) FROM main.identity_identifier i
        WHERE i.profile_id = p.id AND i.type = 'user_id') AS user_id,
       p.first_touch AS first_touch, p.last_touch AS last_touch,
       {touch("first_touch", "channel")} AS first_touch_channel,
       {touch("last_touch", "channel")} AS last_touch_channel,
       {touch("first_touch", "at")} AS first_touch_at,
       {touch("last_touch", "at")} AS last_touch_at,
       p.created_at AS created_at, p.updated_at AS updated_at
FROM main.identity_profile p"""  # noqa: S608 - constants, no input


def activation_profile_ids_sql() -> str:
    """Every recorded profile id with the profile it was merged into (``merged_into_id``,
    null while it stands), as a SQLite SELECT for activation: the embedded mode's
    ``activation.profile_ids``, through which other apps' views follow merges
    (PostgreSQL's view is created by ``identity.0004``)."""
    return """
SELECT p.id AS profile_id, p.merged_into_id AS merged_into_id
FROM main.identity_profile p"""


def activation_identifiers_sql() -> str:
    """Every identifier with its profile, as a SQLite SELECT for activation (the embedded
    mode's ``activation.identifiers``; PostgreSQL's view is created by ``identity.0004``)."""
    return """
SELECT i.profile_id AS profile_id, i.type AS type, i.value AS value, i.source AS source,
       i.first_seen AS first_seen
FROM main.identity_identifier i"""


def _canonical(profile_ids: set[int]) -> dict[int, int]:
    """Each profile's canonical profile: ``merged_into`` followed to its end (a chain is
    short, one read per step for the whole page)."""
    into = dict(Profile.objects.filter(pk__in=profile_ids).values_list("pk", "merged_into_id"))
    ahead = {t for t in into.values() if t is not None and t not in into}
    while ahead:
        found = dict(Profile.objects.filter(pk__in=ahead).values_list("pk", "merged_into_id"))
        into.update(found)
        ahead = {t for t in found.values() if t is not None and t not in into}
    out = {}
    for pk in profile_ids:
        seen, current = set(), pk
        while into.get(current) is not None and current not in seen:
            seen.add(current)
            current = into[current]
        out[pk] = current
    return out


def identity_graph_pages(size: int = 5000) -> Iterator[list[dict]]:
    """Every identifier with its profile, page by page in id order (memory bounded by
    ``size``): ``type``, ``value``, ``profile_id``, ``canonical_profile_id`` (merges followed)
    and ``merged_from`` (the profile it was on before a merge that still stands, if any),
    ``first_seen``."""
    after = 0
    while True:
        page = list(
            Identifier.objects.filter(pk__gt=after)
            .order_by("pk")
            .values("pk", "type", "value", "profile_id", "first_seen")[:size]
        )
        if not page:
            return
        after = page[-1]["pk"]
        profiles = {row["profile_id"] for row in page}
        canonical = _canonical(profiles)
        moved: dict[str, int] = {}
        merges = Merge.objects.filter(winner_id__in=profiles, undone_at__isnull=True)
        for loser, moved_ids in merges.order_by("-at", "-id").values_list(
            "loser_id", "identifiers"
        ):
            for subject in moved_ids or ():
                moved[subject] = loser  # the earliest merge that moved it wins
        yield [
            {
                "type": row["type"],
                "value": row["value"],
                "profile_id": row["profile_id"],
                "canonical_profile_id": canonical[row["profile_id"]],
                "merged_from": moved.get(f"{row['type']}:{row['value']}"),
                "first_seen": row["first_seen"],
            }
            for row in page
        ]


def profile_pages(size: int = 2000) -> Iterator[list[dict]]:
    """Every profile, page by page in id order: ``profile_id``, ``canonical_profile_id``,
    ``state``, ``first_touch`` and ``last_touch`` (as the pipeline keeps them), ``created_at``,
    ``updated_at`` and ``subject``: one of its identifiers (None for a profile merged away,
    whose identifiers went with it), through which its consent is read."""
    after = 0
    while True:
        page = list(
            Profile.objects.filter(pk__gt=after)
            .order_by("pk")
            .values("pk", "state", "first_touch", "last_touch", "created_at", "updated_at")[:size]
        )
        if not page:
            return
        after = page[-1]["pk"]
        ids = {row["pk"] for row in page}
        canonical = _canonical(ids)
        subjects: dict[int, Ident] = {}
        members = Identifier.objects.filter(profile_id__in=ids).order_by("type", "value")
        for profile_id, kind, value in members.values_list("profile_id", "type", "value"):
            subjects.setdefault(profile_id, Ident(kind, value))
        yield [
            {
                "profile_id": row["pk"],
                "canonical_profile_id": canonical[row["pk"]],
                "state": row["state"],
                "first_touch": row["first_touch"] or {},
                "last_touch": row["last_touch"] or {},
                "created_at": row["created_at"],
                "updated_at": row["updated_at"],
                "subject": subjects.get(row["pk"]),
            }
            for row in page
        ]
