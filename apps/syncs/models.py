"""Warehouse connections and the SQL models syncs read from."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Warehouse(models.Model):
    """Where models are read from. ``kind`` names its engine (``apps.syncs.warehouses``:
    the kinds are the engines registered there, checked by the services, so adding an
    engine needs no migration); its credentials are a dict of that engine's fields, stored
    encrypted in ``dsn_token`` (PostgreSQL's and Redshift's are ``{"dsn": …}``)."""

    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=20)
    dsn_token = models.TextField(blank=True, help_text="Encrypted credentials; never shown.")
    display = models.CharField(
        max_length=300, blank=True, help_text="Host, account, project or database: no secret."
    )
    statement_timeout = models.PositiveIntegerField(
        default=30, help_text="Seconds a model's query may run."
    )
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    last_tested_at = models.DateTimeField(null=True, blank=True)
    last_test_ok = models.BooleanField(null=True, blank=True)
    last_test_message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    @property
    def kind_label(self) -> str:
        """The kind as people name it ("Snowflake"); the kind itself if no engine serves
        it any more."""
        from .warehouses import MODULES, engine_for

        return engine_for(self.kind).label if self.kind in MODULES else self.kind


class SqlModel(models.Model):
    """A read-only SQL query and its primary-key column."""

    name = models.CharField(max_length=120, unique=True)
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="models")
    sql = models.TextField()
    primary_key = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    columns = models.JSONField(default=list, blank=True, help_text="From the last preview.")
    dbt_unique_id = models.CharField(
        max_length=400,
        blank=True,
        db_index=True,
        help_text="The dbt model this one reads (model.project.name); empty if written by hand.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class DbtManifest(models.Model):
    """The dbt models of a warehouse, parsed from the last ``manifest.json`` imported for it
    (the manifest itself is not kept): a list of ``apps.syncs.dbt.DbtModel`` as dicts."""

    warehouse = models.OneToOneField(
        Warehouse, on_delete=models.CASCADE, related_name="dbt_manifest"
    )
    dbt_version = models.CharField(max_length=40, blank=True)
    generated_at = models.CharField(max_length=40, blank=True, help_text="As dbt wrote it.")
    entries = models.JSONField(default=list, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    imported_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"dbt models of {self.warehouse}"

    def model(self, unique_id: str) -> dict | None:
        return next((m for m in self.entries if m["unique_id"] == unique_id), None)


class SyncObject(models.TextChoices):
    CONTACTS = "contacts", "Contacts"
    USERS = "users", "Users"
    CONVERSIONS = "conversions", "Conversions"
    AUDIENCES = "audiences", "Audience members"


class SyncMode(models.TextChoices):
    UPSERT = "upsert", "Upsert: add and update"
    UPDATE = "update", "Update only: rows this sync already sent"
    INSERT = "insert", "Insert only: rows never sent before"
    MIRROR = "mirror", "Mirror: add, update and remove rows that left the model"


class ScheduleKind(models.TextChoices):
    MANUAL = "manual", "Manual"
    INTERVAL = "interval", "Every N minutes"
    CRON = "cron", "Cron"


class Sync(models.Model):
    """A model's rows sent to one destination object, with field mappings, a mode and a
    schedule. State of what was last acknowledged lives in ``SyncRow``."""

    name = models.CharField(max_length=120, unique=True)
    model = models.ForeignKey(SqlModel, on_delete=models.PROTECT, related_name="syncs")
    destination = models.ForeignKey(
        "destinations.Destination", on_delete=models.PROTECT, related_name="syncs"
    )
    object = models.CharField(max_length=12, choices=SyncObject.choices)
    mode = models.CharField(max_length=8, choices=SyncMode.choices, default=SyncMode.UPSERT)
    subject_column = models.CharField(max_length=120, help_text="Column holding the identifier.")
    subject_type = models.CharField(max_length=40, help_text="email, user_id, phone, ...")
    mappings = models.JSONField(default=list, blank=True, help_text='[{"from", "to"}]')
    event_name = models.CharField(max_length=200, blank=True, help_text="Conversions only.")
    audience_field = models.CharField(
        max_length=100, blank=True, help_text="Audiences only: the attribute set true or false."
    )
    schedule = models.CharField(
        max_length=8, choices=ScheduleKind.choices, default=ScheduleKind.MANUAL
    )
    interval_minutes = models.PositiveIntegerField(null=True, blank=True)
    cron = models.CharField(max_length=120, blank=True)
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    is_paused = models.BooleanField(default=False)
    row_threshold = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Runs touching more rows of a production destination need approval "
        "(empty: the console's default).",
    )
    failed_share_alert = models.PositiveSmallIntegerField(
        default=5, help_text="Alert when more than this percentage of sent rows fail."
    )
    approved_mode = models.CharField(max_length=8, blank=True, help_text="Mode last approved.")
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    @property
    def schedule_words(self) -> str:
        """The schedule as a person says it: "every 60 minutes", "At 06:00 (UTC)", "manual"."""
        if self.schedule == ScheduleKind.INTERVAL and self.interval_minutes:
            n = self.interval_minutes
            return f"every {n} minute{'s' if n != 1 else ''}"
        if self.schedule == ScheduleKind.CRON and self.cron:
            from cron_descriptor import Options, get_description

            options = Options()
            options.use_24hour_time_format = True
            try:
                words = get_description(self.cron, options)
            except Exception:  # a stored schedule the describer cannot read
                return self.cron
            return f"{words} ({settings.CELERY_TIMEZONE})"
        return "manual"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    PLANNING = "planning", "Planning"
    NEEDS_APPROVAL = "approval", "Needs approval"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Some rows failed"
    FAILED = "failed", "Failed"
    PLANNED = "planned", "Dry run"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_RUN = (RunStatus.QUEUED, RunStatus.PLANNING, RunStatus.RUNNING)
COUNTS = (
    "added",
    "changed",
    "removed",
    "failed",
    "skipped_consent",
    "skipped_suppression",
    "skipped_mode",
    "unchanged",
)


class SyncRun(models.Model):
    sync = models.ForeignKey(Sync, on_delete=models.CASCADE, related_name="runs")
    number = models.PositiveIntegerField(
        default=0, help_text="The run's place among its sync's runs (1, 2, 3 …): how it is named."
    )
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    dry_run = models.BooleanField(default=False)
    trigger = models.CharField(max_length=10, default="manual")  # manual, schedule, api
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approval_reason = models.CharField(max_length=300, blank=True)
    mode = models.CharField(max_length=8, choices=SyncMode.choices)
    total = models.PositiveIntegerField(null=True, blank=True)
    done = models.PositiveIntegerField(default=0)
    planned = models.JSONField(default=dict, blank=True, help_text="Counts of the dry run.")
    sample = models.JSONField(default=list, blank=True, help_text="Sample rows of the plan.")
    added = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped_consent = models.PositiveIntegerField(default=0)
    skipped_suppression = models.PositiveIntegerField(default=0)
    skipped_mode = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    requests = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["sync", "-created_at"], name="syncs_run_recent")]
        constraints = [
            models.UniqueConstraint(fields=["sync", "number"], name="syncs_run_number"),
        ]

    def __str__(self) -> str:
        return f"{self.sync} run #{self.number}"

    def save(self, *args, **kwargs):
        # The next number of its sync; callers create runs under the sync's row lock.
        if not self.number:
            last = SyncRun.objects.filter(sync_id=self.sync_id).aggregate(n=models.Max("number"))
            self.number = (last["n"] or 0) + 1
        super().save(*args, **kwargs)

    @property
    def sent(self) -> int:
        return self.added + self.changed + self.removed

    @property
    def percent(self) -> int:
        if not self.total:
            return 100 if self.finished_at else 0
        return min(100, round(100 * self.done / self.total))

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_RUN


class SyncRow(models.Model):
    """What the destination last acknowledged for one primary key of a sync's model.

    ``fingerprint`` is a hash of the values sent; it is empty while the row has never been
    acknowledged. A row whose last attempt failed keeps the error and is sent again."""

    id = models.BigAutoField(primary_key=True)
    sync = models.ForeignKey(Sync, on_delete=models.CASCADE, related_name="rows", db_index=False)
    key = models.TextField()
    subject = models.CharField(max_length=400, blank=True)
    fingerprint = models.BinaryField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sync", "key"], name="syncs_row_key")]

    def __str__(self) -> str:
        return f"{self.sync_id}:{self.key}"


class RowOutcome(models.TextChoices):
    FAILED = "failed", "Failed"
    SKIPPED_CONSENT = "skipped_consent", "Skipped: consent"
    SKIPPED_SUPPRESSION = "skipped_suppression", "Skipped: erased"
    SKIPPED_MODE = "skipped_mode", "Skipped: not for this mode"
    REMOVED = "removed", "Removed"


class SyncRunRow(models.Model):
    """A row of a run worth showing: failures with the vendor's message, skips, removals
    (capped per run; the run's counts are exact)."""

    id = models.BigAutoField(primary_key=True)
    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="row_results")
    key = models.TextField()
    outcome = models.CharField(max_length=20, choices=RowOutcome.choices)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return f"{self.run_id}:{self.key} {self.outcome}"
