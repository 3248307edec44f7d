from rest_framework import serializers

from ..choices import ChangeKind, DataCategory, Enforcement, VersionStatus, ViolationKind
from ..models import EventSchema, PropertySpec, SchemaVersion, TrackingPlan, Violation


class PropertySpecSerializer(serializers.ModelSerializer):
    data_category = serializers.ChoiceField(choices=DataCategory.choices, required=False)

    class Meta:
        model = PropertySpec
        fields = ["name", "description", "purpose", "data_category", "personal", "owner"]


class PropertyDetailsSerializer(serializers.Serializer):
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    purpose = serializers.CharField(required=False, allow_blank=True, max_length=200)
    data_category = serializers.ChoiceField(choices=DataCategory.choices, required=False)
    personal = serializers.BooleanField(required=False)
    owner = serializers.CharField(required=False, allow_blank=True, max_length=120)


class VersionSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    schema_name = serializers.CharField(source="schema.name", read_only=True)
    status = serializers.ChoiceField(choices=VersionStatus.choices, read_only=True)
    change_kind = serializers.ChoiceField(
        choices=ChangeKind.choices, read_only=True, allow_blank=True
    )
    fields = PropertySpecSerializer(many=True, read_only=True)

    class Meta:
        model = SchemaVersion
        fields = [
            "id",
            "schema",
            "schema_name",
            "number",
            "status",
            "json_schema",
            "fields",
            "change_kind",
            "changes",
            "notes",
            "created_at",
            "published_at",
            "deprecated_at",
        ]
        read_only_fields = fields


class DraftWriteSerializer(serializers.Serializer):
    json_schema = serializers.JSONField(required=False)
    fields = serializers.DictField(child=PropertyDetailsSerializer(), required=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class ChangeSerializer(serializers.Serializer):
    path = serializers.CharField()
    severity = serializers.ChoiceField(choices=ChangeKind.choices)
    detail = serializers.CharField()


class PreviewSerializer(serializers.Serializer):
    previous = serializers.CharField(allow_null=True)
    number = serializers.CharField()
    kind = serializers.ChoiceField(choices=ChangeKind.choices)
    changes = ChangeSerializer(many=True)
    missing_purposes = serializers.ListField(child=serializers.CharField())
    needs_publish_capability = serializers.BooleanField()


class SourceImpactSerializer(serializers.Serializer):
    source = serializers.CharField()
    checked = serializers.IntegerField()
    failed = serializers.IntegerField()


class PublishImpactSerializer(serializers.Serializer):
    number = serializers.CharField()
    kind = serializers.ChoiceField(choices=ChangeKind.choices)
    days = serializers.IntegerField()
    since = serializers.DateTimeField()
    total = serializers.IntegerField(help_text="Events of this name in the window.")
    checked = serializers.IntegerField(help_text="How many were checked (at most 10,000).")
    failed = serializers.IntegerField(help_text="How many of those fail the draft.")
    sampled = serializers.BooleanField(help_text="More arrived than were checked.")
    sources = SourceImpactSerializer(many=True)


class SchemaSerializer(serializers.ModelSerializer):
    latest = serializers.SerializerMethodField()
    draft = serializers.SerializerMethodField()

    class Meta:
        model = EventSchema
        fields = [
            "id",
            "name",
            "description",
            "owner",
            "latest",
            "draft",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "latest", "draft", "created_at", "updated_at"]

    def get_latest(self, obj) -> str | None:
        if hasattr(obj, "latest_number"):  # annotated by the list selector
            return obj.latest_number
        from ..selectors import latest_published

        version = latest_published(obj)
        return version.number if version else None

    def get_draft(self, obj) -> int | None:
        if hasattr(obj, "draft_id"):
            return obj.draft_id
        from ..selectors import current_draft

        draft = current_draft(obj)
        return draft.pk if draft else None


class SchemaCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    owner = serializers.CharField(required=False, allow_blank=True, default="", max_length=120)
    json_schema = serializers.JSONField(required=False)
    fields = serializers.DictField(child=PropertyDetailsSerializer(), required=False)


class SchemaUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    owner = serializers.CharField(required=False, allow_blank=True, max_length=120)


class ValidateRequestSerializer(serializers.Serializer):
    event = serializers.CharField(max_length=200)
    properties = serializers.JSONField()
    plan = serializers.IntegerField(required=False, min_value=1)
    version = serializers.IntegerField(required=False, min_value=1)
    mode = serializers.ChoiceField(choices=Enforcement.choices, default=Enforcement.ALLOW)


class FindingSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ViolationKind.choices)
    path = serializers.CharField(allow_blank=True)
    message = serializers.CharField()
    sample = serializers.JSONField(allow_null=True)


class ValidateResponseSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    action = serializers.CharField()
    version = serializers.CharField(allow_null=True)
    violations = FindingSerializer(many=True)


class PlanVersionSerializer(serializers.ModelSerializer):
    event = serializers.CharField(source="schema.name")
    number = serializers.CharField()

    class Meta:
        model = SchemaVersion
        fields = ["id", "event", "number", "status"]


class TrackingPlanSerializer(serializers.ModelSerializer):
    versions = PlanVersionSerializer(many=True, read_only=True)

    class Meta:
        model = TrackingPlan
        fields = ["id", "name", "description", "revision", "versions", "created_at", "updated_at"]
        read_only_fields = ["id", "revision", "versions", "created_at", "updated_at"]


class TrackingPlanWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    versions = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=1000
    )


class ImportSerializer(serializers.Serializer):
    file = serializers.FileField()
    name = serializers.CharField(required=False, allow_blank=True, max_length=120)


class ImportResultSerializer(serializers.Serializer):
    plan = TrackingPlanSerializer()
    report = serializers.ListField(child=serializers.CharField())


class ViolationSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=ViolationKind.choices)
    version_number = serializers.SerializerMethodField()

    class Meta:
        model = Violation
        fields = [
            "id",
            "source",
            "event_name",
            "event_ref",
            "plan",
            "version",
            "version_number",
            "kind",
            "path",
            "message",
            "sample",
            "occurred_at",
        ]

    def get_version_number(self, obj) -> str | None:
        return obj.version.number if obj.version_id else None
