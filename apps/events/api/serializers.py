from rest_framework import serializers

from apps.schemas.choices import Enforcement
from apps.schemas.models import TrackingPlan

from ..choices import Environment, EventStatus, MessageType, SourceKind
from ..models import Event, Source, WriteKey
from ..services import MAX_OVERLAP_HOURS


class WriteKeySerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True)

    class Meta:
        model = WriteKey
        fields = [
            "id",
            "prefix",
            "status",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_used_at",
        ]
        read_only_fields = fields


class SourceSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=SourceKind.choices, required=False)
    environment = serializers.ChoiceField(choices=Environment.choices, required=False)
    enforcement = serializers.ChoiceField(choices=Enforcement.choices, required=False)
    plan = serializers.PrimaryKeyRelatedField(
        queryset=TrackingPlan.objects.all(), allow_null=True, required=False
    )
    allowed_origins = serializers.ListField(
        child=serializers.CharField(max_length=300), required=False, max_length=50
    )
    rate_limit = serializers.IntegerField(min_value=1, max_value=100_000, required=False)
    write_keys = WriteKeySerializer(many=True, read_only=True)

    class Meta:
        model = Source
        fields = [
            "id",
            "name",
            "kind",
            "environment",
            "description",
            "allowed_origins",
            "plan",
            "enforcement",
            "rate_limit",
            "is_active",
            "write_keys",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "write_keys", "created_at", "updated_at"]


class SourceCreatedSerializer(SourceSerializer):
    write_key = serializers.CharField(read_only=True, help_text="Shown once.")

    class Meta(SourceSerializer.Meta):
        fields = [*SourceSerializer.Meta.fields, "write_key"]


class RotateSerializer(serializers.Serializer):
    overlap_hours = serializers.IntegerField(
        min_value=0, max_value=MAX_OVERLAP_HOURS, required=False
    )


class RotatedSerializer(serializers.Serializer):
    write_key = serializers.CharField(help_text="Shown once.")
    key = WriteKeySerializer()


class RevokeSerializer(serializers.Serializer):
    key = serializers.IntegerField(min_value=1)


class EventSerializer(serializers.ModelSerializer):
    source_name = serializers.CharField(source="source.name", read_only=True)
    type = serializers.ChoiceField(choices=MessageType.choices)
    status = serializers.ChoiceField(choices=EventStatus.choices)

    class Meta:
        model = Event
        fields = [
            "id",
            "source",
            "source_name",
            "message_id",
            "type",
            "name",
            "user_id",
            "anonymous_id",
            "timestamp",
            "received_at",
            "status",
            "violations",
            "consent",
            "profile_id",
            "gpc",
            "attempts",
            "error",
            "processed_at",
            "payload",
        ]
        read_only_fields = fields


class ReplaySerializer(serializers.Serializer):
    events = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=10_000
    )
    source = serializers.IntegerField(min_value=1, required=False)


class ReplayedSerializer(serializers.Serializer):
    replayed = serializers.IntegerField()
