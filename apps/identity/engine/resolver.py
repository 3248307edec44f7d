"""Recompute which profile each identifier of a connected group belongs to.

The group is every identifier reachable from the seeds through deterministic evidence
(links that merged, and links that were held back as conflicts). Its links are replayed in a
canonical order (when the evidence was observed, then the identifiers' text), with the
per-profile limits checked at each union; a link that would break a limit becomes a
conflict. The outcome depends only on the set of evidence, never on its arrival order.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from martech.common.pgcopy import execute_arrays, update_rows

from ..choices import EVIDENCE, IdentifierType, LinkKind, LinkStatus, ProfileState
from ..models import Identifier, Link, Merge, Profile

MAX_GROUP = 100_000


def limit_for(kind: str) -> int:
    return 1 if kind == IdentifierType.USER_ID else settings.IDENTITY_MAX_PER_TYPE


def state_of(types) -> str:
    types = set(types)
    if IdentifierType.USER_ID in types:
        return ProfileState.IDENTIFIED
    if types & {IdentifierType.EMAIL, IdentifierType.PHONE}:
        return ProfileState.TRANSITIONING
    return ProfileState.ANONYMOUS


class _Sets:
    """Union-find whose roots also count their identifiers by type (counts are kept only for
    roots of more than one identifier; a single identifier counts its own type once)."""

    def __init__(self, types: dict[int, str]):
        self.parent = {i: i for i in types}
        self.types = types
        self.counts: dict[int, dict[str, int]] = {}
        self.other_limit = settings.IDENTITY_MAX_PER_TYPE

    def find(self, i: int) -> int:
        parent = self.parent
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

    def _counts(self, root: int) -> dict[str, int]:
        return self.counts.get(root) or {self.types[root]: 1}

    def union(self, a: int, b: int) -> tuple[bool, str]:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True, ""
        ca, cb = self._counts(ra), self._counts(rb)
        if len(ca) < len(cb) or (len(ca) == len(cb) and sum(ca.values()) < sum(cb.values())):
            ra, rb, ca, cb = rb, ra, cb, ca
        over = []
        for kind, n in cb.items():
            limit = 1 if kind == IdentifierType.USER_ID else self.other_limit
            if ca.get(kind, 0) + n > limit:
                over.append(kind)
        if over:
            kind = min(over)
            if kind == IdentifierType.USER_ID:
                return False, "The profiles have different user ids: review, do not merge."
            return False, f"Together they would hold more than {limit_for(kind)} {kind} values."
        merged = dict(ca)
        for kind, n in cb.items():
            merged[kind] = merged.get(kind, 0) + n
        self.parent[rb] = ra
        self.counts[ra] = merged
        self.counts.pop(rb, None)
        return True, ""


def _group(seeds: set[int]) -> tuple[set[int], list[Link]]:
    members, frontier, links = set(seeds), set(seeds), {}
    while frontier and len(members) < MAX_GROUP:
        batch = list(frontier)[:5000]
        frontier -= set(batch)
        for link in _evidence_of(batch):
            links[link.pk] = link
            for end in (link.a_id, link.b_id):
                if end not in members:
                    members.add(end)
                    frontier.add(end)
    return members, list(links.values())


# The resolver's reads on PostgreSQL are plain statements with array parameters: they run
# once or more for every link recorded, where building each query through the ORM cost more
# than the database took to answer it.
_EVIDENCE_SQL = (
    "SELECT id, a_id, b_id, status, reason, rule, observed_at FROM identity_link "
    "WHERE (a_id = ANY(%b::bigint[]) OR b_id = ANY(%b::bigint[])) "
    "AND kind = %b::text AND status = ANY(%b::text[])"
)


def _evidence_of(ids: list[int]) -> list[Link]:
    """The deterministic links that count as evidence and touch any of these identifiers
    (only what resolving reads and writes of them is loaded)."""
    if connection.vendor != "postgresql":
        return list(
            Link.objects.filter(
                Q(a_id__in=ids) | Q(b_id__in=ids),
                kind=LinkKind.DETERMINISTIC,
                status__in=EVIDENCE,
            ).order_by()
        )
    rows = execute_arrays(
        _EVIDENCE_SQL, [ids, ids, str(LinkKind.DETERMINISTIC), [str(s) for s in EVIDENCE]]
    )
    return [
        Link(
            id=pk,
            a_id=a,
            b_id=b,
            kind=LinkKind.DETERMINISTIC,
            status=status,
            reason=reason,
            rule=rule,
            observed_at=at,
        )
        for pk, a, b, status, reason, rule, at in rows
    ]


def _identifiers(ids) -> list[Identifier]:
    """The identifiers with these ids: their type, value and profile only."""
    if connection.vendor != "postgresql":
        return list(Identifier.objects.filter(pk__in=ids).only("type", "value", "profile_id"))
    rows = execute_arrays(
        "SELECT id, type, value, profile_id FROM identity_identifier WHERE id = ANY(%b::bigint[])",
        [list(ids)],
    )
    return [
        Identifier(id=pk, type=kind, value=value, profile_id=profile)
        for pk, kind, value, profile in rows
    ]


def _types_of(profile_ids) -> list[tuple[int, str]]:
    """(profile, type) of every identifier the profiles hold."""
    if connection.vendor != "postgresql":
        return list(
            Identifier.objects.filter(profile_id__in=profile_ids)
            .order_by()
            .values_list("profile_id", "type")
        )
    return execute_arrays(
        "SELECT profile_id, type FROM identity_identifier WHERE profile_id = ANY(%b::bigint[])",
        [list(profile_ids)],
    )


def resolve(seeds: set[int], held: Iterable[Link] = ()) -> set[int]:
    """Re-resolve the group around ``seeds``; return the ids of the profiles that changed.
    ``held``: link instances of the caller's in the group, whose status and reason are
    brought up to date (rather than read again)."""
    members, links = _group(seeds)
    idents = {i.pk: i for i in _identifiers(members)}
    text = {pk: f"{i.type}:{i.value}" for pk, i in idents.items()}
    links.sort(key=lambda k: (k.observed_at, *sorted((text[k.a_id], text[k.b_id])), k.rule))
    sets = _Sets({pk: i.type for pk, i in idents.items()})
    changed_links: list[Link] = []
    joined_by: dict[int, Link] = {}
    for link in links:
        ok, reason = sets.union(link.a_id, link.b_id)
        status = LinkStatus.ACTIVE if ok else LinkStatus.CONFLICT
        if (link.status, link.reason) != (status, reason):
            link.status, link.reason = status, reason
            changed_links.append(link)
        if ok:
            for end in (link.a_id, link.b_id):
                joined_by.setdefault(end, link)
    if changed_links:
        update_rows(Link, changed_links, ["status", "reason"])
    resolved = {link.pk: link for link in links}
    for link in held:
        if link.pk in resolved:
            link.status, link.reason = resolved[link.pk].status, resolved[link.pk].reason

    groups: dict[int, list[int]] = defaultdict(list)
    for pk in idents:
        groups[sets.find(pk)].append(pk)
    ordered = sorted(groups.values(), key=lambda g: min(text[pk] for pk in g))
    claimed: set[int] = set()
    touched: set[int] = set()
    now = timezone.now()
    moved_to: dict[int, int] = {}  # identifier → its new profile, written together
    merges: list[Merge] = []
    for group in ordered:
        # Keep the oldest profile the group already uses (largest share first on a split).
        share = Counter(idents[pk].profile_id for pk in group)
        choices = sorted((p for p in share if p not in claimed), key=lambda p: (-share[p], p))
        split = not choices
        if split:  # _home reads where identifiers are: write what has moved so far
            _move(moved_to, merges)
        target_id = choices[0] if choices else _home(group, share, text, claimed)
        claimed.add(target_id)
        moving = [pk for pk in group if idents[pk].profile_id != target_id]
        if not moving:
            continue
        by_loser: dict[int, list[int]] = defaultdict(list)
        for pk in moving:
            by_loser[idents[pk].profile_id].append(pk)
            moved_to[pk] = target_id
        touched |= {target_id, *by_loser}
        for loser, moved in by_loser.items():
            if split:
                continue  # identifiers leaving a profile after an undo: not a merge
            merges.append(
                Merge(
                    winner_id=target_id,
                    loser_id=loser,
                    link=next((joined_by[pk] for pk in moved if pk in joined_by), None),
                    identifiers=sorted(text[pk] for pk in moved),
                    at=now,
                )
            )
        for pk in moving:
            idents[pk].profile_id = target_id
    _move(moved_to, merges)
    if touched:
        _refresh(touched)
    return touched


def _move(moved_to: dict[int, int], merges: list[Merge]) -> None:
    """Write the identifiers' new profiles and the merges recorded so far, then forget them."""
    if moved_to:
        if connection.vendor == "postgresql":
            execute_arrays(
                "UPDATE identity_identifier i SET profile_id = m.profile "
                "FROM unnest(%b::bigint[], %b::bigint[]) AS m(id, profile) WHERE i.id = m.id",
                [list(moved_to), list(moved_to.values())],
            )
        else:
            by_target: dict[int, list[int]] = defaultdict(list)
            for pk, target in moved_to.items():
                by_target[target].append(pk)
            for target, pks in by_target.items():
                Identifier.objects.filter(pk__in=pks).update(profile_id=target)
        moved_to.clear()
    if merges:
        Merge.objects.bulk_create(merges)
        merges.clear()


def _home(group, share, text, claimed) -> int:
    """The profile a group split off by an undo returns to: the one it was merged out of,
    if that is empty now; otherwise a new profile."""
    names = {text[pk] for pk in group}
    undone = Merge.objects.filter(winner_id__in=list(share), undone_at__isnull=False)
    for merge in undone.order_by("-undone_at", "-id"):
        if (
            names & set(merge.identifiers)
            and merge.loser_id not in claimed
            and not Identifier.objects.filter(profile_id=merge.loser_id).exists()
        ):
            return merge.loser_id
    return Profile.objects.create().pk


def _refresh(profile_ids: set[int]) -> None:
    """Recompute states, attribution and merged_into of the profiles that changed."""
    types: dict[int, set[str]] = defaultdict(set)
    for profile_id, kind in _types_of(profile_ids):
        types[profile_id].add(kind)
    profiles = {p.pk: p for p in Profile.objects.filter(pk__in=profile_ids)}
    # The merges in force that these profiles lost (the latest names where each went) and
    # those they won (whose attribution they take over), read together in one query.
    absorbed_into: dict[int, int] = {}
    won: list[Merge] = []
    for merge in (
        Merge.objects.filter(
            Q(loser_id__in=profile_ids) | Q(winner_id__in=profile_ids), undone_at__isnull=True
        )
        .select_related("loser")
        .order_by("at", "id")
    ):
        if merge.loser_id in profile_ids:
            absorbed_into[merge.loser_id] = merge.winner_id
        if merge.winner_id in profile_ids:
            won.append(merge)
    now = timezone.now()
    for pk, profile in profiles.items():
        profile.updated_at = now
        if types.get(pk):
            profile.state = state_of(types[pk])
            profile.merged_into = None
        else:
            profile.merged_into_id = absorbed_into.get(pk)
    # Attribution follows the identifiers: the earliest first touch and the latest last
    # touch of everything that was merged in.
    for merge in won:
        winner, loser = profiles.get(merge.winner_id), merge.loser
        if winner is None:
            continue
        first, last = loser.first_touch or {}, loser.last_touch or {}
        if first and (not winner.first_touch or first.get("at", "") < winner.first_touch["at"]):
            winner.first_touch = first
        if last and (not winner.last_touch or last.get("at", "") > winner.last_touch["at"]):
            winner.last_touch = last
    update_rows(
        Profile,
        list(profiles.values()),
        ["state", "merged_into", "first_touch", "last_touch", "updated_at"],
    )
