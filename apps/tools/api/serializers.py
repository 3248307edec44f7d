from rest_framework import serializers

from apps.accounts.api.serializers import BoundedDateField
from apps.accounts.models import User
from apps.tools.choices import DataCategory, ToolCapability, ToolStatus
from apps.tools.models import Tool


class ToolSerializer(serializers.ModelSerializer):
    capabilities = serializers.ListField(
        child=serializers.ChoiceField(choices=ToolCapability.choices), required=False
    )
    data_categories = serializers.ListField(
        child=serializers.ChoiceField(choices=DataCategory.choices), required=False
    )
    status = serializers.ChoiceField(choices=ToolStatus.choices, required=False)
    business_owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), allow_null=True, required=False
    )
    technical_owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), allow_null=True, required=False
    )
    annual_cost = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False
    )
    seats_bought = serializers.IntegerField(
        min_value=0, max_value=10_000_000, allow_null=True, required=False
    )
    seats_used = serializers.IntegerField(
        min_value=0, max_value=10_000_000, allow_null=True, required=False
    )
    notice_period_days = serializers.IntegerField(min_value=0, max_value=730, required=False)
    contract_start = BoundedDateField(allow_null=True, required=False)
    renewal_date = BoundedDateField(allow_null=True, required=False)
    notice_deadline = serializers.DateField(read_only=True, allow_null=True)
    seat_utilisation = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = Tool
        fields = [
            "id", "name", "vendor", "category", "capabilities", "status", "business_owner",
            "technical_owner", "team", "annual_cost", "currency", "seats_bought", "seats_used",
            "seat_utilisation", "contract_start", "renewal_date", "notice_period_days",
            "notice_deadline", "auto_renew", "data_categories", "dpa_on_file",
            "has_deletion_api", "notes", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "created_at", "updated_at"]


class ToolBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tool
        fields = ["id", "name", "vendor", "status", "annual_cost", "currency"]


class OverlapGroupSerializer(serializers.Serializer):
    capability = serializers.CharField()
    label = serializers.CharField()
    tools = ToolBriefSerializer(many=True)
    annual_cost = serializers.DictField(
        child=serializers.DecimalField(max_digits=14, decimal_places=2)
    )
    seats_bought = serializers.IntegerField()
    seats_used = serializers.IntegerField()
    seat_utilisation = serializers.FloatField(allow_null=True)
    keep = ToolBriefSerializer()
    suggestion = serializers.CharField()


class InventoryImportSerializer(serializers.Serializer):
    csv = serializers.CharField(
        max_length=2 * 1024 * 1024,
        trim_whitespace=False,
        help_text="The inventory as CSV text with a header row (the columns of an export).",
    )


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Line in the file; the header is line 1.")
    name = serializers.CharField()
    field = serializers.CharField()
    message = serializers.CharField()


class InventoryReportSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    errors = RowErrorSerializer(many=True)


class SituationSerializer(serializers.Serializer):
    monthly_active_users = serializers.IntegerField(min_value=0, max_value=10_000_000_000)
    events_per_month = serializers.IntegerField(min_value=0, max_value=10**13)
    destinations = serializers.IntegerField(min_value=0, max_value=500)
    engineers = serializers.IntegerField(min_value=0, max_value=10_000)
    real_time = serializers.BooleanField(default=False)
    regulated_multi_region = serializers.BooleanField(default=False)


class AdviceSerializer(serializers.Serializer):
    pattern = serializers.CharField()
    label = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())
    current_pattern = serializers.CharField()
    current_label = serializers.CharField()
    current_tools = serializers.ListField(child=serializers.CharField())
    matches_today = serializers.BooleanField()
