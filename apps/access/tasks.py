"""Periodic upkeep of access: tenure reached, requests lapsed, reviews overdue.

The task names are the ones these tasks had when access was part of accounts: the beat
schedule's rows in the database and any message already queued name them.
"""

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import User

from .rules import access_recompute, access_recompute_all
from .services import access_requests_expire, review_campaigns_close_overdue


@shared_task(name="accounts.access_recompute_all", queue="default")
def access_recompute_all_task() -> dict:
    """Daily: grant what tenure now allows, revoke what expired, for everyone."""
    result = access_recompute_all()
    return {"granted": result.granted, "revoked": result.revoked, "updated": result.updated}


@shared_task(name="accounts.access_housekeeping", queue="default")
def access_housekeeping_task() -> dict:
    """Hourly: lapse stale requests, close overdue reviews, and record access that ran out."""
    now = timezone.now()
    expired_requests = access_requests_expire(now=now)
    closed_reviews = review_campaigns_close_overdue(now=now)
    lapsed = User.objects.filter(
        Q(assignments__ended_at__isnull=True, assignments__ends_at__lte=now)
        | Q(grants__revoked_at__isnull=True, grants__expires_at__lte=now)
    ).distinct()
    people = 0
    for person in lapsed:
        access_recompute(user=person, now=now)
        people += 1
    return {
        "expired_requests": expired_requests,
        "closed_reviews": closed_reviews,
        "people": people,
    }
