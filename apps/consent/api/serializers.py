from rest_framework import serializers

from apps.consent.choices import Jurisdiction, LegalBasis, Source
from apps.consent.models import ConsentRecord, Purpose


class PurposeSerializer(serializers.ModelSerializer):
    legal_basis = serializers.ChoiceField(choices=LegalBasis.choices)

    class Meta:
        model = Purpose
        fields = [
            "id",
            "code",
            "name",
            "description",
            "legal_basis",
            "default_gdpr",
            "default_ccpa",
            "default_other",
            "position",
            "is_active",
        ]
        read_only_fields = ["id"]
        extra_kwargs = {"code": {"validators": []}}


class ConsentRecordSerializer(serializers.ModelSerializer):
    subject = serializers.CharField(read_only=True)
    purpose = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = ConsentRecord
        fields = [
            "id",
            "subject",
            "purpose",
            "granted",
            "source",
            "notice_version",
            "jurisdiction",
            "evidence",
            "occurred_at",
            "received_at",
            "recorded_by",
            "via",
        ]
        read_only_fields = fields


class ConsentRecordCreateSerializer(serializers.Serializer):
    identifier = serializers.CharField(max_length=400, help_text="type:value")
    purpose = serializers.CharField(max_length=40)
    granted = serializers.BooleanField()
    source = serializers.ChoiceField(
        choices=[c for c in Source.choices if c[0] != Source.CONSOLE], default=Source.API
    )
    jurisdiction = serializers.ChoiceField(choices=Jurisdiction.choices)
    notice_version = serializers.CharField(
        max_length=40, required=False, default="", allow_blank=True
    )
    evidence = serializers.DictField(required=False, default=dict)
    occurred_at = serializers.DateTimeField(required=False)


class PurposeStateSerializer(serializers.Serializer):
    purpose = serializers.CharField(source="purpose.code")
    granted = serializers.BooleanField()
    default = serializers.SerializerMethodField()
    reason = serializers.CharField()
    record = serializers.IntegerField(source="record.pk", allow_null=True, default=None)

    def get_default(self, obj) -> bool:
        return obj.record is None


class ConsentStateSerializer(serializers.Serializer):
    subject = serializers.CharField()
    identifiers = serializers.ListField(child=serializers.CharField())
    jurisdiction = serializers.CharField()
    purposes = PurposeStateSerializer(many=True)
