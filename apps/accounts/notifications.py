"""Notifications to people: in the console, and by email."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.audit.services import audit_record

from .models import Notification, User

logger = logging.getLogger(__name__)


def notify(
    *, user: User, title: str, body: str = "", url: str = "", dedupe_key: str = "", email=True
) -> Notification | None:
    """Notify ``user`` once per ``dedupe_key``; return None if it was already sent.

    The email is sent after the notification is committed; a mail failure is logged and
    leaves the in-console notification in place.
    """
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                user=user, title=title[:200], body=body, url=url, dedupe_key=dedupe_key
            )
            audit_record(
                action="accounts.notification.sent",
                target=notification,
                metadata={"user": user.email, "title": title, "key": dedupe_key},
            )
    except IntegrityError:
        return None
    if email and user.is_active and user.email:
        transaction.on_commit(lambda: _email(notification.pk))
    return notification


def _email(notification_id: int) -> None:
    notification = Notification.objects.select_related("user").get(pk=notification_id)
    link = (
        f"\n\n{settings.CONSOLE_BASE_URL.rstrip('/')}{notification.url}" if notification.url else ""
    )
    try:
        send_mail(
            subject=f"[MarTech Console] {notification.title}",
            message=f"{notification.body}{link}",
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[notification.user.email],
        )
    except Exception:
        logger.exception("Could not email notification %s", notification_id)
        return
    Notification.objects.filter(pk=notification_id).update(emailed_at=timezone.now())


def notifications_mark_read(*, user: User) -> int:
    """Mark all of ``user``'s notifications read."""
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
