from rest_framework import serializers

from ..models import SqlModel, Warehouse, WarehouseKind


class WarehouseSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=WarehouseKind.choices)
    dsn = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=2000,
        help_text="Write-only; stored encrypted.",
    )  # fmt: skip
    statement_timeout = serializers.IntegerField(min_value=1, max_value=3600, required=False)

    class Meta:
        model = Warehouse
        fields = ["id", "name", "kind", "dsn", "display", "statement_timeout", "description",
                  "last_tested_at", "last_test_ok", "last_test_message", "created_at",
                  "updated_at"]  # fmt: skip
        read_only_fields = ["id", "display", "last_tested_at", "last_test_ok",
                            "last_test_message", "created_at", "updated_at"]  # fmt: skip


class WarehouseTestedSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    message = serializers.CharField()


class SqlModelSerializer(serializers.ModelSerializer):
    warehouse = serializers.PrimaryKeyRelatedField(queryset=Warehouse.objects.all())
    sql = serializers.CharField(max_length=100_000)

    class Meta:
        model = SqlModel
        fields = ["id", "name", "warehouse", "sql", "primary_key", "description", "columns",
                  "created_at", "updated_at"]  # fmt: skip
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
