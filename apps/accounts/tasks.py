"""Periodic housekeeping of accounts."""

from celery import shared_task
from django.contrib.sessions.models import Session
from django.utils import timezone

from .services import api_tokens_purge_expired


@shared_task(name="accounts.api_tokens_purge_expired", queue="default")
def api_tokens_purge_expired_task() -> int:
    """Delete long-expired and long-revoked API tokens (audited)."""
    return api_tokens_purge_expired()


@shared_task(name="accounts.sessions_clear_expired", queue="default")
def sessions_clear_expired_task() -> int:
    """Delete expired browser sessions."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


@shared_task(name="accounts.access_recompute_all", queue="default")
def access_recompute_all_task() -> dict:
    """Daily: grant what tenure now allows, revoke what expired, for everyone."""
    from .access import access_recompute_all

    result = access_recompute_all()
    return {"granted": result.granted, "revoked": result.revoked, "updated": result.updated}


@shared_task(name="accounts.access_housekeeping", queue="default")
def access_housekeeping_task() -> dict:
    """Hourly: lapse stale requests, close overdue reviews, and record access that ran out."""
    from django.db.models import Q

    from .access import access_recompute
    from .access_services import access_requests_expire, review_campaigns_close_overdue
    from .models import User

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
