"""The tool registry: what the company runs, what it costs, who owns it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

from .choices import SEAT_LOW_SHARE, STATUS_COLOURS, ToolStatus


class Tool(models.Model):
    vendor = models.CharField(max_length=120)
    name = models.CharField(max_length=120, unique=True)
    category = models.CharField(max_length=80, help_text="How the vendor sells it.")
    capabilities = models.JSONField(default=list, blank=True)
    business_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="business_owned_tools",
    )
    technical_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="technically_owned_tools",
    )
    team = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20, choices=ToolStatus.choices, default=ToolStatus.ACTIVE)
    annual_cost = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(max_length=3, default="USD")
    seats_bought = models.PositiveIntegerField(null=True, blank=True)
    seats_used = models.PositiveIntegerField(null=True, blank=True)
    contract_start = models.DateField(null=True, blank=True)
    renewal_date = models.DateField(null=True, blank=True)
    notice_period_days = models.PositiveIntegerField(default=30)
    auto_renew = models.BooleanField(default=True)
    data_categories = models.JSONField(default=list, blank=True)
    dpa_on_file = models.BooleanField("DPA on file", default=False)
    has_deletion_api = models.BooleanField("Vendor offers a deletion API", default=False)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    @property
    def notice_deadline(self) -> dt.date | None:
        """The last day to give notice before the contract renews."""
        if self.renewal_date is None:
            return None
        return self.renewal_date - dt.timedelta(days=self.notice_period_days)

    @property
    def seat_utilisation(self) -> float | None:
        if not self.seats_bought or self.seats_used is None:
            return None
        return round(100 * self.seats_used / self.seats_bought, 1)

    @property
    def status_colour(self) -> str:
        """The status badge's colour, the same in every list and on the tool's page."""
        return STATUS_COLOURS.get(self.status, "secondary")

    @property
    def seat_band(self) -> tuple[str, str] | None:
        """The colour and words of the seat use, worst first (None without seat figures).

        More seats in use than bought is the worst (red), then seats paid for and left
        unused (orange); anything else is well used (green).
        """
        share = self.seat_utilisation
        if share is None:
            return None
        if self.seats_used > self.seats_bought:
            return "danger", "More seats in use than bought"
        if share < SEAT_LOW_SHARE:
            return "warning", f"Under {SEAT_LOW_SHARE}% of the seats bought are in use"
        return "success", "Seats well used"
