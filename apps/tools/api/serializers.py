from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.fields import SkipField
from rest_framework.settings import api_settings

from apps.accounts.models import User
from apps.tools.choices import DataCategory, ToolCapability, ToolStatus
from apps.tools.errors import ToolsErrorCode
from apps.tools.models import Tool
from apps.tools.rules import tool_problems, tool_warnings
from apps.tools.services import FIELDS
from martech.common.api import BoundedDateField
from martech.common.currencies import normalise_currency


class ToolWarningSerializer(serializers.Serializer):
    field = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()


class ToolSerializer(serializers.ModelSerializer):
    """A tool's facts. One request hears every problem: each field's own, and the registry's
    rules (currency, seats, dates, a name already taken) on the fields that passed.
    """

    name = serializers.CharField(max_length=120)
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
    warnings = serializers.SerializerMethodField(
        help_text="What was saved but is worth knowing, e.g. a notice deadline already passed."
    )

    class Meta:
        model = Tool
        fields = [
            "id",
            "name",
            "vendor",
            "category",
            "capabilities",
            "status",
            "business_owner",
            "technical_owner",
            "team",
            "annual_cost",
            "currency",
            "seats_bought",
            "seats_used",
            "seat_utilisation",
            "contract_start",
            "renewal_date",
            "notice_period_days",
            "notice_deadline",
            "auto_renew",
            "data_categories",
            "dpa_on_file",
            "has_deletion_api",
            "notes",
            "warnings",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    @extend_schema_field(ToolWarningSerializer(many=True))
    def get_warnings(self, tool) -> list[dict]:
        facts = {f: getattr(tool, f) for f in FIELDS}
        return ToolWarningSerializer(tool_warnings(facts), many=True).data

    def validate_currency(self, value: str) -> str:
        return normalise_currency(value)

    def _values_that_pass(self, data, failed) -> dict:
        """The validated value of each writable field that has no error of its own."""
        values: dict = {}
        for field in self._writable_fields:
            if field.field_name in failed:
                continue
            try:
                value = field.run_validation(field.get_value(data))
                check = getattr(self, f"validate_{field.field_name}", None)
                if check is not None:
                    value = check(value)
            except (SkipField, serializers.ValidationError, DjangoValidationError):
                continue
            values[field.source] = value  # every field here is a plain column
        return values

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": ["Send the tool as a JSON object."]},
                code=ToolsErrorCode.INVALID,
            )
        try:
            values, errors = super().to_internal_value(data), {}
        except serializers.ValidationError as exc:
            if not isinstance(exc.detail, dict):
                raise
            errors = dict(exc.detail)
            values = self._values_that_pass(data, errors)
        # A change is checked with the facts it leaves as they are (a new tool's defaults).
        base = self.instance if self.instance is not None else Tool()
        facts = {**{f: getattr(base, f) for f in FIELDS if f not in errors}, **values}
        problems = tool_problems(facts, pk=getattr(self.instance, "pk", None))
        if not errors and [p.code for p in problems] == [ToolsErrorCode.TOOL_EXISTS]:
            problems = []  # a name already taken, alone, is the service's conflict (409)
        for problem in problems:
            if problem.field in errors:
                continue
            key = problem.field if problem.field in self.fields else None
            key = key or api_settings.NON_FIELD_ERRORS_KEY
            errors.setdefault(key, []).append(ErrorDetail(problem.message, code=problem.code))
        if errors:
            raise serializers.ValidationError(errors)
        return values


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
    unchanged = serializers.IntegerField()
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
