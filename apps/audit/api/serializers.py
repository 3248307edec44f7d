from rest_framework import serializers

from apps.audit.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    actor_id = serializers.IntegerField(allow_null=True, read_only=True)
    target_type = serializers.CharField(source="target_label", read_only=True)
    is_system = serializers.BooleanField(read_only=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "occurred_at",
            "actor_id",
            "actor_label",
            "is_system",
            "action",
            "target_type",
            "target_id",
            "target_repr",
            "changes",
            "metadata",
            "request_id",
            "client_request_id",
            "ip_address",
        ]
        read_only_fields = fields
