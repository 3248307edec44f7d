import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


MODELS = (
    "accessassignment",
    "accessrequest",
    "birthrightrule",
    "grant",
    "reviewcampaign",
    "reviewitem",
    "role",
    "rolecapability",
    "training",
    "trainingcompletion",
)


def content_types_follow(apps, schema_editor):
    """Give the moved models' content types the new app label, so the audit events (and the
    permissions) that point at them keep pointing at the same rows."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    taken = ContentType.objects.filter(app_label="access").values_list("model", flat=True)
    ContentType.objects.filter(app_label="accounts", model__in=MODELS).exclude(
        model__in=list(taken)
    ).update(app_label="access")


def content_types_return(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    taken = ContentType.objects.filter(app_label="accounts").values_list("model", flat=True)
    ContentType.objects.filter(app_label="access", model__in=MODELS).exclude(
        model__in=list(taken)
    ).update(app_label="accounts")


class Migration(migrations.Migration):
    """Roles, trainings, grants, requests and reviews move from accounts to their own app.

    Only Django's record of the models moves: the tables keep their names
    (``Meta.db_table``) and their rows, so no SQL runs on them.
    """

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("accounts", "0004_review_exclusions"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Role",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("name", models.CharField(max_length=100, unique=True)),
                        ("description", models.TextField(blank=True)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "owner",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="owned_roles",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "accounts_role",
                        "ordering": ("name",),
                    },
                ),
                migrations.CreateModel(
                    name="ReviewCampaign",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("name", models.CharField(max_length=150)),
                        ("description", models.TextField(blank=True)),
                        ("capabilities", models.JSONField(blank=True, default=list)),
                        ("deadline", models.DateTimeField()),
                        (
                            "unreviewed_policy",
                            models.CharField(
                                choices=[
                                    ("keep", "Keep unreviewed access"),
                                    ("revoke", "Revoke unreviewed access"),
                                ],
                                max_length=10,
                            ),
                        ),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("closed_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "created_by",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "roles",
                            models.ManyToManyField(
                                blank=True, related_name="review_campaigns", to="access.role"
                            ),
                        ),
                    ],
                    options={
                        "db_table": "accounts_reviewcampaign",
                        "ordering": ("-created_at",),
                    },
                ),
                migrations.CreateModel(
                    name="BirthrightRule",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "team",
                            models.CharField(
                                blank=True, help_text="Exact team name, any case.", max_length=100
                            ),
                        ),
                        ("job_title_contains", models.CharField(blank=True, max_length=150)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "role",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="birthright_rules",
                                to="access.role",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "accounts_birthrightrule",
                        "ordering": ("role__name", "team", "job_title_contains"),
                    },
                ),
                migrations.CreateModel(
                    name="AccessRequest",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("capability", models.CharField(blank=True, max_length=100)),
                        ("justification", models.TextField()),
                        ("duration_days", models.PositiveIntegerField()),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("pending", "Pending"),
                                    ("approved", "Approved"),
                                    ("rejected", "Rejected"),
                                    ("cancelled", "Cancelled"),
                                    ("expired", "Expired"),
                                ],
                                default="pending",
                                max_length=20,
                            ),
                        ),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "expires_at",
                            models.DateTimeField(help_text="A pending request lapses here."),
                        ),
                        ("decided_at", models.DateTimeField(blank=True, null=True)),
                        ("decision_note", models.TextField(blank=True)),
                        ("access_ends_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "decided_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "requester",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="access_requests",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "role",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="access_requests",
                                to="access.role",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "accounts_accessrequest",
                        "ordering": ("-created_at",),
                    },
                ),
                migrations.CreateModel(
                    name="AccessAssignment",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("capability", models.CharField(blank=True, max_length=100)),
                        (
                            "source",
                            models.CharField(
                                choices=[
                                    ("explicit", "Assigned"),
                                    ("birthright", "Birthright rule"),
                                    ("request", "Access request"),
                                ],
                                max_length=20,
                            ),
                        ),
                        ("starts_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "ends_at",
                            models.DateTimeField(
                                blank=True, help_text="Time-bound access ends here.", null=True
                            ),
                        ),
                        ("ended_at", models.DateTimeField(blank=True, null=True)),
                        ("end_reason", models.CharField(blank=True, max_length=200)),
                        ("suppressed", models.BooleanField(default=False)),
                        ("excluded_capabilities", models.JSONField(blank=True, default=list)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "assigned_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="assignments",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "access_request",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="access.accessrequest",
                            ),
                        ),
                        (
                            "birthright_rule",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="access.birthrightrule",
                            ),
                        ),
                        (
                            "role",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="assignments",
                                to="access.role",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "accounts_accessassignment",
                        "ordering": ("-created_at",),
                    },
                ),
                migrations.CreateModel(
                    name="Training",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("name", models.CharField(max_length=150, unique=True)),
                        ("description", models.TextField(blank=True)),
                        (
                            "validity_days",
                            models.PositiveIntegerField(
                                blank=True,
                                help_text="Days a completion stays valid. Empty: it never expires.",
                                null=True,
                            ),
                        ),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "owner",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="owned_trainings",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "accounts_training",
                        "ordering": ("name",),
                    },
                ),
                migrations.CreateModel(
                    name="RoleCapability",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("capability", models.CharField(max_length=100)),
                        ("min_tenure_days", models.PositiveIntegerField(default=0)),
                        (
                            "role",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="capability_rules",
                                to="access.role",
                            ),
                        ),
                        (
                            "trainings",
                            models.ManyToManyField(
                                blank=True, related_name="required_by", to="access.training"
                            ),
                        ),
                    ],
                    options={
                        "db_table": "accounts_rolecapability",
                        "ordering": ("capability",),
                    },
                ),
                migrations.CreateModel(
                    name="TrainingCompletion",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("completed_on", models.DateField()),
                        ("expires_on", models.DateField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "recorded_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "training",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="completions",
                                to="access.training",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="training_completions",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "accounts_trainingcompletion",
                        "ordering": ("-completed_on", "-id"),
                    },
                ),
                migrations.CreateModel(
                    name="Grant",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("capability", models.CharField(db_index=True, max_length=100)),
                        ("reason", models.TextField()),
                        ("granted_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("expires_at", models.DateTimeField(blank=True, null=True)),
                        ("revoked_at", models.DateTimeField(blank=True, null=True)),
                        ("revoke_reason", models.CharField(blank=True, max_length=200)),
                        (
                            "assignment",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="grants",
                                to="access.accessassignment",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="grants",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "accounts_grant",
                        "ordering": ("capability", "-granted_at"),
                        "constraints": [
                            models.UniqueConstraint(
                                condition=models.Q(("revoked_at__isnull", True)),
                                fields=("user", "capability", "assignment"),
                                name="grant_one_open_per_source",
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="ReviewItem",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("capabilities", models.JSONField(blank=True, default=list)),
                        (
                            "decision",
                            models.CharField(
                                choices=[
                                    ("pending", "Pending"),
                                    ("keep", "Keep"),
                                    ("revoke", "Revoke"),
                                ],
                                default="pending",
                                max_length=10,
                            ),
                        ),
                        ("decided_at", models.DateTimeField(blank=True, null=True)),
                        ("note", models.TextField(blank=True)),
                        ("by_policy", models.BooleanField(default=False)),
                        (
                            "assignment",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="access.accessassignment",
                            ),
                        ),
                        (
                            "campaign",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="items",
                                to="access.reviewcampaign",
                            ),
                        ),
                        (
                            "decided_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "reviewer",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="review_items",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "accounts_reviewitem",
                        "ordering": ("user__full_name", "id"),
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("campaign", "assignment"), name="review_item_unique"
                            )
                        ],
                    },
                ),
                migrations.AddConstraint(
                    model_name="accessrequest",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("role__isnull", False), ("capability", "")),
                            models.Q(
                                ("role__isnull", True), models.Q(("capability", ""), _negated=True)
                            ),
                            _connector="OR",
                        ),
                        name="request_role_xor_capability",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="accessassignment",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("role__isnull", False), ("capability", "")),
                            models.Q(
                                ("role__isnull", True), models.Q(("capability", ""), _negated=True)
                            ),
                            _connector="OR",
                        ),
                        name="assignment_role_xor_capability",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="accessassignment",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("ended_at__isnull", True), ("source", "explicit")),
                        fields=("user", "role"),
                        name="one_open_explicit_assignment_per_role",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="rolecapability",
                    constraint=models.UniqueConstraint(
                        fields=("role", "capability"), name="role_capability_unique"
                    ),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_follow, content_types_return),
    ]
