from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.destinations.models import Destination
from martech.common.api import MappingSerializer
from martech.common.errors import ApplicationError

from ..errors import SyncsErrorCode
from ..models import (
    ScheduleKind,
    SqlModel,
    Sync,
    SyncMode,
    SyncObject,
    SyncRun,
    SyncRunRow,
    Warehouse,
)
from ..warehouses import MODULES, engine_for, kinds


def _credentials_schema() -> dict:
    """Every kind's credential fields, as the API documents ``credentials``."""
    properties: dict[str, dict] = {}
    for kind in MODULES:
        engine = engine_for(kind)
        for field in engine.fields:
            entry = properties.setdefault(
                field.name, {"type": "string", "writeOnly": True, "description": ""}
            )
            entry["description"] += (
                f"{engine.label} ({kind}): {field.label}"
                f"{'' if field.required else ', optional'}"
                f"{', secret' if field.secret else ''}. {field.help}".strip()
                + "\n"
            )
    return {
        "type": "object",
        "writeOnly": True,
        "description": "Write-only: the credentials of the warehouse's kind, checked by its "
        "engine and stored encrypted; never returned. On update a secret left out or blank "
        "keeps the one stored. Kinds and what each takes: "
        + "; ".join(
            f"{kind}: {', '.join(f.name for f in engine_for(kind).fields) or 'nothing'}"
            for kind in MODULES
        )
        + ".",
        "properties": properties,
        "additionalProperties": False,
    }


@extend_schema_field(_credentials_schema())
class CredentialsField(serializers.DictField):
    """The credentials object: names to text values."""

    def __init__(self, **kwargs):
        super().__init__(
            child=serializers.CharField(allow_blank=True, max_length=20000, trim_whitespace=False),
            **kwargs,
        )


class KindField(serializers.ChoiceField):
    """A kind some engine serves; any other is ``invalid_kind``, naming the kinds."""

    def to_internal_value(self, data):
        if not isinstance(data, str) or data not in self.choices:
            raise ApplicationError(
                f"Kind is one of {', '.join(self.choices)}.",
                code=SyncsErrorCode.INVALID_KIND,
                details={"field": "kind"},
            )
        return data


class WarehouseSerializer(serializers.ModelSerializer):
    kind = KindField(choices=[])
    kind_label = serializers.CharField(read_only=True)
    credentials = CredentialsField(write_only=True, required=False)
    dsn = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text='Write-only shorthand for credentials {"dsn": …} (postgres, redshift).',
    )
    statement_timeout = serializers.IntegerField(min_value=1, max_value=3600, required=False)

    class Meta:
        model = Warehouse
        fields = [
            "id",
            "name",
            "kind",
            "kind_label",
            "credentials",
            "dsn",
            "display",
            "statement_timeout",
            "description",
            "last_tested_at",
            "last_test_ok",
            "last_test_message",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "kind_label",
            "display",
            "last_tested_at",
            "last_test_ok",
            "last_test_message",
            "created_at",
            "updated_at",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds()  # the engines registered now


class WarehouseTestedSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    message = serializers.CharField()


class SqlModelSerializer(serializers.ModelSerializer):
    warehouse = serializers.PrimaryKeyRelatedField(queryset=Warehouse.objects.all())
    sql = serializers.CharField(max_length=100_000)

    class Meta:
        model = SqlModel
        fields = [
            "id",
            "name",
            "warehouse",
            "sql",
            "primary_key",
            "description",
            "columns",
            "dbt_unique_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "columns", "dbt_unique_id", "created_at", "updated_at"]


class ColumnSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField()


class ModelPreviewSerializer(serializers.Serializer):
    columns = ColumnSerializer(many=True)
    rows = serializers.ListField(child=serializers.ListField(child=serializers.JSONField()))


class KeyCheckSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    nulls = serializers.IntegerField()
    duplicates = serializers.ListField(child=serializers.ListField(child=serializers.JSONField()))
    ok = serializers.BooleanField()


class SyncSerializer(serializers.ModelSerializer):
    model = serializers.PrimaryKeyRelatedField(queryset=SqlModel.objects.all())
    destination = serializers.PrimaryKeyRelatedField(queryset=Destination.objects.all())
    object = serializers.ChoiceField(choices=SyncObject.choices)
    mode = serializers.ChoiceField(choices=SyncMode.choices, required=False)
    schedule = serializers.ChoiceField(choices=ScheduleKind.choices, required=False)
    mappings = MappingSerializer(many=True, required=False)
    last_run = serializers.SerializerMethodField()

    class Meta:
        model = Sync
        fields = [
            "id",
            "name",
            "model",
            "destination",
            "object",
            "mode",
            "subject_column",
            "subject_type",
            "mappings",
            "event_name",
            "audience_field",
            "schedule",
            "interval_minutes",
            "cron",
            "row_threshold",
            "failed_share_alert",
            "description",
            "is_paused",
            "last_run",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "is_paused", "last_run", "created_at", "updated_at"]

    def get_last_run(self, sync) -> int | None:
        if hasattr(sync, "last_run_id"):  # annotated by the selector: no query per sync
            return sync.last_run_id
        run = sync.runs.filter(dry_run=False).order_by("-created_at").first()
        return run.pk if run else None


class SyncRunSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = SyncRun
        fields = [
            "id",
            "number",
            "sync",
            "status",
            "dry_run",
            "trigger",
            "mode",
            "requested_by",
            "approved_by",
            "approval_reason",
            "total",
            "done",
            "percent",
            "planned",
            "sample",
            "added",
            "changed",
            "removed",
            "failed",
            "skipped_consent",
            "skipped_suppression",
            "skipped_mode",
            "unchanged",
            "requests",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class SyncRunRowSerializer(serializers.ModelSerializer):
    class Meta:
        model = SyncRunRow
        fields = ["key", "outcome", "message"]
        read_only_fields = fields


class RunRequestSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField(default=False)


class DbtColumnSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()


class DbtModelSerializer(serializers.Serializer):
    unique_id = serializers.CharField()
    name = serializers.CharField()
    relation = serializers.CharField()
    description = serializers.CharField()
    owner = serializers.CharField()
    columns = DbtColumnSerializer(many=True)
    primary_key = serializers.CharField(help_text="A column with unique and not_null tests.")
    model = serializers.IntegerField(
        allow_null=True, help_text="The console model made from it, if any."
    )


class DbtManifestSerializer(serializers.Serializer):
    dbt_version = serializers.CharField()
    generated_at = serializers.CharField()
    imported_at = serializers.DateTimeField()
    models = DbtModelSerializer(many=True)


class ModelFromDbtSerializer(serializers.Serializer):
    warehouse = serializers.PrimaryKeyRelatedField(queryset=Warehouse.objects.all())
    unique_id = serializers.CharField(max_length=400)
    name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    primary_key = serializers.CharField(
        max_length=120,
        required=False,
        allow_blank=True,
        help_text="Left out: the column dbt tests as unique and not_null.",
    )


class DbtRunResultSerializer(serializers.Serializer):
    unique_id = serializers.CharField(max_length=400)
    status = serializers.CharField(max_length=40)


class DbtRunSerializer(serializers.Serializer):
    unique_ids = serializers.ListField(
        child=serializers.CharField(max_length=400),
        max_length=10_000,
        required=False,
        help_text="The dbt models the run built (model.project.name).",
    )
    results = DbtRunResultSerializer(
        many=True,
        required=False,
        max_length=10_000,
        help_text="Or the results of dbt's run_results.json: those with status success count.",
    )
    warehouse = serializers.PrimaryKeyRelatedField(
        queryset=Warehouse.objects.all(), required=False, help_text="Only this warehouse's models."
    )

    def validate(self, attrs):
        if "unique_ids" not in attrs and "results" not in attrs:
            raise serializers.ValidationError(
                {"unique_ids": "Name the dbt models the run built, or give its results."}
            )
        built = list(attrs.pop("unique_ids", []))
        built += [r["unique_id"] for r in attrs.pop("results", []) if r["status"] == "success"]
        attrs["unique_ids"] = built
        return attrs


class DbtRunSkippedSerializer(serializers.Serializer):
    sync = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()


class DbtRunStartedSerializer(serializers.Serializer):
    runs = SyncRunSerializer(many=True)
    skipped = DbtRunSkippedSerializer(many=True)
