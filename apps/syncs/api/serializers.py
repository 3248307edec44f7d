from rest_framework import serializers

from apps.destinations.models import Destination
from martech.common.api import MappingSerializer

from ..models import (
    ScheduleKind,
    SqlModel,
    Sync,
    SyncMode,
    SyncObject,
    SyncRun,
    SyncRunRow,
    Warehouse,
    WarehouseKind,
)


class WarehouseSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=WarehouseKind.choices)
    dsn = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="Write-only; stored encrypted.",
    )
    statement_timeout = serializers.IntegerField(min_value=1, max_value=3600, required=False)

    class Meta:
        model = Warehouse
        fields = [
            "id",
            "name",
            "kind",
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
            "display",
            "last_tested_at",
            "last_test_ok",
            "last_test_message",
            "created_at",
            "updated_at",
        ]


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
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "columns", "created_at", "updated_at"]


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
