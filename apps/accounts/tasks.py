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
